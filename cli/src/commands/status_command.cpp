// pgmig status: migration files against the database.
#include "commands/command.hpp"
#include "db/connection.hpp"
#include "migrations/registration.hpp"
#include "ui/output.hpp"

#include <iostream>

namespace pgmig::commands {

void setup_status(CLI::App &app, GlobalOptions &global, Run &run) {
    auto strict = std::make_shared<bool>(false);
    auto *cmd = app.add_subcommand("status", "Show every migration: files against the database");
    cmd->add_flag("--strict", *strict,
                  "Exit 1 when a migration is failed, modified after apply, missing its file, or "
                  "out of order");
    cmd->footer(
        "States: pending, applied, failed, rolled_back, modified (file changed after\n"
        "apply), missing-file (applied, file gone); out-of-order marks a pending\n"
        "migration older than an applied one.\n\nExamples:\n  pgmig status\n  pgmig status "
        "--strict --json");
    cmd->callback([strict, &global, &run] {
        run = [strict, &global] {
            const auto folder = migrations::read_folder(global.dir, global.format);
            db::Connection conn(global.connection.db);
            migrations::require_extension(conn);
            const auto rows = migrations::compare(migrations::file_sides(folder),
                                                  migrations::database_sides(conn));
            bool problems = !folder.problems.empty();
            for (const auto &r : rows) problems = problems || r.problem();
            if (global.json) {
                nlohmann::json out = nlohmann::json::array();
                for (const auto &r : rows)
                    out.push_back({{"version", r.version},
                                   {"name", r.name},
                                   {"state", r.state},
                                   {"out_of_order", r.out_of_order},
                                   {"registered", r.registered},
                                   {"note", r.note}});
                nlohmann::json doc = {
                    {"layout", folder.layout},   {"layout_found_by", folder.layout_found_by},
                    {"migrations", out},         {"problems", nlohmann::json::array()},
                    {"ignored", folder.ignored}, {"repeatables", nlohmann::json::array()}};
                for (const auto &r : folder.repeatables)
                    doc["repeatables"].push_back(r.path.filename().string());
                for (const auto &p : folder.problems)
                    doc["problems"].push_back({{"file", p.file}, {"problem", p.problem}});
                ui::print_json(std::cout, doc);
            } else {
                std::cout << "layout: " << folder.layout << ", from " << folder.layout_found_by
                          << "\n";
                ui::Table table{{"version", "name", "state", "note"}, {}};
                for (const auto &r : rows)
                    table.rows.push_back(
                        {r.version, r.name,
                         ui::status_text(r.state) + (r.out_of_order ? " (out of order)" : ""),
                         r.note});
                ui::print_table(std::cout, table);
                for (const auto &p : folder.problems)
                    std::cout << "problem: " << p.file << ": " << p.problem << "\n";
                for (const auto &f : folder.ignored) std::cout << "ignored: " << f << "\n";
                for (const auto &r : folder.repeatables)
                    std::cout << "repeatable: " << r.path.filename().string()
                              << " (runs after the migrations whenever it changed)\n";
            }
            return *strict && problems ? 1 : 0;
        };
    });
}

}  // namespace pgmig::commands
