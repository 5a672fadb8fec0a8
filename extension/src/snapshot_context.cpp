#include "snapshot_context.hpp"

#include "pg/error.hpp"

namespace pgm {

namespace {
std::string &running() {
    static std::string version;
    return version;
}
int user_scripts_running = 0;
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

UserScriptRunning::UserScriptRunning() {
    ++user_scripts_running;
}

UserScriptRunning::~UserScriptRunning() {
    --user_scripts_running;
}

bool user_script_is_running() {
    return user_scripts_running > 0;
}

void refuse_inside_migration(const char *function) {
    if (user_scripts_running == 0) return;
    throw pg::UserError("0A000",
                        std::string(function) + " cannot be called from inside a running migration",
                        "Migration " + running() +
                            " is running; a migration that applied, reverted or restored "
                            "from within itself would run out of order and be logged twice.",
                        "Remove the call from the migration's script.");
}

}  // namespace pgm
