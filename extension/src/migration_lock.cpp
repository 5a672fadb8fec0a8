#include "migration_lock.hpp"

#include "pg/spi.hpp"

#include <string>

namespace pgm {

void acquire_migration_lock() {
    pg::query("SELECT pg_catalog.pg_advisory_xact_lock($1::int4, $2::int4)",
              {std::to_string(kMigrationLockClassId), std::to_string(kMigrationLockObjectId)});
}

}  // namespace pgm
