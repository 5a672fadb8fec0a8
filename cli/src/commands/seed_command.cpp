// pgmig seed [DIR]: idempotent seed files, tracked by checksum like repeatable migrations.
#include "checksum.hpp"
#include "commands/command.hpp"
#include "commands/deploy_lock.hpp"
#include "db/connection.hpp"
#include "migrations/migration_files.hpp"
#include "migrations/registration.hpp"
#include "ui/output.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

namespace pgmig::commands {

int run_seed(const SeedOptions &opts, const GlobalOptions &global) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(opts.dir))
        throw std::runtime_error("seed folder " + opts.dir + " does not exist");
    std::vector<fs::path> files;
    for (const auto &e : fs::directory_iterator(opts.dir))
        if (e.is_regular_file() && e.path().extension() == ".sql") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    std::unique_ptr<DeployLock> lock;  // one deploy (migrations or seeds) at a time
    if (!opts.dry_run) lock = std::make_unique<DeployLock>(conn, 600);
    std::vector<std::vector<std::string>> rows;  // file, status, ms, message
    bool failed = false;
    for (const auto &path : files) {
        const std::string name = path.filename().string();
        const std::string sql = migrations::read_file(path);
        const std::string checksum = pgm::script_checksum(sql);
        auto known = conn.query("SELECT checksum FROM pg_migrate.seed WHERE file = $1", {name});
        const bool unchanged = !known.rows.empty() && known.rows[0][0].value_or("") == checksum;
        const std::string why = known.rows.empty() ? "new" : (unchanged ? "unchanged" : "changed");
        if (unchanged) {
            rows.push_back({name, "skipped", "", "unchanged"});
            continue;
        }
        if (opts.dry_run) {
            rows.push_back({name, "would_apply", "", why});
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        try {
            db::Transaction tx(conn);  // a failing seed leaves nothing behind
            conn.exec(sql);
            const std::string ms = ui::elapsed_ms(t0);
            conn.query(
                "INSERT INTO pg_migrate.seed (file, checksum, duration_ms) VALUES ($1, $2, "
                "$3::numeric) "
                "ON CONFLICT (file) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at "
                "= now(), "
                "applied_by = session_user, duration_ms = EXCLUDED.duration_ms, runs = "
                "pg_migrate.seed.runs + 1",
                {name, checksum, ms});
            tx.commit();
            rows.push_back({name, "applied", ms, why});
        } catch (const db::DbError &e) {
            rows.push_back({name, "failed", "", e.sqlstate() + ": " + e.what() + " (rolled back)"});
            failed = true;
            break;
        }
    }
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &r : rows)
            out.push_back({{"file", r[0]}, {"status", r[1]}, {"message", r[3]}});
        ui::print_json(std::cout, out);
    } else if (rows.empty()) {
        std::cout << "no seed files in " << opts.dir << "\n";
    } else {
        ui::Table table{{"file", "status", "ms", "message"}, {}};
        for (auto r : rows) {
            r[1] = ui::status_text(r[1] == "applied" ? "applied" : r[1]);
            table.rows.push_back(r);
        }
        ui::print_table(std::cout, table);
    }
    return failed ? 1 : 0;
}

void setup_seed(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<SeedOptions>();
    auto *cmd = app.add_subcommand(
        "seed", "Apply seed files: new or changed ones run, unchanged ones are skipped");
    cmd->add_option("dir", opts->dir,
                    "Folder of *.sql seed files, applied in name order (default: seeds)");
    cmd->add_flag("--dry-run", opts->dry_run, "Show what would run; change nothing");
    cmd->footer(
        "Each file runs in its own transaction and is recorded in pg_migrate.seed with its\n"
        "checksum; write seeds so that running them again is harmless (INSERT ... ON\n"
        "CONFLICT DO UPDATE). Stops at the first failing file (exit 1).\n\n"
        "Examples:\n  pgmig seed\n  pgmig seed fixtures --dry-run");
    cmd->callback(
        [opts, &global, &run] { run = [opts, &global] { return run_seed(*opts, global); }; });
}

}  // namespace pgmig::commands
