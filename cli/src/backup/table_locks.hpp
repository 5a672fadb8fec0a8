// Taking table locks without stalling everyone else: each attempt waits a short lock_timeout
// inside a savepoint, and a failed attempt rolls the savepoint back, releasing the locks it
// had already taken, so sessions queued behind them go on while pgmig backs off and retries.
// On giving up, the error names the sessions in the way. Backup (ACCESS SHARE) and restore
// (ACCESS EXCLUSIVE, and the sequences it resets) share this one function.
#pragma once

#include <string>
#include <vector>

namespace pgmig::db {
class Connection;
}

namespace pgmig::backup {

struct LockWait {
    int total_ms = 60000;   // give up after this long
    int attempt_ms = 1000;  // the longest one attempt waits (and holds what it took so far)
};

struct LockedRelation {
    std::string oid;
    std::string name;  // regclass text, quoted by the server
};

// Runs `statement` - which takes `mode` locks on `relations` - inside a savepoint of the
// open transaction, retrying on lock_timeout and deadlock with backoff until wait.total_ms;
// the session's lock_timeout is left as it was. Throws std::runtime_error naming the
// relations and the sessions holding conflicting locks (pid, application_name, user, state,
// query) when time runs out; the savepoint is rolled back then, so nothing is held.
void run_with_lock_retries(db::Connection &conn, const std::string &statement,
                           const std::vector<LockedRelation> &relations, const std::string &mode,
                           const LockWait &wait);

// LOCK TABLE <relations> IN <mode> MODE, through run_with_lock_retries.
void lock_tables(db::Connection &conn, const std::vector<LockedRelation> &relations,
                 const std::string &mode, const LockWait &wait);

// --- pure parts

// pg_locks mode names ("AccessExclusiveLock", ...) that conflict with the table lock `mode`
// as LOCK TABLE spells it ("ACCESS SHARE", "SHARE ROW EXCLUSIVE", ...). Throws
// std::invalid_argument for an unknown mode.
std::vector<std::string> conflicting_lock_modes(const std::string &mode);

struct LockHolder {
    std::string pid;
    std::string application_name;
    std::string user;
    std::string state;
    std::string seconds_in_transaction;  // empty when unknown
    std::string lock_mode;
    std::string relation;
    std::string query;
};

// "could not lock public.orders (ACCESS EXCLUSIVE) within 3 s: pid 4242 (application_name
// \"psql\", user app, idle in transaction for 35 s) holds AccessShareLock on public.orders,
// running: SELECT ...". Queries are cut to 200 characters and control characters blanked.
std::string lock_timeout_message(const std::vector<LockedRelation> &relations,
                                 const std::string &mode, int waited_ms,
                                 const std::vector<LockHolder> &holders);

}  // namespace pgmig::backup
