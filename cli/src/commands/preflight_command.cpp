// pgmig preflight: is it safe to migrate now? Exit 3 when a critical check fails.
#include "commands/command.hpp"
#include "commands/report_query.hpp"
#include "migrations/registration.hpp"

namespace pgmig::commands {

int run_preflight(const std::string &to, const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    // migrate_preflight() reads names with the caller's search_path: pass the user's.
    auto r = conn.query(
        "SELECT check_name, status, critical, detail FROM pg_migrate.preflight_report($1, $2)",
        {to.empty() ? db::Value() : db::Value(to), conn.user_search_path()});
    print_result(global, r, 1);
    for (const auto &row : r.rows)
        if (row[1].value_or("") == "fail" && row[2].value_or("f") == "t") return 3;
    return 0;
}

void setup_preflight(CLI::App &app, GlobalOptions &global, Run &run) {
    auto to = std::make_shared<std::string>();
    auto *cmd = app.add_subcommand(
        "preflight", "Pre-flight safety checks with a score (exit 3 on a critical failure)");
    cmd->add_option("--to", *to, "Only the migrations up to this version");
    cmd->footer(
        "Checks registered migrations; run `pgmig up --dry-run` or `pgmig status` for files.\n\n"
        "Example:\n  pgmig preflight --json");
    cmd->callback(
        [to, &global, &run] { run = [to, &global] { return run_preflight(*to, global); }; });
}

}  // namespace pgmig::commands
