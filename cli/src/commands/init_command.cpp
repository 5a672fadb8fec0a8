// pgmig init: the extension in the database and a migrations folder on disk.
#include "commands/command.hpp"
#include "db/connection.hpp"
#include "migrations/extension_setup.hpp"

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
            if (auto version = migrations::installed_extension_version(conn))
                std::cout << "extension pg_migrate " << *version << " already installed\n";
            else
                std::cout << "created extension pg_migrate "
                          << migrations::create_extension(conn, *schema) << "\n";
            if (std::filesystem::create_directories(global.dir))
                std::cout << "created folder " << global.dir << "/\n";
            else
                std::cout << "folder " << global.dir << "/ exists\n";
            return 0;
        };
    });
}

}  // namespace pgmig::commands
