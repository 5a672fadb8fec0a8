#include "commands/deploy_lock.hpp"

#include "migration_lock.hpp"
#include "migrations/terminal_text.hpp"

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>

namespace pgmig::commands {

namespace {
const std::string kClass = std::to_string(pgm::kMigrationLockClassId);
const std::string kObject = std::to_string(pgm::kMigrationLockObjectId);
}  // namespace

DeployLock::DeployLock(db::Connection &conn, int wait_seconds) : conn_(conn) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
    bool announced = false;
    std::string holders = "?";
    for (;;) {
        auto r = conn_.query("SELECT pg_catalog.pg_try_advisory_lock($1::int4, $2::int4)",
                             {kClass, kObject});
        if (r.rows.at(0).at(0).value_or("f") == "t") return;
        if (!announced) {
            // Any role that can connect can take an advisory lock, so the holder is named
            // (pid, role, application) and the wait is bounded: a lock held by something
            // that is not a deploy is found and ended, not waited on forever.
            auto holder = conn_.query(
                "SELECT string_agg(format('%s (role %s%s)', l.pid, "
                "coalesce(a.usename::text, '?'), "
                "CASE WHEN coalesce(a.application_name, '') <> '' "
                "THEN ', application ' || a.application_name ELSE '' END), ', ') "
                "  FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a "
                "    ON a.pid = l.pid "
                " WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = $2::oid "
                "   AND l.granted",
                {kClass, kObject});
            holders = migrations::escape_for_terminal(holder.rows.at(0).at(0).value_or("?"));
            std::cerr << "waiting for another deploy to finish (backend " << holders
                      << " holds the migration lock)\n";
            announced = true;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            throw std::runtime_error(
                "another deploy still holds the migration lock after " +
                std::to_string(wait_seconds) + " s (backend " + holders +
                "); nothing was applied. If that session is not a deploy, end it with SELECT "
                "pg_terminate_backend(pid) (pgmig up --lock-wait sets how long up waits)");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

DeployLock::~DeployLock() {
    try {
        conn_.query("SELECT pg_catalog.pg_advisory_unlock($1::int4, $2::int4)", {kClass, kObject});
    } catch (...) {
        // The session ends right after; PostgreSQL releases the lock with it.
    }
}

}  // namespace pgmig::commands
