// The advisory lock that serializes everything that changes the migration registry or the
// schema through pg_migrate. Transaction-scoped: released at commit or rollback, so a crashed
// deploy never leaves it behind. The pgmig CLI polls the same key with pg_try_advisory_lock.
#pragma once

namespace pgm {

constexpr int kMigrationLockClassId = 1885826409;   // 'pgmi'
constexpr int kMigrationLockObjectId = 1735549300;  // 'grat'

// Waits for the lock (the caller's lock_timeout / statement_timeout still apply).
void acquire_migration_lock();

}  // namespace pgm
