// The DynamoDB half of a backup. Backing up: each table's description (keys, indexes,
// billing) goes into the manifest, and its items - read by a parallel Scan - into one object
// of DynamoDB-JSON lines. Restoring: a plan first (target names, what exists, what would be
// created or overwritten), then CreateTable where needed and BatchWriteItem in groups of 25,
// sending unprocessed and throttled items again with backoff until every one is written.
#pragma once

#include "archive/manifest.hpp"
#include "aws/dynamodb_client.hpp"
#include "backup/object_io.hpp"
#include "retry_policy.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pgmig::backup {

// Progress: plaintext bytes so far.
using ByteProgress = std::function<void(uint64_t)>;

struct DynamoBackupOptions {
    std::vector<std::string> tables;  // --dynamodb-table
    int segments = 4;                 // parallel Scan segments (and threads) per table
    bool consistent_read = false;     // --consistent-read
};

// Writes one object per table under `<backup_id>/ddb/` and returns what the manifest records
// (region and endpoint from the environment, as the requests used them).
archive::DynamoSource backup_dynamodb(const DynamoBackupOptions &opts, store::Store &store,
                                      const std::string &backup_id, const archive::BackupKey &key,
                                      int zstd_level, const ByteProgress &progress);

struct DynamoRestoreOptions {
    std::vector<std::string> tables;            // names in the backup; empty = every table
    std::map<std::string, std::string> rename;  // backup name -> target name
    bool dry_run = false;
    int writers = 4;  // BatchWriteItem threads per table
};

struct DynamoRestoreStep {
    std::string table;   // name in the backup
    std::string target;  // name it is restored as
    bool target_exists = false;
    uint64_t backup_items = 0;
    std::string action;  // what the restore does, or "cannot restore: why"
    uint64_t restored_items = 0;
};

struct DynamoRestorePlan {
    std::string region;
    std::string endpoint;  // the URL requests go to
    std::vector<DynamoRestoreStep> steps;
};

// A DynamoDB restore in three steps, so that a restore of PostgreSQL and DynamoDB tables
// can check and stage everything before it changes either. Writes to DynamoDB cannot be
// undone, so nothing is written from an object that has not been authenticated, hashed and
// counted in full first.
class DynamoRestore {
  public:
    // Plans: target names, what exists, what would be created or overwritten. Throws
    // RefusedBySafetyCheck (unless dry_run), before changing anything, when a target table
    // exists with another key schema or is not ACTIVE.
    DynamoRestore(const DynamoRestoreOptions &opts, const archive::Manifest &manifest,
                  store::Store &store, const archive::BackupKey &key);
    ~DynamoRestore();
    const DynamoRestorePlan &plan() const { return plan_; }
    // Downloads every chosen object once into a private temporary file (stored bytes, still
    // encrypted) and checks it in full: every chunk, bound to its place, the SHA-256, and
    // every line an item, as many as the manifest says. Throws ArchiveError naming the
    // object; nothing is written then. Does nothing in a dry run.
    void stage();
    // Stages (if not yet done), then creates missing tables and loads every item. A load that
    // cannot write every item throws, saying how many were not written. A dry run returns
    // the plan.
    DynamoRestorePlan load(const ByteProgress &progress);

  private:
    DynamoRestoreOptions opts_;
    const archive::Manifest &manifest_;
    store::Store &store_;
    archive::BackupKey key_;
    aws::DynamoConfig config_;
    DynamoRestorePlan plan_;
    std::vector<const archive::DynamoTable *> chosen_;
    std::vector<nlohmann::json> create_requests_;
    std::vector<std::unique_ptr<StagedObject>> staged_;
};

// Plan, stage and load in one call.
DynamoRestorePlan restore_dynamodb(const DynamoRestoreOptions &opts,
                                   const archive::Manifest &manifest, store::Store &store,
                                   const archive::BackupKey &key, const ByteProgress &progress);

// --- The pure parts, unit-tested without a server.

// The part of a DescribeTable "Table" a restore needs, and nothing else: KeySchema,
// AttributeDefinitions, BillingMode, ProvisionedThroughput units (provisioned tables),
// GlobalSecondaryIndexes and LocalSecondaryIndexes (IndexName, KeySchema, Projection, and
// units for GSIs of provisioned tables). Timestamps, counters, sizes, ARNs and statuses are
// left out: the manifest's MAC needs one serialization, so no floating-point number and
// nothing that changes by itself may enter it. Throws std::runtime_error naming the table
// when the description has no usable key schema.
nlohmann::json sanitize_table_description(const std::string &table,
                                          const nlohmann::json &described);

// The CreateTable request that rebuilds a table from a sanitized description under
// `target`. Throws archive::ArchiveError naming the field when the description is not one
// (the manifest is authenticated, but a later release may have written fields we lack).
nlohmann::json create_table_request(const nlohmann::json &description, const std::string &source,
                                    const std::string &target);

// Why items of a table with the backup's key cannot go into the live table (another key
// attribute, key type or attribute type), or "" when the keys agree.
std::string key_schema_difference(const nlohmann::json &backup_description,
                                  const nlohmann::json &live_description);

// A BatchWriteItem body putting `items` (DynamoDB-JSON objects, compact) into `table`.
std::string batch_write_request(const std::string &table, const std::vector<std::string> &items);

// The items of a BatchWriteItem response's UnprocessedItems, compact, to be sent again.
// Throws std::runtime_error when the response is not JSON or names another table or request
// kind.
std::vector<std::string> unprocessed_put_items(const std::string &response_body,
                                               const std::string &table);

// OLD=NEW arguments of --rename-dynamodb. Throws UsageError for a malformed one, an invalid
// table name, or a table renamed twice.
std::map<std::string, std::string> parse_dynamodb_renames(const std::vector<std::string> &args);

// DynamoDB's rule: 3 to 255 of [A-Za-z0-9_.-].
bool is_dynamodb_table_name(const std::string &name);

// What one BatchWriteItem attempt did.
struct BatchAttempt {
    bool failed = false;                   // no response, or an error response: nothing written
    aws::DynamoErrorInfo error;            // why, when failed
    std::vector<std::string> unprocessed;  // items not written, when not failed
};
using BatchSender = std::function<BatchAttempt(const std::vector<std::string> &items)>;

// Items waiting to be written to one table, sent 25 at a time. Unprocessed items and the
// whole batch of a throttled or failed attempt go back to the front of the queue: an item
// leaves the queue only when DynamoDB has written it. Each attempt that leaves something
// unwritten backs off longer (pgm::backoff_delay_ms, reset by a complete one); after more
// than policy.max_retries attempts in a row that write nothing, or a non-retryable error,
// add()/flush() throw aws::DynamoError and the items stay counted as not written.
class BatchWriteQueue {
  public:
    static constexpr size_t kBatchSize = 25;  // BatchWriteItem's limit

    BatchWriteQueue(std::string table, pgm::RetryPolicy policy, BatchSender send,
                    std::function<void(int ms)> sleep, std::function<double()> unit_random);
    // Queues an item; sends a batch whenever 25 are waiting.
    void add(std::string item);
    // Sends until nothing waits.
    void flush();
    uint64_t written() const { return written_; }
    size_t pending() const { return pending_.size(); }

  private:
    void send_batch();

    std::string table_;
    pgm::RetryPolicy policy_;
    BatchSender send_;
    std::function<void(int)> sleep_;
    std::function<double()> unit_random_;
    std::deque<std::string> pending_;
    uint64_t written_ = 0;
    int incomplete_streak_ = 0;  // attempts in a row that left something unwritten
    int stalled_streak_ = 0;     // attempts in a row that wrote nothing
};

}  // namespace pgmig::backup
