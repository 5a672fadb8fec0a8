// pgmig drift: what changed in the schema outside migrations since the last one ran.
#include "commands/command.hpp"
#include "commands/report_query.hpp"
#include "migrations/registration.hpp"

#include <iostream>

namespace pgmig::commands {

void setup_drift(CLI::App &app, GlobalOptions &global, Run &run) {
    auto *cmd = app.add_subcommand(
        "drift", "Objects added, removed or changed outside migrations (exit 1 on drift)");
    cmd->footer(
        "Compares the live schema with the fingerprint the extension recorded after the\n"
        "last migration (tables, columns, types, indexes, constraints, views, functions,\n"
        "triggers).\n\nExamples:\n  pgmig drift\n  pgmig drift --json");
    cmd->callback([&global, &run] {
        run = [&global] {
            db::Connection conn(global.connection.db);
            migrations::require_extension(conn);
            auto recorded = conn.query(
                "SELECT last_version, taken_at::text FROM pg_migrate.schema_fingerprint ORDER BY "
                "id DESC LIMIT 1");
            if (recorded.rows.empty()) {
                if (global.json)
                    std::cout << "[]\n";
                else
                    std::cout << "no schema fingerprint recorded yet: it is taken after the next "
                                 "migration\n";
                return 0;
            }
            auto r = conn.query(
                "SELECT change, object, recorded, live FROM @extschema@.migrate_drift()");
            if (!global.json && r.rows.empty()) {
                std::cout << "no drift since migration " << recorded.rows[0][0].value_or("(none)")
                          << " (" << recorded.rows[0][1].value_or("") << ")\n";
                return 0;
            }
            print_result(global, r, 0);
            return r.rows.empty() ? 0 : 1;
        };
    });
}

}  // namespace pgmig::commands
