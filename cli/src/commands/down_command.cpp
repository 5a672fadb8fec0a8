// pgmig down --to V | --steps N: run down scripts, newest first. Never everything by default.
#include "commands/command.hpp"
#include "commands/deploy_lock.hpp"
#include "commands/interrupt_report.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "interrupt.hpp"
#include "migration_version.hpp"
#include "migrations/outside_transaction.hpp"
#include "migrations/migration_files.hpp"
#include "migrations/registration.hpp"
#include "ui/output.hpp"

#include <chrono>
#include <iostream>
#include <set>

namespace pgmig::commands {

namespace {
struct DownOptions {
    std::string to;
    int steps = 0;
    bool dry_run = false;
};
}  // namespace

void setup_down(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<DownOptions>();
    auto *cmd =
        app.add_subcommand("down", "Roll back applied migrations (requires --to or --steps)");
    auto *to = cmd->add_option("--to", opts->to,
                               "Roll back every migration newer than this version ('0': all)");
    auto *steps = cmd->add_option("--steps", opts->steps,
                                  "Roll back this many of the newest applied migrations");
    to->excludes(steps);
    cmd->add_flag("--dry-run", opts->dry_run, "Show what would be rolled back; change nothing");
    cmd->footer(
        "A bare `pgmig down` refuses: say how far.\n\nExamples:\n"
        "  pgmig down --steps 1\n  pgmig down --to 20261122090000 --dry-run");
    cmd->callback([opts, &global, &run] {
        run = [opts, &global] {
            if (opts->to.empty() && opts->steps <= 0)
                throw UsageError(
                    "pgmig down needs --to VERSION or --steps N (a bare down never reverts "
                    "everything)");
            // --to as Flyway's files spell a version (1.1) means that migration's version.
            // (down needs no folder: one pgmig cannot read leaves --to as it is.)
            if (!opts->to.empty()) {
                try {
                    for (const auto &m :
                         migrations::read_folder(global.dir, global.format).migrations)
                        if (m.shown_version == opts->to) opts->to = m.version;
                } catch (const std::exception &) {
                }
            }
            if (!opts->to.empty())
                if (auto problem = pgm::version_problem(opts->to))
                    throw UsageError("invalid --to: " + *problem);
            db::Connection conn(global.connection.db);
            migrations::require_extension(conn);
            std::unique_ptr<DeployLock> lock;
            if (!opts->dry_run) lock = std::make_unique<DeployLock>(conn, 600);
            std::string target = opts->to;
            if (target.empty()) {
                // N steps back: the target is the applied migration just below the N newest.
                auto r = conn.query(
                    "SELECT coalesce((SELECT version FROM pg_migrate.migration WHERE state = "
                    "'applied' "
                    "ORDER BY version_order DESC OFFSET $1::int LIMIT 1), '0')",
                    {std::to_string(opts->steps)});
                target = r.rows.at(0).at(0).value_or("0");
            }
            // Refuse before reverting anything when the extension would refuse a part of it
            // (no down script, unknown target); down scripts pgmig runs itself are fine.
            if (!opts->dry_run) {
                auto check = conn.query(
                    "SELECT string_agg(version || ' (' || name || '): ' || message, '; ') "
                    "FROM @extschema@.migrate_rollback($1, true) WHERE status = 'refused' "
                    "AND message NOT LIKE 'the down script cannot run in a transaction%'",
                    {target});
                if (check.rows.at(0).at(0))
                    throw std::runtime_error("cannot roll back; nothing was rolled back: " +
                                             *check.rows.at(0).at(0));
            }
            // Newest first; down scripts that cannot run in a transaction run here, statement
            // by statement; the others go through migrate_rollback() in groups.
            auto plan = conn.query(
                "SELECT version, name, down_requires_no_transaction FROM pg_migrate.migration "
                "WHERE state = 'applied' AND version_order > $1::numeric ORDER BY version_order "
                "DESC",
                {target});
            std::vector<std::vector<std::string>> rows;  // version, name, status, ms, message
            bool failed = false;
            size_t i = 0;
            try {
                while (i < plan.rows.size() && !failed) {
                    const std::string version = plan.rows[i][0].value_or("");
                    const std::string name = plan.rows[i][1].value_or("");
                    if (plan.rows[i][2].value_or("f") == "t") {
                        if (opts->dry_run) {
                            rows.push_back(
                                {version, name, "would_roll_back", "", "outside a transaction"});
                            ++i;
                            continue;
                        }
                        const auto start = std::chrono::steady_clock::now();
                        auto failure = migrations::run_outside_transaction(
                            conn, "rollback of " + version,
                            migrations::registered_statements(conn, version, true), 1, [](int) {});
                        const std::string ms = ui::elapsed_ms(start);
                        if (failure) {
                            conn.query(
                                "SELECT @extschema@.migrate_external_finish($1, NULL, false, "
                                "$2::numeric, $3, $4, "
                                "$5, $6::int, 'rollback')",
                                {version, ms, failure->sqlstate, failure->message, failure->sql,
                                 std::to_string(failure->number)});
                            rows.push_back({version, name, "failed", ms,
                                            failure->sqlstate + ": " + failure->message +
                                                " (down statement " +
                                                std::to_string(failure->number) + ")"});
                            failed = true;
                        } else {
                            conn.query(
                                "SELECT @extschema@.migrate_external_finish($1, NULL, true, "
                                "$2::numeric, operation "
                                "=> 'rollback')",
                                {version, ms});
                            rows.push_back(
                                {version, name, "rolled_back", ms, "outside a transaction"});
                        }
                        ++i;
                        continue;
                    }
                    size_t j = i;
                    while (j + 1 < plan.rows.size() && plan.rows[j + 1][2].value_or("f") != "t")
                        ++j;
                    const std::string group_target =
                        j + 1 < plan.rows.size() ? plan.rows[j + 1][0].value_or("0") : target;
                    // The down scripts run with the user's search_path; this text names nothing
                    // else unqualified.
                    auto r = conn.with_user_search_path([&] {
                        return conn.query(
                            "SELECT version, name, status, "
                            "duration_ms::pg_catalog.text, message FROM " +
                                conn.extension_function("migrate_rollback") +
                                "($1, $2::pg_catalog.bool)",
                            {group_target, std::string(opts->dry_run ? "true" : "false")});
                    });
                    std::set<std::string> group;
                    for (size_t k = i; k <= j; ++k) group.insert(plan.rows[k][0].value_or(""));
                    // In a dry run the extension blocks this group because of down scripts that
                    // this command runs itself; it would roll back unless one of its own is
                    // refused.
                    bool group_refused = false;
                    for (const auto &row : r.rows)
                        group_refused = group_refused || (group.count(row[0].value_or("")) &&
                                                          row[2].value_or("") == "refused");
                    for (auto row : r.rows) {
                        // A dry run's answer also lists what this command handles itself.
                        if (!group.count(row[0].value_or(""))) continue;
                        if (row[2].value_or("") == "blocked" && !group_refused) {
                            row[2] = std::string("would_roll_back");
                            row[4] = std::string("");
                        }
                        rows.push_back({row[0].value_or(""), row[1].value_or(""),
                                        row[2].value_or(""), row[3].value_or(""),
                                        row[4].value_or("")});
                        failed = failed || row[2].value_or("") == "failed";
                    }
                    i = j + 1;
                }
                if (interrupt::requested()) report_interrupted(conn, "down");
            } catch (...) {
                if (interrupt::requested() && !interrupt::report_allowed())
                    report_interrupted(conn, "down");
                throw;
            }
            if (global.json) {
                nlohmann::json out = nlohmann::json::array();
                for (const auto &row : rows)
                    out.push_back({{"version", row[0]},
                                   {"name", row[1]},
                                   {"status", row[2]},
                                   {"message", row[4]}});
                ui::print_json(std::cout, out);
            } else if (rows.empty()) {
                std::cout << "nothing to roll back\n";
            } else {
                ui::Table table{{"version", "name", "status", "ms", "message"}, {}};
                for (auto row : rows) {
                    row[2] = ui::status_text(row[2]);
                    table.rows.push_back(row);
                }
                ui::print_table(std::cout, table);
            }
            return failed ? 1 : 0;
        };
    });
}

}  // namespace pgmig::commands
