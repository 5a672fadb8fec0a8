// A project's settings for pgmig: pgmig.toml (in the working directory, or --config FILE)
// and PGMIG_* environment variables, each naming a long option. Precedence: a flag on the
// command line > PGMIG_* > DATABASE_URL (for --db) > the file > the built-in default. They
// become the options' defaults before CLI11 parses the command line, so a flag still wins.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pgmig {

struct ConfigSetting {
    std::vector<std::string> command;  // the subcommand path ([up], [backup.create]); empty: global
    std::string option;                // the long option without dashes: "lock-wait"
    std::string value;                 // as it would be typed after the option
    std::string source;                // "pgmig.toml:4" or "PGMIG_LOCK_WAIT", for errors
};

// The settings of a TOML file. Top-level keys are global options (db, dir, format); a table
// is a command ([up] lock-wait = 30; [backup.create] ...). Values are strings, integers,
// booleans or arrays of strings (repeatable options). Throws UsageError naming the file and
// line for a file that is not TOML or holds another kind of value.
std::vector<ConfigSetting> read_config_file(const std::filesystem::path &path);

// PGMIG_<OPTION> variables (PGMIG_LOCK_WAIT is --lock-wait) from `lookup` (getenv in pgmig),
// for each long option name in `option_names`. DATABASE_URL is --db's, below PGMIG_DB.
std::vector<ConfigSetting> read_environment(
    const std::vector<std::string> &option_names,
    const std::function<std::optional<std::string>(const std::string &)> &lookup);

// Every long option name of the app and its subcommands ("db", "lock-wait", ...).
std::vector<std::string> long_option_names(const CLI::App &app);

// Applies `settings`, in order (later ones win), as defaults of the options they name. A
// setting for a command applies to its option of that name, or else to that option of every
// command under it. Throws UsageError for a setting that names no command or option, or a
// value the option refuses, naming the setting's source (never a value: it may be a secret).
void apply_settings(CLI::App &app, const std::vector<ConfigSetting> &settings);

// The --config FILE (or --config=FILE) of a command line, before it is parsed.
std::optional<std::string> config_flag(int argc, char **argv);

}  // namespace pgmig
