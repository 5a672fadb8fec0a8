// The PostgreSQL half of a backup: every chosen table as a COPY (FORMAT binary) stream, all
// from one snapshot exported by a coordinating transaction and imported by every worker, so
// the tables are consistent with each other even while other sessions write.
#pragma once

#include "archive/manifest.hpp"
#include "store/store.hpp"

#include <functional>
#include <string>
#include <vector>

namespace pgmig::backup {

struct PgBackupOptions {
    std::string conninfo;
    std::vector<std::string> tables;   // --pg-table; empty with no schemas = all user tables
    std::vector<std::string> schemas;  // --pg-schema
    int jobs = 1;
    int zstd_level = 3;
    bool with_ddl = false;  // also store pg_dump --schema-only of the tables
};

// Progress: bytes of COPY data read so far, over all workers.
using ByteProgress = std::function<void(uint64_t)>;

// Writes the objects under `<backup_id>/pg/` and returns what the manifest records.
archive::PgSource backup_postgres(const PgBackupOptions &opts, store::Store &store,
                                  const std::string &backup_id, const archive::BackupKey &key,
                                  const ByteProgress &progress);

}  // namespace pgmig::backup
