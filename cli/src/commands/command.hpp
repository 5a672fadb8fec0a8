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
    std::string format;  // the folder's layout ("" finds it): migrations/folder_layout.hpp
    bool json = false;
};

using Run = std::function<int()>;

// The commands run-all chains, callable with their options.
struct UpOptions {
    std::string to;
    bool dry_run = false;
    bool atomic = false;
    bool no_preflight = false;
    bool allow_out_of_order = false;
    bool strict = false;  // refuse when the schema drifted since the last migration
    int lock_wait_seconds = 600;
};
struct SeedOptions {
    std::string dir = "seeds";
    bool dry_run = false;
};
int run_up(const UpOptions &opts, const GlobalOptions &global);
int run_seed(const SeedOptions &opts, const GlobalOptions &global);
int run_preflight(const std::string &to, const GlobalOptions &global);
int run_validate(const std::string &category, const GlobalOptions &global);
int run_health(const GlobalOptions &global);

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
void setup_run_all(CLI::App &app, GlobalOptions &global, Run &run);
void setup_monitor(CLI::App &app, GlobalOptions &global, Run &run);
void setup_testdata(CLI::App &app, GlobalOptions &global, Run &run);
void setup_backup(CLI::App &app, GlobalOptions &global, Run &run);
void setup_snapshot(CLI::App &app, GlobalOptions &global, Run &run);
void setup_repair(CLI::App &app, GlobalOptions &global, Run &run);

}  // namespace pgmig::commands
