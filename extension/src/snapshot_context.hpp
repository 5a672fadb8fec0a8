// Which migration is running in this backend, so a snapshot taken inside it (by the
// migration's own SQL) records the migration it belongs to.
#pragma once

#include <string>

namespace pgm {

const std::string &current_migration_version();

// Marks `version` as running for the lifetime of the object.
class RunningMigration {
  public:
    explicit RunningMigration(const std::string &version);
    ~RunningMigration();
    RunningMigration(const RunningMigration &) = delete;
    RunningMigration &operator=(const RunningMigration &) = delete;
};

// Marks that a user's script (up, verify or down) is running in this backend, so that the
// executor, rollback, snapshot restore and backfill refuse to be called from inside it.
class UserScriptRunning {
  public:
    UserScriptRunning();
    ~UserScriptRunning();
    UserScriptRunning(const UserScriptRunning &) = delete;
    UserScriptRunning &operator=(const UserScriptRunning &) = delete;
};

// Whether a user's script is running in this backend right now.
bool user_script_is_running();

// Throws a UserError when called from inside a running migration's script.
void refuse_inside_migration(const char *function);

}  // namespace pgm
