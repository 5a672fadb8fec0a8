// pgmig validate: run the validation checks. Exit 1 when an error-severity check fails.
#include "commands/command.hpp"
#include "commands/report_query.hpp"
#include "migrations/registration.hpp"

namespace pgmig::commands {

int run_validate(const std::string &category, const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    auto r = conn.query(
        "SELECT check_name, category, severity, status, violations, sample::text AS "
        "sample, message "
        "FROM pg_migrate.validate_run($1, $2)",  // migrate_validate() with the user's path
        {category.empty() ? db::Value() : db::Value(category), conn.user_search_path()});
    print_result(global, r, 3);
    for (const auto &row : r.rows)
        if (row[2].value_or("") == "error" && row[3].value_or("") != "pass") return 1;
    return 0;
}

void setup_validate(CLI::App &app, GlobalOptions &global, Run &run) {
    auto category = std::make_shared<std::string>();
    auto *cmd = app.add_subcommand("validate",
                                   "Run the validation checks (exit 1 when an error check fails)");
    cmd->add_option("--category", *category,
                    "schema, integrity, relationships, business or performance");
    cmd->footer("Examples:\n  pgmig validate\n  pgmig validate --category relationships --json");
    cmd->callback([category, &global, &run] {
        run = [category, &global] { return run_validate(*category, global); };
    });
}

}  // namespace pgmig::commands
