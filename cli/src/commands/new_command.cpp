// pgmig new NAME: the files of a new migration, in the folder's own layout and version scheme
// (migrations/new_migration.hpp).
#include "commands/command.hpp"
#include "exit_code.hpp"
#include "migrations/folder_layout.hpp"
#include "migrations/migration_files.hpp"
#include "migrations/new_migration.hpp"
#include "ui/output.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace pgmig::commands {

namespace {

struct NewOptions {
    std::string name;
    bool verify = false;
};

// Writes every file or none: all must be new, and a failure part way removes what it wrote.
void write_all(const std::filesystem::path &dir, const std::vector<migrations::NewFile> &files) {
    for (const auto &f : files)
        if (std::filesystem::exists(dir / f.path))
            throw std::runtime_error((dir / f.path).string() + " already exists");
    std::vector<std::filesystem::path> written;
    try {
        for (const auto &f : files) {
            const auto path = dir / f.path;
            if (path.has_parent_path() && !std::filesystem::exists(path.parent_path())) {
                std::filesystem::create_directory(path.parent_path());
                written.push_back(path.parent_path());
            }
            std::ofstream out(path);
            if (!out) throw std::runtime_error("cannot write " + path.string());
            written.push_back(path);
            out << f.text;
            out.close();
            if (!out) throw std::runtime_error("cannot write " + path.string());
        }
    } catch (...) {
        std::error_code ignored;
        for (auto it = written.rbegin(); it != written.rend(); ++it)
            std::filesystem::remove(*it, ignored);
        throw;
    }
}

}  // namespace

void setup_new(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<NewOptions>();
    auto *cmd = app.add_subcommand("new", "Create the files of a new migration");
    cmd->add_option("name", opts->name, "Migration name: lower-case letters, digits, underscores")
        ->required();
    cmd->add_flag("--verify", opts->verify, "Also create a .verify.sql file (pgmig's layout)");
    cmd->footer(
        "The files follow the folder: its layout (pgmig's, or golang-migrate's, dbmate's,\n"
        "Flyway's, sqlx's, Diesel's, pop's: see --format) and its numbering (UTC\n"
        "timestamps; sequential numbers 0001, 0002 in a folder of sequential numbers;\n"
        "Unix seconds in a folder of those). The new version is after every existing one.\n\n"
        "Examples:\n  pgmig new add_user_roles --verify\n"
        "  -> migrations/20261122093000_add_user_roles.up.sql, .down.sql, .verify.sql\n"
        "  pgmig --dir db/migrations new add_email     (a dbmate folder)\n"
        "  -> db/migrations/20261122093000_add_email.sql, with -- migrate:up/down sections");
    cmd->callback([opts, &global, &run] {
        run = [opts, &global] {
            if (auto problem = migrations::name_problem(opts->name))
                throw UsageError("invalid name: " + *problem);
            if (!std::filesystem::is_directory(global.dir))
                throw std::runtime_error("migrations folder " + global.dir +
                                         " does not exist (pgmig init creates it)");
            // read_folder checks --format (a usage error when unknown) and finds the layout.
            const auto folder = migrations::read_folder(global.dir, global.format);
            const auto listing =
                migrations::list_layout(global.dir, migrations::parse_layout_name(folder.layout));
            migrations::NewMigration plan;
            try {
                plan = migrations::plan_new_migration(listing.layout, listing.scripts, opts->name,
                                                      opts->verify, std::time(nullptr));
            } catch (const std::invalid_argument &e) {
                throw UsageError(e.what());
            }
            const std::filesystem::path dir(global.dir);
            write_all(dir, plan.files);
            if (global.json) {
                nlohmann::json files = nlohmann::json::array();
                for (const auto &f : plan.files) files.push_back((dir / f.path).string());
                ui::print_json(std::cout, {{"version", plan.version},
                                           {"layout", migrations::layout_name(listing.layout)},
                                           {"scheme", plan.scheme},
                                           {"files", files}});
            } else {
                for (const auto &f : plan.files) std::cout << (dir / f.path).string() << "\n";
            }
            return 0;
        };
    });
}

}  // namespace pgmig::commands
