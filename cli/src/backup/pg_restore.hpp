// Restores PostgreSQL tables from a backup: checks the target first (schema version, tables,
// columns), then replaces the chosen tables' rows in one transaction, parents before
// children, with every object authenticated and its row count and SHA-256 checked before
// the commit. A dry run reports the plan and changes nothing.
#pragma once

#include "archive/manifest.hpp"
#include "store/store.hpp"

#include <functional>
#include <string>
#include <vector>

namespace pgmig::backup {

struct PgRestoreOptions {
    std::string conninfo;             // the target database
    std::vector<std::string> tables;  // "schema.table" or "table"; empty = every table
    bool dry_run = false;
    bool with_ddl = false;  // create the tables from the backup's definitions when none exist
};

struct PgRestoreStep {
    std::string table;  // schema.table
    uint64_t backup_rows = 0;
    int64_t target_rows = -1;  // rows the target holds now (-1: table missing)
    std::string action;        // "load" (empty target), "replace N rows", or why it cannot
    uint64_t restored_rows = 0;
};

struct PgRestorePlan {
    std::string target_database;
    std::string target_schema_version;  // empty when unknown
    std::vector<PgRestoreStep> steps;   // in load order
};

using ByteProgress = std::function<void(uint64_t)>;

// Throws RefusedBySafetyCheck (nothing changed) when the target is at another migration than
// the backup, or a table is missing or has other columns.
PgRestorePlan restore_postgres(const PgRestoreOptions &opts, const archive::Manifest &manifest,
                               store::Store &store, const archive::BackupKey &key,
                               const ByteProgress &progress);

}  // namespace pgmig::backup
