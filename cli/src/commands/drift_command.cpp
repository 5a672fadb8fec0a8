// pgmig drift: what changed in the schema outside migrations since the last one ran.
#include "commands/command.hpp"
#include "commands/report_query.hpp"
#include "migrations/registration.hpp"

#include <iostream>
#include <memory>

namespace pgmig::commands {

void setup_drift(CLI::App &app, GlobalOptions &global, Run &run) {
    auto accept = std::make_shared<bool>(false);
    auto *cmd = app.add_subcommand(
        "drift", "Objects added, removed or changed outside migrations (exit 1 on drift)");
    cmd->add_flag("--accept", *accept,
                  "Record the schema as it is now as the baseline: the drift is accepted");
    cmd->footer(
        "Compares the live schema with the fingerprint the extension recorded after the\n"
        "last migration (tables, columns, types, indexes, constraints, views, functions,\n"
        "triggers).\n\nExamples:\n  pgmig drift\n  pgmig drift --json");
    cmd->callback([accept, &global, &run] {
        run = [accept, &global] {
            db::Connection conn(global.connection.db);
            migrations::require_extension(conn);
            if (*accept) {
                const auto changes =
                    conn.query("SELECT count(*)::text FROM @extschema@.migrate_drift()")
                        .rows.at(0)
                        .at(0)
                        .value_or("0");
                conn.query("SELECT pg_migrate.record_schema_fingerprint(NULL)");
                std::cout << "recorded the schema as it is now as the baseline (" << changes
                          << " change(s) accepted)\n";
                return 0;
            }
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
