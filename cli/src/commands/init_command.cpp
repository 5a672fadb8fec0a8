// pgmig init: the extension in the database and a migrations folder on disk.
#include "commands/command.hpp"
#include "db/connection.hpp"

#include <filesystem>
#include <iostream>

namespace pgmig::commands {

void setup_init(CLI::App &app, GlobalOptions &global, Run &run) {
    auto *cmd = app.add_subcommand(
        "init", "Create the pg_migrate extension (if missing) and the migrations folder");
    cmd->footer(
        "Example:\n  pgmig init --db postgresql://admin@db1/app\n\n"
        "CREATE EXTENSION needs a superuser and the extension's files installed on the\n"
        "server (make install); pgmig says which is missing.");
    cmd->callback([&global, &run] {
        run = [&global] {
            db::Connection conn(global.connection.db);
            auto have = conn.query(
                "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_migrate'");
            if (have.rows.empty()) {
                auto available = conn.query(
                    "SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = "
                    "'pg_migrate'");
                if (available.rows.empty())
                    throw std::runtime_error(
                        "the pg_migrate extension is not installed on this server: run `make "
                        "install` "
                        "(as root) on the database host, then pgmig init again");
                try {
                    // In the user's first schema, as a CREATE EXTENSION of theirs would be.
                    conn.with_user_search_path([&] { conn.exec("CREATE EXTENSION pg_migrate"); });
                    conn.pin_search_path();  // now with the extension's schema
                } catch (const db::DbError &e) {
                    if (e.sqlstate() == "42501")
                        throw std::runtime_error(
                            "creating the pg_migrate extension needs a superuser: run pgmig init "
                            "once "
                            "as one (for example --db postgresql://postgres@host/db), then grant "
                            "the "
                            "deploy role as docs/security.md shows");
                    throw;
                }
                have = conn.query(
                    "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_migrate'");
                std::cout << "created extension pg_migrate " << have.rows[0][0].value_or("")
                          << "\n";
            } else {
                std::cout << "extension pg_migrate " << have.rows[0][0].value_or("")
                          << " already installed\n";
            }
            if (std::filesystem::create_directories(global.dir))
                std::cout << "created folder " << global.dir << "/\n";
            else
                std::cout << "folder " << global.dir << "/ exists\n";
            return 0;
        };
    });
}

}  // namespace pgmig::commands
