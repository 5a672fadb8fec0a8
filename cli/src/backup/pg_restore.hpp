// Restores PostgreSQL tables from a backup: checks the target first (schema version, tables,
// columns, privileges, foreign keys from tables left out, triggers, sequences), then replaces
// the chosen tables' rows in one transaction, parents before children, with every object
// authenticated and its row count and SHA-256 checked before anything that cannot be undone.
// A dry run makes the same checks, reports the plan and changes nothing.
#pragma once

#include "archive/manifest.hpp"
#include "backup/table_locks.hpp"
#include "store/store.hpp"

#include <functional>
#include <string>
#include <vector>

namespace pgmig::backup {

struct PgRestoreOptions {
    std::string conninfo;             // the target database
    std::vector<std::string> tables;  // "schema.table" or "table"; empty = every table
    bool dry_run = false;
    bool with_ddl = false;       // create the tables from the backup's definitions when none exist
    bool keep_triggers = false;  // let the target's user triggers fire during the load
    LockWait lock_wait;          // how long to wait for the tables' ACCESS EXCLUSIVE locks
};

struct PgRestoreStep {
    std::string table;  // schema.table
    uint64_t backup_rows = 0;
    int64_t target_rows = -1;  // rows the target holds now (-1: table missing)
    std::string action;        // "load" (empty target), "replace N rows", or why it cannot
    uint64_t restored_rows = 0;
    std::vector<std::string> triggers;  // the target table's enabled user triggers
    bool triggers_fire = false;         // with keep_triggers; else they are off for the load
};

struct PgRestorePlan {
    std::string target_database;
    std::string target_schema_version;  // empty when unknown
    std::vector<PgRestoreStep> steps;   // in load order
};

using ByteProgress = std::function<void(uint64_t)>;

// Throws RefusedBySafetyCheck (nothing changed) when the target is at another migration than
// the backup, or a table cannot be restored (missing, other columns, referenced by a table
// left out, no privilege, triggers that cannot be turned off, a sequence out of range). A
// dry run returns those steps marked "cannot restore: why" instead; the real run makes the
// same checks again once it holds its locks. Any failure before the commit (a damaged
// object, a COPY error, a row count that differs) leaves the target exactly as it was,
// sequences included: they are reset transactionally (ALTER SEQUENCE ... RESTART) when the
// role owns them, else with setval as the very last statements before COMMIT.
PgRestorePlan restore_postgres(const PgRestoreOptions &opts, const archive::Manifest &manifest,
                               store::Store &store, const archive::BackupKey &key,
                               const ByteProgress &progress);

// The sequence state that makes the next nextval return what it would have in the source
// (last_value, is_called), for a sequence with `increment` and range [min, max]:
// ALTER SEQUENCE ... RESTART WITH `restart_with`, or nothing (restart_with empty) when that
// value is out of range (the source sequence was exhausted) and setval must do it.
struct SequenceRestart {
    bool in_range = true;      // false: last_value is outside [min, max]; cannot restore
    std::string restart_with;  // empty: use setval(last_value, is_called)
};
SequenceRestart sequence_restart(int64_t last_value, bool is_called, int64_t increment, int64_t min,
                                 int64_t max);

}  // namespace pgmig::backup
