#include "snapshot_context.hpp"

namespace pgm {

namespace {
std::string &running() {
    static std::string version;
    return version;
}
}  // namespace

const std::string &current_migration_version() {
    return running();
}

RunningMigration::RunningMigration(const std::string &version) {
    running() = version;
}

RunningMigration::~RunningMigration() {
    running().clear();
}

}  // namespace pgm
