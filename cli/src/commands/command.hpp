// What every subcommand shares, and the setup functions main() assembles. One file per
// subcommand: setup_<cmd> binds its options and sets `run` when the subcommand is chosen.
#pragma once

#include "connection_options.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace pgmig::commands {

struct GlobalOptions {
    ConnectionOptions connection;
    std::string dir = "migrations";
    bool json = false;
};

using Run = std::function<int()>;

void setup_init(CLI::App &app, GlobalOptions &global, Run &run);
void setup_new(CLI::App &app, GlobalOptions &global, Run &run);
void setup_status(CLI::App &app, GlobalOptions &global, Run &run);
void setup_up(CLI::App &app, GlobalOptions &global, Run &run);
void setup_down(CLI::App &app, GlobalOptions &global, Run &run);
void setup_preflight(CLI::App &app, GlobalOptions &global, Run &run);
void setup_health(CLI::App &app, GlobalOptions &global, Run &run);
void setup_validate(CLI::App &app, GlobalOptions &global, Run &run);
void setup_lint(CLI::App &app, GlobalOptions &global, Run &run);
void setup_drift(CLI::App &app, GlobalOptions &global, Run &run);
void setup_seed(CLI::App &app, GlobalOptions &global, Run &run);
void setup_adopt(CLI::App &app, GlobalOptions &global, Run &run);

}  // namespace pgmig::commands
