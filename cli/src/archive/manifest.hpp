// The manifest of one backup: what it holds, where, and how to check it. Written last, so its
// presence marks a complete backup; authenticated with an HMAC under the backup key, so a
// changed manifest is caught before anything is restored from it. Parsing treats the file as
// hostile: every field is type- and range-checked. The layout is documented in
// docs/archive-format.md.
#pragma once

#include "archive/backup_key.hpp"
#include "archive/object_codec.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::archive {

// Version 2: objects are bound to their place (object format 2) and postgres.client_encoding
// records the encoding the COPY streams' text is in. Version 1 backups are still read.
inline constexpr int kManifestFormatVersion = 2;
inline constexpr int kOldestManifestFormatVersion = 1;
inline constexpr const char *kManifestName = "manifest.json";

// One stored object: a table's data.
struct ObjectEntry {
    std::string path;  // key relative to the backup's folder, e.g. "pg/0001.obj"
    uint64_t plaintext_bytes = 0;
    std::string plaintext_sha256;  // hex
    uint64_t stored_bytes = 0;
};

struct PgColumn {
    std::string name;
    std::string type;  // format_type()
};

struct PgSequence {
    std::string name;    // schema-qualified, as regclass prints it
    std::string column;  // the column it feeds
    int64_t last_value = 0;
    bool is_called = false;
};

struct PgTable {
    std::string schema;
    std::string name;
    std::vector<PgColumn> columns;
    std::vector<PgSequence> sequences;
    uint64_t rows = 0;
    ObjectEntry object;
};

struct PgSource {
    std::string server_version;
    std::string database;
    // The client_encoding of the COPY streams (text values travel in it): "UTF8" since format
    // 2; unknown (nullopt) in format 1, whose streams are in whatever the session used.
    std::optional<std::string> client_encoding;
    // The last applied migration and the schema fingerprint, when pg_migrate is installed.
    std::optional<std::string> schema_version;
    std::optional<std::string> schema_fingerprint;
    std::vector<PgTable> tables;
    // `pg_dump --schema-only` of the tables, from the same snapshot (create --with-ddl).
    std::optional<ObjectEntry> ddl;
};

struct DynamoTable {
    std::string name;
    nlohmann::json description;  // KeySchema, AttributeDefinitions, indexes, billing
    uint64_t items = 0;
    ObjectEntry object;
};

struct DynamoSource {
    std::string region;
    std::string endpoint;  // empty for AWS itself
    std::vector<DynamoTable> tables;
};

struct Manifest {
    int format_version = kManifestFormatVersion;
    std::string backup_id;
    std::string created_at;   // UTC, ISO 8601
    std::string finished_at;  // UTC, ISO 8601
    std::string tool_version;
    std::string label;
    std::string key_id;
    std::optional<KdfParams> kdf;  // set when the key came from a passphrase
    std::string compression = "zstd";
    int compression_level = 3;
    std::optional<PgSource> postgres;
    std::optional<DynamoSource> dynamodb;

    uint64_t total_stored_bytes() const;
    uint64_t total_rows() const;  // PostgreSQL rows plus DynamoDB items
};

nlohmann::json manifest_to_json(const Manifest &m);

// Throws ArchiveError naming the first field that is missing, of the wrong type, or out of
// range (e.g. "manifest: postgres.tables[2].rows must be a non-negative integer").
Manifest manifest_from_json(const nlohmann::json &j);

// The stored file: {"manifest": {...}, "mac": "<hex HMAC-SHA256 of the manifest's canonical
// JSON text>"}.
std::string seal_manifest(const Manifest &m, const BackupKey &key);

// What a reader can learn before it has a key: the KDF parameters (a passphrase key needs the
// salt) and the key id. Throws ArchiveError when the file is not a sealed manifest.
struct ManifestEnvelope {
    nlohmann::json body;
    std::string mac;
    std::optional<KdfParams> kdf;
    std::string key_id;
};
ManifestEnvelope open_manifest_envelope(const std::string &text);

// Authenticates and parses. Throws ArchiveError "wrong key" when the key id differs, and
// "manifest failed authentication" when the MAC does not match.
Manifest authenticate_manifest(const ManifestEnvelope &envelope, const BackupKey &key);

// Backup ids are "YYYYMMDDTHHMMSSZ-xxxxxx": sortable by time, safe as a folder name.
bool is_backup_id(const std::string &id);

// The place an object of this manifest is bound to (format 2), or nullopt for the unbound
// objects of a format 1 backup. Readers and writers of a backup's objects take it from here.
std::optional<ObjectPlace> object_place(const Manifest &m, const ObjectEntry &object);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF): the manifest is JSON, which holds nothing else.
bool is_utf8(std::string_view text);

}  // namespace pgmig::archive
