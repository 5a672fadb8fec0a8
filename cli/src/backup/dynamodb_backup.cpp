#include "backup/dynamodb_backup.hpp"

#include "backup/object_io.hpp"
#include "exit_code.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace pgmig::backup {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const json *member(const json &object, const char *name) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
}

std::string string_member(const json &object, const char *name) {
    const json *value = member(object, name);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

// --- sanitizing: copy only named fields of known types, so nothing else can slip in.

json sanitized_key_schema(const json *key_schema) {
    json out = json::array();
    if (key_schema == nullptr || !key_schema->is_array()) return out;
    for (const auto &k : *key_schema)
        out.push_back({{"AttributeName", string_member(k, "AttributeName")},
                       {"KeyType", string_member(k, "KeyType")}});
    return out;
}

json sanitized_projection(const json *projection) {
    json out = json::object();
    if (projection == nullptr) return out;
    out["ProjectionType"] = string_member(*projection, "ProjectionType");
    const json *non_key = member(*projection, "NonKeyAttributes");
    if (non_key != nullptr && non_key->is_array() && !non_key->empty()) {
        json names = json::array();
        for (const auto &n : *non_key)
            if (n.is_string()) names.push_back(n);
        out["NonKeyAttributes"] = names;
    }
    return out;
}

// Read and write units, when both are whole numbers (the rest of ProvisionedThroughput is
// timestamps and counters).
std::optional<json> sanitized_units(const json *throughput) {
    if (throughput == nullptr) return std::nullopt;
    const json *read = member(*throughput, "ReadCapacityUnits");
    const json *write = member(*throughput, "WriteCapacityUnits");
    if (read == nullptr || write == nullptr || !read->is_number_unsigned() ||
        !write->is_number_unsigned())
        return std::nullopt;
    return json{{"ReadCapacityUnits", read->get<uint64_t>()},
                {"WriteCapacityUnits", write->get<uint64_t>()}};
}

// --- checking a description from a manifest before it becomes a CreateTable request.

class DescriptionChecker {
  public:
    explicit DescriptionChecker(std::string table) : table_(std::move(table)) {}

    [[noreturn]] void bad(const std::string &field, const std::string &what) const {
        throw archive::ArchiveError("manifest: DynamoDB table " + table_ + ": description." +
                                    field + " " + what);
    }

    static std::string sub(const std::string &field, const char *key) {
        return field.empty() ? std::string(key) : field + "." + key;
    }

    std::string name(const json &object, const std::string &field, const char *key) const {
        const json *value = member(object, key);
        if (value == nullptr || !value->is_string() || value->get<std::string>().empty() ||
            value->get<std::string>().size() > 255)
            bad(sub(field, key), "must be a name (a string of 1 to 255 characters)");
        return value->get<std::string>();
    }

    std::string one_of(const json &object, const std::string &field, const char *key,
                       std::initializer_list<const char *> allowed) const {
        const std::string value = string_member(object, key);
        std::string list;
        for (const char *a : allowed) {
            if (value == a) return value;
            list += std::string(list.empty() ? "" : ", ") + a;
        }
        bad(sub(field, key), "must be one of " + list);
    }

    // [{AttributeName, KeyType: HASH}] or [.. HASH, .. RANGE]; `keys` collects the names.
    json key_schema(const json *value, const std::string &field,
                    std::vector<std::string> &keys) const {
        if (value == nullptr || !value->is_array() || value->empty() || value->size() > 2)
            bad(field, "must be an array of one or two key elements");
        json out = json::array();
        for (size_t i = 0; i < value->size(); ++i) {
            const std::string f = field + "[" + std::to_string(i) + "]";
            const std::string attribute = name((*value)[i], f, "AttributeName");
            const std::string type = one_of((*value)[i], f, "KeyType", {"HASH", "RANGE"});
            if ((i == 0) != (type == "HASH"))
                bad(f + ".KeyType", "must be HASH for the first element and RANGE for the second");
            keys.push_back(attribute);
            out.push_back({{"AttributeName", attribute}, {"KeyType", type}});
        }
        return out;
    }

    json projection(const json *value, const std::string &field) const {
        if (value == nullptr || !value->is_object()) bad(field, "must be an object");
        json out = {{"ProjectionType",
                     one_of(*value, field, "ProjectionType", {"ALL", "KEYS_ONLY", "INCLUDE"})}};
        if (const json *non_key = member(*value, "NonKeyAttributes")) {
            if (!non_key->is_array()) bad(field + ".NonKeyAttributes", "must be an array");
            json names = json::array();
            for (size_t i = 0; i < non_key->size(); ++i) {
                const json &n = (*non_key)[i];
                if (!n.is_string() || n.get<std::string>().empty())
                    bad(field + ".NonKeyAttributes[" + std::to_string(i) + "]",
                        "must be an attribute name");
                names.push_back(n);
            }
            out["NonKeyAttributes"] = names;
        }
        return out;
    }

    json units(const json *value, const std::string &field) const {
        if (value == nullptr || !value->is_object()) bad(field, "must be an object");
        json out = json::object();
        for (const char *key : {"ReadCapacityUnits", "WriteCapacityUnits"}) {
            const json *n = member(*value, key);
            if (n == nullptr || !n->is_number_unsigned() || n->get<uint64_t>() < 1 ||
                n->get<uint64_t>() > 1000000000)
                bad(sub(field, key), "must be a whole number of at least 1");
            out[key] = n->get<uint64_t>();
        }
        return out;
    }

  private:
    std::string table_;
};

// "HASH id (S), RANGE ts (N)": a key schema with its attribute types, for comparing and for
// messages.
std::string key_text(const json &description) {
    std::string text;
    const json *key_schema = member(description, "KeySchema");
    const json *definitions = member(description, "AttributeDefinitions");
    if (key_schema == nullptr || !key_schema->is_array()) return "(none)";
    std::vector<std::pair<std::string, std::string>> elements;  // key type, "name (type)"
    for (const auto &k : *key_schema) {
        const std::string attribute = string_member(k, "AttributeName");
        std::string type = "?";
        if (definitions != nullptr && definitions->is_array())
            for (const auto &d : *definitions)
                if (string_member(d, "AttributeName") == attribute)
                    type = string_member(d, "AttributeType");
        elements.emplace_back(string_member(k, "KeyType"), attribute + " (" + type + ")");
    }
    // HASH before RANGE, whatever order the service listed them in.
    std::stable_sort(elements.begin(), elements.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    for (const auto &[type, element] : elements)
        text += (text.empty() ? "" : ", ") + type + " " + element;
    return text.empty() ? "(none)" : text;
}

template <typename Json>
Json parse_response(const std::string &operation, const std::string &table,
                    const std::string &body) {
    try {
        return Json::parse(body);
    } catch (const nlohmann::json::exception &e) {
        throw std::runtime_error("DynamoDB " + operation + " on table " + table +
                                 " answered with something that is not JSON: " + e.what());
    }
}

std::string object_name(size_t index) {
    char name[32];
    std::snprintf(name, sizeof name, "ddb/%04zu.obj", index + 1);
    return name;
}

// Items of one Scan segment's pages, appended to the table's object (shared by every
// segment; the writer is serialized by `mutex`). At most one page per segment is in memory.
struct SharedObject {
    StoredObjectWriter *out = nullptr;
    std::mutex mutex;
    uint64_t items = 0;
    uint64_t *bytes = nullptr;  // every table's plaintext so far, for progress
    const ByteProgress *progress = nullptr;
};

void scan_segment(const aws::DynamoConfig &config, const std::string &table, int segment,
                  const DynamoBackupOptions &opts, SharedObject &object,
                  const std::atomic<bool> &stop) {
    aws::DynamoClient client(config);
    ordered_json request = {{"TableName", table}};
    if (opts.segments > 1) {
        request["Segment"] = segment;
        request["TotalSegments"] = opts.segments;
    }
    if (opts.consistent_read) request["ConsistentRead"] = true;
    std::string lines;
    for (;;) {
        if (stop) return;
        const auto page =
            parse_response<ordered_json>("Scan", table, client.call("Scan", table, request.dump()));
        const auto items = page.find("Items");
        if (items == page.end() || !items->is_array())
            throw std::runtime_error("DynamoDB Scan on table " + table +
                                     " answered without an Items array");
        lines.clear();
        // The item exactly as Scan returned it (attribute order kept), one per line; compact
        // JSON escapes every control character, so an item never spans two lines.
        for (const auto &item : *items) {
            if (!item.is_object())
                throw std::runtime_error("DynamoDB Scan on table " + table +
                                         " answered with an item that is not an object");
            lines += item.dump();
            lines += '\n';
        }
        {
            std::lock_guard<std::mutex> lock(object.mutex);
            object.out->write(lines.data(), lines.size());
            object.items += items->size();
            *object.bytes += lines.size();
            if (*object.progress) (*object.progress)(*object.bytes);
        }
        const auto last = page.find("LastEvaluatedKey");
        if (last == page.end() || last->is_null() || last->empty()) return;
        request["ExclusiveStartKey"] = *last;
    }
}

// A bounded hand-over of items from the thread reading the object to the writers, so a table
// never sits in memory whole.
class ItemChannel {
  public:
    explicit ItemChannel(size_t max_bytes) : max_bytes_(max_bytes) {}

    // False when the channel was aborted (a writer failed).
    bool push(std::string item) {
        std::unique_lock<std::mutex> lock(mutex_);
        not_full_.wait(
            lock, [&] { return aborted_ || bytes_ == 0 || bytes_ + item.size() <= max_bytes_; });
        if (aborted_) return false;
        bytes_ += item.size();
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return true;
    }

    // False when everything was taken and the input is closed, or the channel was aborted.
    bool pop(std::string &item) {
        std::unique_lock<std::mutex> lock(mutex_);
        not_empty_.wait(lock, [&] { return aborted_ || closed_ || !items_.empty(); });
        if (aborted_ || items_.empty()) return false;
        item = std::move(items_.front());
        items_.pop_front();
        bytes_ -= item.size();
        not_full_.notify_one();
        return true;
    }

    void close_input() {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        not_empty_.notify_all();
    }

    void abort() {
        std::lock_guard<std::mutex> lock(mutex_);
        aborted_ = true;
        not_empty_.notify_all();
        not_full_.notify_all();
    }

    bool aborted() {
        std::lock_guard<std::mutex> lock(mutex_);
        return aborted_;
    }

  private:
    size_t max_bytes_;
    std::mutex mutex_;
    std::condition_variable not_full_, not_empty_;
    std::deque<std::string> items_;
    size_t bytes_ = 0;
    bool closed_ = false;
    bool aborted_ = false;
};

// Thrown into the staged object's sink to stop reading once a writer has failed.
struct ReadingStopped {};

// Splits an object's plaintext into lines and checks each is a JSON object: the check made
// while staging (nothing is written yet) and the split made while loading.
class ItemLines {
  public:
    ItemLines(std::string object_key, std::function<void(std::string)> take)
        : key_(std::move(object_key)), take_(std::move(take)) {}

    void feed(const unsigned char *data, size_t size) {
        const char *text = reinterpret_cast<const char *>(data);
        size_t start = 0;
        for (size_t i = 0; i < size; ++i) {
            if (text[i] != '\n') continue;
            partial_.append(text + start, i - start);
            line(std::move(partial_));
            partial_.clear();
            start = i + 1;
        }
        partial_.append(text + start, size - start);
    }

    void finish() const {
        if (!partial_.empty())
            throw archive::ArchiveError("object " + key_ +
                                        " ends inside an item (no final newline)");
    }

    uint64_t lines() const { return lines_; }

  private:
    void line(std::string text) {
        // Authenticated data written by backup_dynamodb, but checked anyway: a line that is
        // not a JSON object would fail a whole batch with a confusing message.
        if (text.empty() || text.front() != '{' || !json::accept(text))
            throw archive::ArchiveError("object " + key_ + ": line " + std::to_string(lines_ + 1) +
                                        " is not a DynamoDB-JSON item");
        ++lines_;
        if (take_) take_(std::move(text));
    }

    std::string key_;
    std::function<void(std::string)> take_;
    std::string partial_;  // a line cut by a chunk boundary
    uint64_t lines_ = 0;
};

struct LoadResult {
    uint64_t lines = 0;
    uint64_t written = 0;
    std::exception_ptr error;
};

// Streams one table's staged object (already checked in full) into `target` with `writers`
// threads; never throws for a failure of the load itself, so the caller can say how many
// items were written.
LoadResult load_items(const aws::DynamoConfig &config, int writers, const StagedObject &staged,
                      const std::string &object_key, const std::string &target, uint64_t &bytes,
                      const ByteProgress &progress) {
    LoadResult result;
    ItemChannel channel(8u << 20);
    std::vector<uint64_t> written(static_cast<size_t>(writers), 0);
    std::mutex error_mutex;
    auto fail = [&](std::exception_ptr e) {
        channel.abort();
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!result.error) result.error = e;
    };
    auto work = [&](size_t w) {
        try {
            aws::DynamoClient client(config);
            BatchWriteQueue queue(
                target, config.retry,
                [&client, &target](const std::vector<std::string> &items) {
                    BatchAttempt attempt;
                    const auto response = client.attempt(
                        "BatchWriteItem", batch_write_request(target, items), attempt.error);
                    if (!response)
                        attempt.failed = true;
                    else
                        attempt.unprocessed = unprocessed_put_items(*response, target);
                    return attempt;
                },
                [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); },
                [&client] { return client.unit_random(); });
            try {
                std::string item;
                while (channel.pop(item)) queue.add(std::move(item));
                if (!channel.aborted()) queue.flush();
            } catch (...) {
                written[w] = queue.written();
                throw;
            }
            written[w] = queue.written();
        } catch (...) {
            fail(std::current_exception());
        }
    };
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) threads.emplace_back(work, static_cast<size_t>(w));

    try {
        ItemLines lines(object_key, [&](std::string line) {
            if (!channel.push(std::move(line))) throw ReadingStopped{};
        });
        staged.read([&](const unsigned char *data, size_t size) {
            lines.feed(data, size);
            bytes += size;
            if (progress) progress(bytes);
        });
        lines.finish();
        result.lines = lines.lines();
        channel.close_input();
    } catch (const ReadingStopped &) {
        // A writer failed; its error is the one to report.
    } catch (...) {
        fail(std::current_exception());
    }
    for (auto &t : threads) t.join();
    for (uint64_t n : written) result.written += n;
    return result;
}

std::string error_text(const std::exception_ptr &e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception &x) {
        return x.what();
    } catch (...) {
        return "unknown error";
    }
}

}  // namespace

// --- pure parts

json sanitize_table_description(const std::string &table, const json &described) {
    json out = json::object();
    out["KeySchema"] = sanitized_key_schema(member(described, "KeySchema"));
    if (out["KeySchema"].empty())
        throw std::runtime_error("DynamoDB DescribeTable on table " + table +
                                 " gave no KeySchema; cannot back up a table without one");
    json definitions = json::array();
    if (const json *d = member(described, "AttributeDefinitions"); d && d->is_array())
        for (const auto &a : *d)
            definitions.push_back({{"AttributeName", string_member(a, "AttributeName")},
                                   {"AttributeType", string_member(a, "AttributeType")}});
    out["AttributeDefinitions"] = definitions;

    const std::optional<json> units = sanitized_units(member(described, "ProvisionedThroughput"));
    std::string mode;
    if (const json *summary = member(described, "BillingModeSummary"))
        mode = string_member(*summary, "BillingMode");
    // Tables created before on-demand existed describe no billing mode; an on-demand table
    // always reports zero units.
    if (mode.empty())
        mode = units && (*units)["ReadCapacityUnits"] == 0 && (*units)["WriteCapacityUnits"] == 0
                   ? "PAY_PER_REQUEST"
                   : "PROVISIONED";
    out["BillingMode"] = mode;
    const bool provisioned = mode == "PROVISIONED";
    if (provisioned && units) out["ProvisionedThroughput"] = *units;

    for (const char *kind : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
        const json *indexes = member(described, kind);
        if (indexes == nullptr || !indexes->is_array() || indexes->empty()) continue;
        json list = json::array();
        for (const auto &index : *indexes) {
            json entry = {{"IndexName", string_member(index, "IndexName")},
                          {"KeySchema", sanitized_key_schema(member(index, "KeySchema"))},
                          {"Projection", sanitized_projection(member(index, "Projection"))}};
            if (provisioned && std::string(kind) == "GlobalSecondaryIndexes")
                if (auto index_units = sanitized_units(member(index, "ProvisionedThroughput")))
                    entry["ProvisionedThroughput"] = *index_units;
            list.push_back(entry);
        }
        out[kind] = list;
    }
    return out;
}

json create_table_request(const json &description, const std::string &source,
                          const std::string &target) {
    const DescriptionChecker check(source);
    if (!description.is_object()) check.bad("(top level)", "must be an object");
    std::vector<std::string> keys;
    json request = {{"TableName", target}};
    request["KeySchema"] = check.key_schema(member(description, "KeySchema"), "KeySchema", keys);

    const json *definitions = member(description, "AttributeDefinitions");
    if (definitions == nullptr || !definitions->is_array() || definitions->empty())
        check.bad("AttributeDefinitions", "must be a non-empty array");
    json checked_definitions = json::array();
    std::set<std::string> defined;
    for (size_t i = 0; i < definitions->size(); ++i) {
        const std::string f = "AttributeDefinitions[" + std::to_string(i) + "]";
        const std::string attribute = check.name((*definitions)[i], f, "AttributeName");
        checked_definitions.push_back(
            {{"AttributeName", attribute},
             {"AttributeType",
              check.one_of((*definitions)[i], f, "AttributeType", {"S", "N", "B"})}});
        defined.insert(attribute);
    }
    request["AttributeDefinitions"] = checked_definitions;

    const std::string mode =
        check.one_of(description, "", "BillingMode", {"PAY_PER_REQUEST", "PROVISIONED"});
    request["BillingMode"] = mode;
    const bool provisioned = mode == "PROVISIONED";
    json table_units;
    if (provisioned) {
        table_units =
            check.units(member(description, "ProvisionedThroughput"), "ProvisionedThroughput");
        request["ProvisionedThroughput"] = table_units;
    }

    for (const char *kind : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
        const json *indexes = member(description, kind);
        if (indexes == nullptr) continue;
        if (!indexes->is_array()) check.bad(kind, "must be an array");
        if (indexes->empty()) continue;
        const bool global = std::string(kind) == "GlobalSecondaryIndexes";
        json list = json::array();
        for (size_t i = 0; i < indexes->size(); ++i) {
            const std::string f = std::string(kind) + "[" + std::to_string(i) + "]";
            const json &index = (*indexes)[i];
            json entry = {{"IndexName", check.name(index, f, "IndexName")}};
            entry["KeySchema"] =
                check.key_schema(member(index, "KeySchema"), f + ".KeySchema", keys);
            entry["Projection"] = check.projection(member(index, "Projection"), f + ".Projection");
            if (global && provisioned)
                entry["ProvisionedThroughput"] =
                    member(index, "ProvisionedThroughput")
                        ? check.units(member(index, "ProvisionedThroughput"),
                                      f + ".ProvisionedThroughput")
                        : table_units;
            list.push_back(entry);
        }
        request[kind] = list;
    }
    for (const auto &k : keys)
        if (!defined.count(k))
            check.bad("AttributeDefinitions", "has no type for the key attribute " + k);
    return request;
}

std::string key_schema_difference(const json &backup_description, const json &live_description) {
    const std::string backup_key = key_text(backup_description);
    const std::string live_key = key_text(live_description);
    if (backup_key == live_key) return "";
    return "its key is " + live_key + ", the backup's is " + backup_key;
}

std::string batch_write_request(const std::string &table, const std::vector<std::string> &items) {
    std::string body = "{\"RequestItems\":{" + json(table).dump() + ":[";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) body += ',';
        body += "{\"PutRequest\":{\"Item\":";
        body += items[i];
        body += "}}";
    }
    body += "]}}";
    return body;
}

std::vector<std::string> unprocessed_put_items(const std::string &response_body,
                                               const std::string &table) {
    const auto response = parse_response<ordered_json>("BatchWriteItem", table, response_body);
    std::vector<std::string> items;
    const auto unprocessed = response.find("UnprocessedItems");
    if (unprocessed == response.end() || unprocessed->is_null()) return items;
    if (!unprocessed->is_object())
        throw std::runtime_error("DynamoDB BatchWriteItem on table " + table +
                                 " answered with UnprocessedItems that is not an object");
    for (const auto &[name, requests] : unprocessed->items()) {
        if (name != table)
            throw std::runtime_error("DynamoDB BatchWriteItem on table " + table +
                                     " answered with unprocessed items of another table (" + name +
                                     ")");
        if (!requests.is_array())
            throw std::runtime_error("DynamoDB BatchWriteItem on table " + table +
                                     " answered with UnprocessedItems that are not a list");
        for (const auto &request : requests) {
            const auto put = request.find("PutRequest");
            if (put == request.end() || !put->is_object() || !put->contains("Item") ||
                !(*put)["Item"].is_object())
                throw std::runtime_error("DynamoDB BatchWriteItem on table " + table +
                                         " answered with an unprocessed request that is not a "
                                         "PutRequest with an Item");
            items.push_back((*put)["Item"].dump());
        }
    }
    return items;
}

bool is_dynamodb_table_name(const std::string &name) {
    if (name.size() < 3 || name.size() > 255) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
    });
}

std::map<std::string, std::string> parse_dynamodb_renames(const std::vector<std::string> &args) {
    std::map<std::string, std::string> renames;
    for (const auto &arg : args) {
        const size_t eq = arg.find('=');
        if (eq == std::string::npos || arg.find('=', eq + 1) != std::string::npos)
            throw UsageError("--rename-dynamodb " + arg +
                             ": expected OLD=NEW (the table's name in the backup, then the name "
                             "to restore it as)");
        const std::string from = arg.substr(0, eq), to = arg.substr(eq + 1);
        for (const auto &name : {from, to})
            if (!is_dynamodb_table_name(name))
                throw UsageError("--rename-dynamodb " + arg + ": \"" + name +
                                 "\" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ - .)");
        if (!renames.emplace(from, to).second)
            throw UsageError("--rename-dynamodb names " + from + " twice");
    }
    return renames;
}

BatchWriteQueue::BatchWriteQueue(std::string table, pgm::RetryPolicy policy, BatchSender send,
                                 std::function<void(int)> sleep,
                                 std::function<double()> unit_random)
    : table_(std::move(table)),
      policy_(policy),
      send_(std::move(send)),
      sleep_(std::move(sleep)),
      unit_random_(std::move(unit_random)) {}

void BatchWriteQueue::add(std::string item) {
    pending_.push_back(std::move(item));
    while (pending_.size() >= kBatchSize) send_batch();
}

void BatchWriteQueue::flush() {
    while (!pending_.empty()) send_batch();
}

void BatchWriteQueue::send_batch() {
    const size_t n = std::min(kBatchSize, pending_.size());
    std::vector<std::string> batch(std::make_move_iterator(pending_.begin()),
                                   std::make_move_iterator(pending_.begin() + n));
    pending_.erase(pending_.begin(), pending_.begin() + n);
    BatchAttempt attempt;
    try {
        attempt = send_(batch);
    } catch (...) {
        // Not written, whatever went wrong: back into the queue, so the count stays exact.
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) pending_.push_front(*it);
        throw;
    }
    std::vector<std::string> &again = attempt.failed ? batch : attempt.unprocessed;
    if (!attempt.failed && again.size() > n) {
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) pending_.push_front(*it);
        throw std::runtime_error("DynamoDB BatchWriteItem on table " + table_ + " answered with " +
                                 std::to_string(again.size()) + " unprocessed items for " +
                                 std::to_string(n) + " sent");
    }
    const size_t not_written = again.size();
    written_ += n - not_written;
    for (auto it = again.rbegin(); it != again.rend(); ++it) pending_.push_front(std::move(*it));
    if (attempt.failed && !aws::is_retryable(attempt.error))
        throw aws::DynamoError("DynamoDB BatchWriteItem on table " + table_ +
                                   " failed: " + aws::describe_error(attempt.error),
                               attempt.error, false);
    if (not_written == 0) {
        incomplete_streak_ = 0;
        stalled_streak_ = 0;
        return;
    }
    ++incomplete_streak_;
    stalled_streak_ = not_written == n ? stalled_streak_ + 1 : 0;
    if (stalled_streak_ > policy_.max_retries) {
        const std::string why =
            attempt.failed ? aws::describe_error(attempt.error)
                           : "every item came back in UnprocessedItems (the table's throughput "
                             "is exhausted)";
        throw aws::DynamoError("DynamoDB BatchWriteItem on table " + table_ + " wrote nothing in " +
                                   std::to_string(stalled_streak_) +
                                   " attempts in a row (PGMIG_DYNAMODB_MAX_RETRIES=" +
                                   std::to_string(policy_.max_retries) + "); the last: " + why,
                               attempt.error, true);
    }
    sleep_(pgm::backoff_delay_ms(policy_, incomplete_streak_, unit_random_()));
}

// --- backup

archive::DynamoSource backup_dynamodb(const DynamoBackupOptions &opts, store::Store &store,
                                      const std::string &backup_id, const archive::BackupKey &key,
                                      int zstd_level, const ByteProgress &progress) {
    if (opts.tables.empty()) throw UsageError("no DynamoDB tables to back up (--dynamodb-table)");
    if (opts.segments < 1 || opts.segments > 64)
        throw UsageError("--dynamodb-segments must be between 1 and 64");
    std::vector<std::string> names;
    for (const auto &t : opts.tables) {
        if (!is_dynamodb_table_name(t))
            throw UsageError("--dynamodb-table " + t +
                             ": not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ - .)");
        if (std::find(names.begin(), names.end(), t) == names.end()) names.push_back(t);
    }
    const aws::DynamoConfig config = aws::dynamodb_config_from_environment();
    aws::DynamoClient client(config);
    archive::DynamoSource source;
    source.region = config.region;
    source.endpoint = config.endpoint_override;

    // Every table is described before any is read, so a typo fails in a second, not after
    // an hour of scanning the others.
    for (const auto &name : names) {
        const auto described = client.describe_table(name);
        if (!described)
            throw UsageError("--dynamodb-table " + name + ": no such table in region " +
                             config.region + " at " + client.endpoint_url() +
                             " (check the name, AWS_REGION and AWS_ENDPOINT_URL_DYNAMODB)");
        const std::string status = described->value("TableStatus", "ACTIVE");
        if (status != "ACTIVE" && status != "UPDATING")
            throw std::runtime_error("DynamoDB table " + name + " is " + status +
                                     ", not ACTIVE: back it up once it is");
        archive::DynamoTable table;
        table.name = name;
        table.description = sanitize_table_description(name, *described);
        table.object.path = object_name(source.tables.size());
        source.tables.push_back(std::move(table));
    }

    uint64_t bytes = 0;
    for (auto &table : source.tables) {
        StoredObjectWriter out(store, backup_id, table.object.path, key, zstd_level, 0);
        SharedObject object;
        object.out = &out;
        object.bytes = &bytes;
        object.progress = &progress;
        std::atomic<bool> stop{false};
        std::mutex error_mutex;
        std::exception_ptr first_error;
        auto work = [&](int segment) {
            try {
                scan_segment(config, table.name, segment, opts, object, stop);
            } catch (...) {
                stop = true;
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!first_error) first_error = std::current_exception();
            }
        };
        std::vector<std::thread> threads;
        for (int s = 1; s < opts.segments; ++s) threads.emplace_back(work, s);
        work(0);
        for (auto &t : threads) t.join();
        if (first_error) std::rethrow_exception(first_error);
        table.items = object.items;
        table.object = out.finish();
    }
    return source;
}

// --- restore

DynamoRestore::DynamoRestore(const DynamoRestoreOptions &opts, const archive::Manifest &manifest,
                             store::Store &store, const archive::BackupKey &key)
    : opts_(opts), manifest_(manifest), store_(store), key_(key) {
    if (!manifest.dynamodb || manifest.dynamodb->tables.empty())
        throw UsageError("backup " + manifest.backup_id + " holds no DynamoDB tables");
    if (opts.writers < 1 || opts.writers > 32)
        throw UsageError("DynamoDB writers must be between 1 and 32");
    const auto &source = *manifest.dynamodb;
    auto in_backup = [&](const std::string &name) {
        return std::any_of(source.tables.begin(), source.tables.end(),
                           [&](const auto &t) { return t.name == name; });
    };
    for (const auto &t : opts.tables)
        if (!in_backup(t))
            throw UsageError("--dynamodb-table " + t + " is not in backup " + manifest.backup_id);
    for (const auto &[from, to] : opts.rename) {
        if (!in_backup(from))
            throw UsageError("--rename-dynamodb " + from + "=" + to + ": backup " +
                             manifest.backup_id + " has no DynamoDB table " + from);
        if (!opts.tables.empty() &&
            std::find(opts.tables.begin(), opts.tables.end(), from) == opts.tables.end())
            throw UsageError("--rename-dynamodb " + from + "=" + to + ": " + from +
                             " is not among the --dynamodb-table tables being restored");
    }

    std::map<std::string, std::string> target_of_source;
    std::map<std::string, std::string> source_of_target;
    for (const auto &t : source.tables) {
        if (!opts.tables.empty() &&
            std::find(opts.tables.begin(), opts.tables.end(), t.name) == opts.tables.end())
            continue;
        const auto renamed = opts.rename.find(t.name);
        const std::string target = renamed == opts.rename.end() ? t.name : renamed->second;
        if (!source_of_target.emplace(target, t.name).second)
            throw UsageError("DynamoDB tables " + source_of_target[target] + " and " + t.name +
                             " would both be restored into " + target +
                             ": rename one with --rename-dynamodb");
        chosen_.push_back(&t);
        target_of_source[t.name] = target;
    }

    config_ = aws::dynamodb_config_from_environment();
    aws::DynamoClient client(config_);
    plan_.region = config_.region;
    plan_.endpoint = client.endpoint_url();
    create_requests_.resize(chosen_.size());
    std::string problems;
    for (size_t i = 0; i < chosen_.size(); ++i) {
        const archive::DynamoTable &t = *chosen_[i];
        DynamoRestoreStep step;
        step.table = t.name;
        step.target = target_of_source[t.name];
        step.backup_items = t.items;
        const std::string n = std::to_string(t.items);
        // Checked now even when the table exists, so a bad description stops the restore
        // before anything changed.
        create_requests_[i] = create_table_request(t.description, t.name, step.target);
        const auto live = client.describe_table(step.target);
        step.target_exists = live.has_value();
        std::string problem;
        if (!live) {
            step.action = "create table and load " + n + " items";
        } else if (const std::string status = live->value("TableStatus", "ACTIVE");
                   status != "ACTIVE" && status != "UPDATING") {
            problem = "the table is " + status + ": wait until it is ACTIVE, then restore";
        } else if (const std::string diff = key_schema_difference(t.description, *live);
                   !diff.empty()) {
            problem = diff + ": restore into another table (--rename-dynamodb " + t.name +
                      "=NEW_NAME) or delete this one first";
        } else {
            step.action = "load " + n +
                          " items into the existing table (items with the same key are "
                          "overwritten)";
        }
        if (!problem.empty()) {
            step.action = "cannot restore: " + problem;
            problems += "\n  " + step.target + ": " + problem;
        }
        plan_.steps.push_back(step);
    }
    if (!problems.empty() && !opts.dry_run)
        throw RefusedBySafetyCheck(
            "DynamoDB tables in the way of the restore; nothing was changed:" + problems);
}

DynamoRestore::~DynamoRestore() = default;

void DynamoRestore::stage() {
    if (opts_.dry_run || !staged_.empty()) return;
    for (const archive::DynamoTable *t : chosen_) {
        const std::string key = object_key(manifest_, t->object);
        ItemLines lines(key, nullptr);
        auto staged = std::make_unique<StagedObject>(
            store_, manifest_, t->object, key_,
            [&lines](const unsigned char *data, size_t size) { lines.feed(data, size); });
        lines.finish();
        if (lines.lines() != t->items)
            throw archive::ArchiveError("object " + key + " (DynamoDB table " + t->name +
                                        ") holds " + std::to_string(lines.lines()) +
                                        " items, the manifest says " + std::to_string(t->items) +
                                        "; nothing was written");
        staged_.push_back(std::move(staged));
    }
}

DynamoRestorePlan DynamoRestore::load(const ByteProgress &progress) {
    if (opts_.dry_run) return plan_;
    stage();
    aws::DynamoClient client(config_);
    uint64_t bytes = 0;
    for (size_t i = 0; i < chosen_.size(); ++i) {
        const archive::DynamoTable &t = *chosen_[i];
        DynamoRestoreStep &step = plan_.steps[i];
        if (!step.target_exists) client.create_table(create_requests_[i]);
        const LoadResult loaded =
            load_items(config_, opts_.writers, *staged_[i], object_key(manifest_, t.object),
                       step.target, bytes, progress);
        step.restored_items = loaded.written;
        const std::string what = "restoring DynamoDB table " + t.name +
                                 (step.target != t.name ? " as " + step.target : std::string()) +
                                 ": ";
        if (loaded.error) {
            const uint64_t missing = t.items > loaded.written ? t.items - loaded.written : 0;
            throw std::runtime_error(
                what + std::to_string(missing) + " of " + std::to_string(t.items) +
                " items were not written (" + std::to_string(loaded.written) +
                " were; running the restore again is safe: items with the same key are "
                "overwritten): " +
                error_text(loaded.error));
        }
        if (loaded.lines != t.items || loaded.written != t.items)
            throw archive::ArchiveError(what + "the object held " + std::to_string(loaded.lines) +
                                        " items and " + std::to_string(loaded.written) +
                                        " were written, but the manifest says " +
                                        std::to_string(t.items));
        // A table the restore created holds exactly the backup's items; count them to be sure
        // (an existing table may hold others too).
        if (!step.target_exists) {
            const uint64_t count = client.count_items(step.target);
            if (count != t.items)
                throw std::runtime_error(what + "the new table " + step.target + " holds " +
                                         std::to_string(count) +
                                         " items after the restore, the "
                                         "backup " +
                                         std::to_string(t.items));
        }
    }
    return plan_;
}

DynamoRestorePlan restore_dynamodb(const DynamoRestoreOptions &opts,
                                   const archive::Manifest &manifest, store::Store &store,
                                   const archive::BackupKey &key, const ByteProgress &progress) {
    DynamoRestore restore(opts, manifest, store, key);
    return restore.load(progress);
}

}  // namespace pgmig::backup
