#include "backup/table_locks.hpp"

#include "db/connection.hpp"
#include "retry_policy.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

namespace pgmig::backup {

namespace {

// The eight table lock modes, weakest first, as LOCK TABLE and pg_locks name them.
constexpr const char *kModes[] = {
    "ACCESS SHARE", "ROW SHARE",           "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
    "SHARE",        "SHARE ROW EXCLUSIVE", "EXCLUSIVE",     "ACCESS EXCLUSIVE"};
constexpr const char *kLockNames[] = {
    "AccessShareLock", "RowShareLock",          "RowExclusiveLock", "ShareUpdateExclusiveLock",
    "ShareLock",       "ShareRowExclusiveLock", "ExclusiveLock",    "AccessExclusiveLock"};
// The conflict table of the PostgreSQL documentation (explicit locking): bit i set when the
// mode conflicts with kModes[i].
constexpr unsigned kConflicts[] = {
    0b10000000, 0b11000000, 0b11110000, 0b11111000, 0b11101100, 0b11111100, 0b11111110, 0b11111111,
};

int mode_index(const std::string &mode) {
    for (int i = 0; i < 8; ++i)
        if (mode == kModes[i]) return i;
    throw std::invalid_argument("unknown table lock mode " + mode);
}

std::string oid_array(const std::vector<LockedRelation> &relations) {
    std::string list = "{";
    for (size_t i = 0; i < relations.size(); ++i) list += (i ? "," : "") + relations[i].oid;
    return list + "}";
}

std::string text_array(const std::vector<std::string> &values) {
    std::string list = "{";
    for (size_t i = 0; i < values.size(); ++i) list += (i ? "," : "") + values[i];
    return list + "}";
}

double unit_random() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

std::vector<LockHolder> lock_holders(db::Connection &conn,
                                     const std::vector<LockedRelation> &relations,
                                     const std::string &mode) {
    const auto r = conn.query(
        "SELECT DISTINCT l.pid::text, coalesce(a.application_name, ''), coalesce(a.usename::text, "
        "''), coalesce(a.state, ''), "
        "coalesce((extract(epoch FROM pg_catalog.now() - a.xact_start))::bigint::text, ''), "
        "l.mode, l.relation::regclass::text, coalesce(a.query, '') "
        "FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid() "
        "AND l.relation = ANY ($1::oid[]) AND l.mode = ANY ($2::text[]) "
        "AND l.database = (SELECT oid FROM pg_catalog.pg_database "
        "                  WHERE datname = pg_catalog.current_database()) "
        "ORDER BY 1, 7",
        {oid_array(relations), text_array(conflicting_lock_modes(mode))});
    std::vector<LockHolder> holders;
    for (const auto &row : r.rows)
        holders.push_back({*row[0], *row[1], *row[2], *row[3], *row[4], *row[5], *row[6], *row[7]});
    return holders;
}

}  // namespace

std::vector<std::string> conflicting_lock_modes(const std::string &mode) {
    const unsigned conflicts = kConflicts[mode_index(mode)];
    std::vector<std::string> out;
    for (int i = 0; i < 8; ++i)
        if (conflicts & (1u << i)) out.push_back(kLockNames[i]);
    return out;
}

std::string lock_timeout_message(const std::vector<LockedRelation> &relations,
                                 const std::string &mode, int waited_ms,
                                 const std::vector<LockHolder> &holders) {
    std::string names;
    for (const auto &r : relations) names += (names.empty() ? "" : ", ") + r.name;
    std::string text = "could not lock " + names + " (" + mode + ") within " +
                       std::to_string((waited_ms + 500) / 1000) + " s";
    if (holders.empty())
        return text +
               ": no session holds a conflicting lock now (it was released as pgmig gave up, "
               "or sessions were waiting ahead of pgmig); run it again";
    text += ":";
    for (const auto &h : holders) {
        std::string query = h.query.substr(0, 200);
        for (char &c : query)
            if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        if (h.query.size() > 200) query += "...";
        text += "\n  pid " + h.pid + " (application_name \"" + h.application_name + "\"";
        if (!h.user.empty()) text += ", user " + h.user;
        if (!h.state.empty()) {
            text += ", " + h.state;
            if (!h.seconds_in_transaction.empty())
                text += ", in its transaction for " + h.seconds_in_transaction + " s";
        }
        text += ") holds " + h.lock_mode + " on " + h.relation;
        if (!query.empty())
            text += (h.state == "active" ? ", running: " : ", last query: ") + query;
    }
    return text + "\nEnd those sessions (SELECT pg_terminate_backend(pid)) or try again later.";
}

void run_with_lock_retries(db::Connection &conn, const std::string &statement,
                           const std::vector<LockedRelation> &relations, const std::string &mode,
                           const LockWait &wait) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::milliseconds(wait.total_ms);
    const std::string previous =
        *conn.query("SELECT pg_catalog.current_setting('lock_timeout')").rows.at(0).at(0);
    const pgm::RetryPolicy backoff{0, 100, 2000};
    for (int attempt = 1;; ++attempt) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        const long long timeout =
            std::max<long long>(1, std::min<long long>(wait.attempt_ms, left));
        conn.exec("SAVEPOINT pgmig_lock");
        try {
            // Local to the savepoint: a rolled back attempt takes its setting with it.
            conn.query("SELECT pg_catalog.set_config('lock_timeout', $1, true)",
                       {std::to_string(timeout) + "ms"});
            conn.exec(statement);
            conn.exec("RELEASE SAVEPOINT pgmig_lock");
            conn.query("SELECT pg_catalog.set_config('lock_timeout', $1, true)", {previous});
            return;
        } catch (const db::DbError &e) {
            if (!pgm::is_retryable_sqlstate(e.sqlstate())) throw;
        }
        // Releases whatever this attempt locked: the sessions queued behind it go on.
        conn.exec("ROLLBACK TO SAVEPOINT pgmig_lock");
        conn.exec("RELEASE SAVEPOINT pgmig_lock");
        if (Clock::now() >= deadline) {
            const auto holders = lock_holders(conn, relations, mode);
            const auto waited =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
            throw std::runtime_error(
                lock_timeout_message(relations, mode, static_cast<int>(waited.count()), holders));
        }
        const auto pause = std::min<long long>(
            pgm::backoff_delay_ms(backoff, attempt, unit_random()),
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
        if (pause > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause));
    }
}

void lock_tables(db::Connection &conn, const std::vector<LockedRelation> &relations,
                 const std::string &mode, const LockWait &wait) {
    if (relations.empty()) return;
    mode_index(mode);  // only a known mode reaches the statement
    std::string names;
    for (const auto &r : relations) names += (names.empty() ? "" : ", ") + r.name;
    run_with_lock_retries(conn, "LOCK TABLE " + names + " IN " + mode + " MODE", relations, mode,
                          wait);
}

}  // namespace pgmig::backup
