// pgmig init: the extension in the database and a migrations folder on disk.
#include "commands/command.hpp"
#include "db/connection.hpp"
#include "migrations/extension_setup.hpp"
#include "ui/output.hpp"

#include <filesystem>
#include <iostream>

namespace pgmig::commands {

void setup_init(CLI::App &app, GlobalOptions &global, Run &run) {
    auto schema = std::make_shared<std::string>();
    auto *cmd = app.add_subcommand(
        "init", "Create the pg_migrate extension (if missing) and the migrations folder");
    cmd->add_option("--schema", *schema,
                    "Schema to create the extension in (default: the first schema of your "
                    "search_path); one only trusted roles can create objects in")
        ->type_name("NAME");
    cmd->footer(
        "Example:\n  pgmig init --db postgresql://admin@db1/app\n\n"
        "CREATE EXTENSION needs a superuser and the extension's files installed on the\n"
        "server (make install); pgmig says which is missing.");
    cmd->callback([schema, &global, &run] {
        run = [schema, &global] {
            db::Connection conn(global.connection.db);
            std::string version;
            bool created_extension = false;
            if (auto installed = migrations::installed_extension_version(conn)) {
                version = *installed;
            } else {
                version = migrations::create_extension(conn, *schema);
                created_extension = true;
            }
            const bool created_folder = std::filesystem::create_directories(global.dir);
            if (global.json) {
                ui::print_json(std::cout, {{"extension_version", version},
                                           {"created_extension", created_extension},
                                           {"folder", global.dir},
                                           {"created_folder", created_folder}});
                return 0;
            }
            std::cout << (created_extension ? "created extension pg_migrate "
                                            : "extension pg_migrate ")
                      << version << (created_extension ? "" : " already installed") << "\n";
            std::cout << (created_folder ? "created folder " : "folder ") << global.dir
                      << (created_folder ? "/\n" : "/ exists\n");
            return 0;
        };
    });
}

}  // namespace pgmig::commands
