#include "commands/deploy_lock.hpp"

#include "migration_lock.hpp"

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
    for (;;) {
        auto r = conn_.query("SELECT pg_catalog.pg_try_advisory_lock($1::int4, $2::int4)",
                             {kClass, kObject});
        if (r.rows.at(0).at(0).value_or("f") == "t") return;
        if (!announced) {
            auto holder = conn_.query(
                "SELECT string_agg(pid::text, ', ') FROM pg_catalog.pg_locks WHERE locktype = "
                "'advisory' "
                "AND classid = $1::oid AND objid = $2::oid AND granted",
                {kClass, kObject});
            std::cerr << "waiting for another deploy to finish (backend "
                      << holder.rows.at(0).at(0).value_or("?") << " holds the migration lock)\n";
            announced = true;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            throw std::runtime_error("another deploy still holds the migration lock after " +
                                     std::to_string(wait_seconds) + " s; nothing was applied");
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
