// One deploy at a time: the session-level form of the advisory lock migrate_execute() takes
// per transaction. A waiting deploy polls with pg_try_advisory_lock instead of queueing, so it
// never blocks (or is blocked behind) a CREATE INDEX CONCURRENTLY of the running deploy.
#pragma once

#include "db/connection.hpp"

namespace pgmig::commands {

class DeployLock {
  public:
    DeployLock(db::Connection &conn, int wait_seconds);
    ~DeployLock();
    DeployLock(const DeployLock &) = delete;
    DeployLock &operator=(const DeployLock &) = delete;

  private:
    db::Connection &conn_;
};

}  // namespace pgmig::commands
