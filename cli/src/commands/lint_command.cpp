// pgmig lint [FILES...]: the extension's linter over migration files (any server will do).
#include "commands/command.hpp"
#include "db/connection.hpp"
#include "migrations/extension_setup.hpp"
#include "migrations/migration_files.hpp"
#include "migrations/registration.hpp"
#include "ui/output.hpp"

#include <iostream>
#include <set>
#include <utility>

namespace pgmig::commands {

void setup_lint(CLI::App &app, GlobalOptions &global, Run &run) {
    auto files = std::make_shared<std::vector<std::string>>();
    auto *cmd = app.add_subcommand(
        "lint", "Lint migration files with PostgreSQL's parser (exit 1 on errors)");
    cmd->add_option("files", *files, "SQL files (default: the folder's migrations not applied)")
        ->check(CLI::ExistingFile);
    cmd->footer(
        "Uses migrate_lint() of the database --db points at; with an empty database the\n"
        "tables are unknown, so only rules that need no catalog apply. Without files, lints\n"
        "the up scripts of the folder's migrations that are not applied (as up would run\n"
        "them), in any layout.\n\n"
        "Examples:\n  pgmig lint\n  pgmig lint migrations/*.up.sql");
    cmd->callback([files, &global, &run] {
        run = [files, &global] {
            db::Connection conn(global.connection.db);
            // (file shown, script text): the files named, or the folder's pending migrations.
            std::vector<std::pair<std::string, std::string>> scripts;
            for (const auto &f : *files) scripts.emplace_back(f, migrations::read_file(f));
            if (files->empty()) {
                const auto folder = migrations::read_folder(global.dir, global.format);
                std::set<std::string> applied;
                if (migrations::installed_extension_version(conn))
                    for (const auto &d : migrations::database_sides(conn))
                        if (d.state == "applied") applied.insert(d.version);
                for (const auto &m : folder.migrations)
                    if (!applied.count(m.version)) scripts.emplace_back(m.up.string(), m.up_sql);
            }
            nlohmann::json out = nlohmann::json::array();
            ui::Table table{{"file", "stmt", "rule", "severity", "message"}, {}};
            bool errors = false;
            for (const auto &[f, text] : scripts) {
                auto r = conn.query(
                    "SELECT statement_number, rule, severity, message, alternative FROM "
                    "pg_migrate.lint_in_path($1, $2)",  // migrate_lint() with the user's path
                    {text, conn.user_search_path()});
                for (const auto &row : r.rows) {
                    errors = errors || row[2].value_or("") == "error";
                    out.push_back({{"file", f},
                                   {"statement", std::stoi(row[0].value_or("0"))},
                                   {"rule", row[1].value_or("")},
                                   {"severity", row[2].value_or("")},
                                   {"message", row[3].value_or("")},
                                   {"alternative", row[4].value_or("")}});
                    table.rows.push_back({f, row[0].value_or(""), row[1].value_or(""),
                                          ui::status_text(row[2].value_or("")),
                                          row[3].value_or("")});
                }
            }
            if (global.json)
                ui::print_json(std::cout, out);
            else if (table.rows.empty())
                std::cout << "no findings\n";
            else
                ui::print_table(std::cout, table);
            return errors ? 1 : 0;
        };
    });
}

}  // namespace pgmig::commands
