// Bringing the database's registry in step with the migration files.
#pragma once

#include "db/connection.hpp"
#include "migrations/migration_files.hpp"
#include "migrations/status_report.hpp"

namespace pgmig::migrations {

struct RegistrationCounts {
    int registered = 0, updated = 0, unchanged = 0;
};

// migrate_register() for every file, in one transaction: all or none. An applied migration
// whose file changed makes it fail with the extension's error (SQLSTATE 55000).
RegistrationCounts register_files(db::Connection &conn, const MigrationFolder &folder);
// The same inside the caller's open transaction (up --dry-run registers, checks and rolls
// back, so that it refuses exactly what up would).
RegistrationCounts register_files_in_transaction(db::Connection &conn,
                                                 const MigrationFolder &folder);

std::vector<FileSide> file_sides(const MigrationFolder &folder);
std::vector<DatabaseSide> database_sides(db::Connection &conn);

// Fails with a clear message when the extension is missing.
void require_extension(db::Connection &conn);

}  // namespace pgmig::migrations
