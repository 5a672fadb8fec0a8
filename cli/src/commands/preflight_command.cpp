// pgmig preflight: is it safe to migrate now? Exit 3 when a critical check fails.
#include "commands/command.hpp"
#include "commands/deploy_lock.hpp"
#include "commands/report_query.hpp"
#include "migrations/migration_files.hpp"
#include "migrations/registration.hpp"

#include <filesystem>
#include <optional>

namespace pgmig::commands {

int run_preflight(const std::string &to, const GlobalOptions &global) {
    // The folder's files count as up would see them: registered in a transaction that is
    // rolled back, so a file not registered yet is checked too, and nothing changes.
    std::optional<migrations::MigrationFolder> folder;
    if (std::filesystem::is_directory(global.dir)) {
        folder = migrations::read_folder(global.dir, global.format);
        migrations::require_no_problems(*folder);
    }
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    // Registering takes the migration lock: wait for a running deploy as up would (a minute),
    // rather than block it or be blocked without a word.
    std::optional<DeployLock> lock;
    if (folder) lock.emplace(conn, 60);
    db::Transaction probe(conn);
    if (folder) migrations::register_files_in_transaction(conn, *folder);
    // migrate_preflight() reads names with the caller's search_path: pass the user's.
    auto r = conn.query(
        "SELECT check_name, status, critical, detail FROM pg_migrate.preflight_report($1, $2)",
        {to.empty() ? db::Value() : db::Value(to), conn.user_search_path()});
    probe.rollback();
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
        "Checks the pending migrations as pgmig up would: the folder's files (registered in\n"
        "a transaction that is rolled back) and what is registered. Changes nothing.\n\n"
        "Example:\n  pgmig preflight --json");
    cmd->callback(
        [to, &global, &run] { run = [to, &global] { return run_preflight(*to, global); }; });
}

}  // namespace pgmig::commands
