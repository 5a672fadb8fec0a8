// What pgmig up and down say after a Ctrl-C: the state every migration was left in.
#pragma once

#include "db/connection.hpp"

namespace pgmig::commands {

// Prints (stderr) which migrations are applied and which are not, after the running
// statement was cancelled and rolled back; then throws interrupt::Interrupted.
[[noreturn]] void report_interrupted(db::Connection &conn, const char *command);

}  // namespace pgmig::commands
