// Flyway's repeatable migrations (R__<description>.sql): run after the versioned ones
// whenever their text changed since they last ran, each in a transaction of its own. What ran
// is recorded in pg_migrate.seed under "repeatable/<file name>", as seeds are.
#pragma once

#include "db/connection.hpp"
#include "migrations/migration_files.hpp"

#include <string>
#include <vector>

namespace pgmig::migrations {

struct RepeatableResult {
    std::string file, status, ms, message;  // status: applied, unchanged, would_apply, failed
};

// Runs (or with `dry_run` only checks) every repeatable script in name order; stops at the
// first that fails (it is rolled back, and the ones after it are not run).
std::vector<RepeatableResult> apply_repeatables(db::Connection &conn,
                                                const std::vector<RepeatableScript> &scripts,
                                                bool dry_run);

}  // namespace pgmig::migrations
