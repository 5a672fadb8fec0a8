// The backups in a store: creating one (objects first, the sealed manifest last), listing,
// verifying (every object re-read, authenticated, hashed and counted) and pruning.
#pragma once

#include "archive/manifest.hpp"
#include "backup/backup_key_source.hpp"
#include "backup/dynamodb_backup.hpp"
#include "backup/pg_backup.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgmig::backup {

struct CreateOptions {
    std::optional<PgBackupOptions> postgres;      // nothing: no PostgreSQL tables
    std::optional<DynamoBackupOptions> dynamodb;  // nothing: no DynamoDB tables
    std::string label;
    int zstd_level = 3;
};

// Returns the sealed manifest of the new backup.
archive::Manifest create_backup(const CreateOptions &opts, store::Store &store,
                                const KeySource &keys, const ByteProgress &progress);

// "20261122T035900Z-1a2b3c": the time now and 24 random bits.
std::string new_backup_id();

struct BackupSummary {
    std::string id;
    bool complete = false;       // has a manifest
    bool authenticated = false;  // the manifest's MAC checked out under the key
    std::string problem;         // why not, when not
    std::optional<archive::Manifest> manifest;
    std::string verified_at;  // last successful verify, empty if never
    // An object the manifest names that is missing, or has another size in the store, now:
    // what the listing alone can tell (a changed byte needs verify).
    std::string damage;
    uint64_t stored_bytes = 0;  // sum of the folder's objects in the store
};

// "verified 2026-11-22 04:07Z" (when the last verify passed: not a statement about now),
// "not verified", "damaged (verified 2026-11-22 04:07Z, changed since)", "incomplete",
// "unauthenticated".
std::string state_text(const BackupSummary &b);

// Every backup folder in the store, oldest first. Incomplete ones (no manifest: a failed or
// running backup) are listed too, with complete = false.
std::vector<BackupSummary> list_backups(store::Store &store, const KeySource &keys);

// Opens and authenticates one backup's manifest.
archive::Manifest open_backup(store::Store &store, const std::string &id, const KeySource &keys,
                              archive::BackupKey &key_out);

struct VerifyResult {
    std::string id;
    uint64_t objects = 0;
    uint64_t rows = 0;
    uint64_t stored_bytes = 0;
};

// Re-reads every object; throws ArchiveError naming the first bad object and why. On
// success records the verification in the backup's folder (verified.json, authenticated).
VerifyResult verify_backup(store::Store &store, const std::string &id, const KeySource &keys,
                           const ByteProgress &progress);

struct PruneDecision {
    std::string id;
    bool keep = false;
    std::string reason;
    uint64_t objects = 0;
};

struct PruneOptions {
    int keep_last = 0;
    int keep_days = 0;
    bool dry_run = false;
    int leftover_hours = 24;  // incomplete backups younger than this may still be running
};

// An upload that was never finished (an S3 multipart upload, a local temporary file) that
// prune removed (or would remove), being older than leftover_hours.
struct AbandonedUploadDecision {
    std::string key;
    std::string started_at;
    bool removed = false;
    std::string problem;  // why it could not be removed (or listed)
};

// Decides, then (unless dry_run) deletes: for each backup, its data objects first and its
// manifest last, so an interrupted prune never leaves a manifest naming missing objects.
std::vector<PruneDecision> prune_backups(store::Store &store, const KeySource &keys,
                                         const PruneOptions &opts);

// Removes (unless dry_run) the store's unfinished uploads older than leftover_hours: the
// parts of an S3 multipart upload whose writer was killed stay (and are billed) until they
// are aborted. Younger ones may belong to a backup still running and are left alone.
std::vector<AbandonedUploadDecision> prune_abandoned_uploads(store::Store &store,
                                                             const PruneOptions &opts);

// The decision alone (pure): `backups` oldest first; `now_id` is new_backup_id()'s time part
// format ("YYYYMMDDTHHMMSSZ") for the current time.
std::vector<PruneDecision> decide_prune(const std::vector<BackupSummary> &backups,
                                        const PruneOptions &opts, const std::string &now_id);

}  // namespace pgmig::backup
