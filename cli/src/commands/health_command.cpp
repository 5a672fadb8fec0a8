// pgmig health: the extension's health report. Exit 1 when it is critical.
#include "commands/command.hpp"
#include "db/connection.hpp"
#include "migrations/registration.hpp"
#include "ui/output.hpp"

#include <iostream>

namespace pgmig::commands {

int run_health(const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    // migrate_health() with the user's search_path, which it reads names with
    auto r = conn.query("SELECT pg_migrate.health_report($1)::text", {conn.user_search_path()});
    const auto health = nlohmann::json::parse(r.rows.at(0).at(0).value_or("{}"));
    if (global.json) {
        ui::print_json(std::cout, health);
    } else {
        std::cout << "overall: " << ui::status_text(health.value("overall", ""))
                  << "  safety score: " << health.value("safety_score", 0) << "\n";
        ui::Table table{{"check", "status", "message"}, {}};
        for (const auto &c : health["checks"])
            table.rows.push_back({c.value("name", ""), ui::status_text(c.value("status", "")),
                                  c.value("message", "")});
        ui::print_table(std::cout, table);
    }
    return health.value("overall", "") == "critical" ? 1 : 0;
}

void setup_health(CLI::App &app, GlobalOptions &global, Run &run) {
    auto *cmd = app.add_subcommand(
        "health", "Health report: pending and failed migrations, validation, snapshots, logs");
    cmd->footer("Exit 1 when overall is critical.\n\nExample:\n  pgmig health --json");
    cmd->callback([&global, &run] { run = [&global] { return run_health(global); }; });
}

}  // namespace pgmig::commands
