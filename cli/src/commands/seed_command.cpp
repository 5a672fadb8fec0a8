// pgmig seed [DIR]: idempotent seed files, tracked by checksum like repeatable migrations.
#include "checksum.hpp"
#include "commands/command.hpp"
#include "commands/deploy_lock.hpp"
#include "db/connection.hpp"
#include "migrations/migration_files.hpp"
#include "migrations/registration.hpp"
#include "migrations/terminal_text.hpp"
#include "migrations/transaction_control.hpp"
#include "ui/output.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

namespace pgmig::commands {

namespace {

struct SeedFile {
    std::string name;  // the file name, the key of pg_migrate.seed
    std::string sql;   // as read_file() returned it
    std::string checksum;
    std::string why;  // new, changed or unchanged
};

}  // namespace

int run_seed(const SeedOptions &opts, const GlobalOptions &global) {
    namespace fs = std::filesystem;
    const std::string dir_shown = migrations::escape_for_terminal(opts.dir);
    if (!fs::is_directory(opts.dir))
        throw std::runtime_error("seed folder " + dir_shown + " does not exist");
    // Every file is listed, named and read before anything runs: a file pgmig refuses stops
    // the run with nothing applied.
    const auto listing = migrations::list_sql_files(opts.dir);
    if (!listing.problems.empty()) {
        std::string list;
        for (const auto &p : listing.problems) list += "\n  " + p.file + ": " + p.problem;
        throw std::runtime_error("the seed folder " + dir_shown +
                                 " has files pgmig cannot use:" + list);
    }
    std::vector<SeedFile> seeds;
    for (const auto &path : listing.files) {
        std::string sql = migrations::read_file(path);
        const std::string checksum = pgm::script_checksum(sql);
        seeds.push_back({path.filename().string(), std::move(sql), checksum, ""});
    }
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    std::unique_ptr<DeployLock> lock;  // one deploy (migrations or seeds) at a time
    if (!opts.dry_run) lock = std::make_unique<DeployLock>(conn, 600);
    for (auto &seed : seeds) {
        auto known =
            conn.query("SELECT checksum FROM pg_migrate.seed WHERE file = $1", {seed.name});
        seed.why = known.rows.empty()                               ? "new"
                   : known.rows[0][0].value_or("") == seed.checksum ? "unchanged"
                                                                    : "changed";
        if (seed.why == "unchanged") continue;
        // pgmig wraps each file in a transaction, so a COMMIT in it would commit part of the
        // file and leave the rest to run outside the transaction pgmig then "rolls back". A
        // file with a syntax error is left to fail when it runs: the server parses the whole
        // string first, so nothing of it runs. Any other error (no EXECUTE on
        // migrate_statements, ...) stops the run: the file cannot be checked.
        std::vector<migrations::ScriptStatement> statements;
        try {
            statements = migrations::script_statements(conn, seed.sql);
        } catch (const db::DbError &e) {
            if (e.sqlstate() == "42601") continue;
            throw db::DbError(e.sqlstate(),
                              "cannot check seed file " + seed.name +
                                  " for transaction control (no seed file was run): " + e.what(),
                              e.detail(), e.hint());
        }
        if (auto statement = migrations::first_transaction_control(seed.sql, statements))
            throw std::runtime_error(
                "seed file " + seed.name + " contains transaction control: " + *statement +
                "; pgmig runs each seed file in a transaction of its own, so remove BEGIN, "
                "COMMIT, ROLLBACK and SAVEPOINT from it (no seed file was run)");
    }
    std::vector<std::vector<std::string>> rows;  // file, status, ms, message
    bool failed = false;
    for (const auto &seed : seeds) {
        const std::string &name = seed.name;
        if (seed.why == "unchanged") {
            rows.push_back({name, "skipped", "", "unchanged"});
            continue;
        }
        if (opts.dry_run) {
            rows.push_back({name, "would_apply", "", seed.why});
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        try {
            db::Transaction tx(conn);  // a failing seed leaves nothing behind
            conn.with_user_search_path([&] { conn.exec(seed.sql); });
            const std::string ms = ui::elapsed_ms(t0);
            conn.query(
                "INSERT INTO pg_migrate.seed (file, checksum, duration_ms) VALUES ($1, $2, "
                "$3::numeric) "
                "ON CONFLICT (file) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at "
                "= now(), "
                "applied_by = session_user, duration_ms = EXCLUDED.duration_ms, runs = "
                "pg_migrate.seed.runs + 1",
                {name, seed.checksum, ms});
            tx.commit();
            rows.push_back({name, "applied", ms, seed.why});
        } catch (const db::DbError &e) {
            rows.push_back({name, "failed", "",
                            migrations::escape_for_terminal(
                                e.sqlstate() + ": " + e.what() + " (rolled back)", true)});
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
        std::cout << "no seed files in " << dir_shown << "\n";
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
