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

}  // namespace pgm
