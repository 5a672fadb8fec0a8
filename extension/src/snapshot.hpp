// Restoring a snapshot from C++: what snapshot_restore() does, for migrate_rollback() to call
// directly (never through SQL, whose function name a schema on the path could take over).
#pragma once

#include <cstdint>

namespace pgm {

// Puts the table's rows back exactly as snapshot `id` holds them, after every check
// snapshot_restore() makes; returns the rows restored. Throws a UserError or PgError.
int64_t restore_snapshot(long id);

}  // namespace pgm
