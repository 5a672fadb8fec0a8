// pgmig new NAME: the files of a new migration, versioned with the current UTC time.
#include "commands/command.hpp"
#include "exit_code.hpp"
#include "migrations/migration_files.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace pgmig::commands {

namespace {

struct NewOptions {
    std::string name;
    bool verify = false;
};

std::string utc_version() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
    return buf;
}

void write_new(const std::filesystem::path &path, const std::string &text) {
    if (std::filesystem::exists(path)) throw std::runtime_error(path.string() + " already exists");
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    out << text;
}

}  // namespace

void setup_new(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<NewOptions>();
    auto *cmd = app.add_subcommand("new", "Create the files of a new migration");
    cmd->add_option("name", opts->name, "Migration name: lower-case letters, digits, underscores")
        ->required();
    cmd->add_flag("--verify", opts->verify, "Also create a .verify.sql file");
    cmd->footer(
        "Example:\n  pgmig new add_user_roles --verify\n"
        "  -> migrations/20261122093000_add_user_roles.up.sql, .down.sql, .verify.sql");
    cmd->callback([opts, &global, &run] {
        run = [opts, &global] {
            if (auto problem = migrations::name_problem(opts->name))
                throw UsageError("invalid name: " + *problem);
            if (!std::filesystem::is_directory(global.dir))
                throw std::runtime_error("migrations folder " + global.dir +
                                         " does not exist (pgmig init creates it)");
            const std::string base = utc_version() + "_" + opts->name;
            const std::filesystem::path dir(global.dir);
            write_new(dir / (base + ".up.sql"),
                      "-- " + base +
                          ": what this migration changes, and why.\n"
                          "-- Runs in its own transaction. Directives (SQL comments at the top):\n"
                          "--   -- pgmig:no-transaction     run statement by statement (CREATE "
                          "INDEX CONCURRENTLY)\n"
                          "--   -- pgmig:snapshot <table>   snapshot a table before this migration "
                          "runs\n\n");
            write_new(dir / (base + ".down.sql"),
                      "-- Reverts " + base +
                          ". Delete this file if the migration cannot be reverted.\n\n");
            if (opts->verify)
                write_new(
                    dir / (base + ".verify.sql"),
                    "-- Checks " + base +
                        " after it ran, in the same transaction: every\n"
                        "-- boolean in the first column of every row must be true, e.g.\n"
                        "--   SELECT count(*) = 0 FROM user_profiles WHERE role IS NULL;\n\n");
            std::cout << (dir / (base + ".up.sql")).string() << "\n"
                      << (dir / (base + ".down.sql")).string() << "\n";
            if (opts->verify) std::cout << (dir / (base + ".verify.sql")).string() << "\n";
            return 0;
        };
    });
}

}  // namespace pgmig::commands
