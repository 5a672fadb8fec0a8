// pgmig up: register the migration files and apply what is pending. Migrations that can run
// in a transaction go through migrate_execute(); the others (CREATE INDEX CONCURRENTLY, ...)
// run here statement by statement, outside a transaction, with their progress recorded in
// the extension so that the next `pgmig up` resumes at the first unfinished statement.
#include "commands/command.hpp"
#include "commands/deploy_lock.hpp"
#include "commands/interrupt_report.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "interrupt.hpp"
#include "migration_version.hpp"
#include "migrations/extension_setup.hpp"
#include "migrations/outside_transaction.hpp"
#include "migrations/registration.hpp"
#include "migrations/repeatable_scripts.hpp"
#include "migrations/terminal_text.hpp"
#include "script_directives.hpp"
#include "ui/output.hpp"
#include "ui/progress.hpp"

#include <chrono>
#include <iostream>

namespace pgmig::commands {

namespace {

struct ResultRow {
    std::string version, name, status, duration_ms, message;
};

struct PlannedMigration {
    std::string version, name;
    bool outside_transaction = false;
};

std::vector<PlannedMigration> load_plan(db::Connection &conn, const std::string &to) {
    auto r = conn.query(
        "SELECT version, name, requires_no_transaction FROM pg_migrate.migration "
        "WHERE state <> 'applied' AND ($1::numeric IS NULL OR version_order <= $1::numeric) "
        "ORDER BY version_order",
        {to.empty() ? db::Value() : db::Value(to)});
    std::vector<PlannedMigration> plan;
    for (const auto &row : r.rows)
        plan.push_back({row[0].value_or(""), row[1].value_or(""), row[2].value_or("f") == "t"});
    return plan;
}

// Refuses (exit 3) when a critical pre-flight check fails.
void run_preflight(db::Connection &conn, const std::string &to) {
    // migrate_preflight() reads names with the caller's search_path: pass the user's.
    auto r = conn.query(
        "SELECT check_name, status, critical, detail FROM pg_migrate.preflight_report($1, $2)",
        {to.empty() ? db::Value() : db::Value(to), conn.user_search_path()});
    std::string failures;
    for (const auto &row : r.rows)
        if (row[1].value_or("") == "fail" && row[2].value_or("f") == "t" &&
            row[0].value_or("") != "safety_score")
            failures += "\n  " + row[0].value_or("") + ": " + row[3].value_or("");
    if (!failures.empty())
        throw RefusedBySafetyCheck(
            "pre-flight checks failed; nothing was applied:" + failures +
            "\n(pgmig preflight shows every check; --no-preflight skips them)");
}

// Pending migrations with lint errors are applied (lint is advice, and the pre-flight counts
// them), but said first, on stderr, each finding with its migration.
void warn_lint_errors(db::Connection &conn, const std::string &to, bool json) {
    if (json) return;
    auto r = conn.query(
        "SELECT m.version, m.name, l.statement_number, l.rule, l.message "
        "  FROM pg_migrate.migration m, pg_migrate.lint_in_path(m.up_sql, $2) l "
        " WHERE m.state <> 'applied' AND ($1::numeric IS NULL OR m.version_order <= $1::numeric) "
        "   AND l.severity = 'error' ORDER BY m.version_order, l.statement_number",
        {to.empty() ? db::Value() : db::Value(to), conn.user_search_path()});
    for (const auto &row : r.rows)
        std::cerr << "warning: migration " << row[0].value_or("") << " ("
                  << migrations::escape_for_terminal(row[1].value_or("")) << "), statement "
                  << row[2].value_or("") << ": lint error " << row[3].value_or("") << ": "
                  << migrations::escape_for_terminal(row[4].value_or("")) << "\n";
    if (!r.rows.empty())
        std::cerr << "(pgmig lint shows the findings with safer alternatives; they do not stop "
                     "up)\n";
}

// After registration: --to must name a registered migration, and --atomic cannot include
// one that must run outside a transaction (usage errors, exit 2).
void check_to_and_atomic(db::Connection &conn, const UpOptions &opts) {
    if (!opts.to.empty() &&
        conn.query("SELECT 1 FROM pg_migrate.migration WHERE version_order = $1::numeric",
                   {opts.to})
            .rows.empty())
        throw UsageError("--to " + opts.to + " is not a migration version");
    if (opts.atomic)
        for (const auto &m : load_plan(conn, opts.to))
            if (m.outside_transaction)
                throw UsageError("--atomic cannot include migration " + m.version +
                                 ", which must run outside a transaction");
}

// Runs a no-transaction migration statement by statement, resuming after the last statement
// that finished. Returns its result row.
ResultRow run_outside_transaction(db::Connection &conn, const PlannedMigration &m) {
    const auto start = std::chrono::steady_clock::now();
    auto begin = conn.query(
        "SELECT run_id, resume_from FROM @extschema@.migrate_external_begin($1)", {m.version});
    const std::string run_id = begin.rows.at(0).at(0).value();
    const int resume_from = std::stoi(begin.rows.at(0).at(1).value());
    if (resume_from > 1)
        std::cerr << "resuming migration " << m.version << " at statement " << resume_from << "\n";
    auto failure = migrations::run_outside_transaction(
        conn, "migration " + m.version, migrations::registered_statements(conn, m.version, false),
        resume_from, [&](int n) {
            conn.query(
                "SELECT @extschema@.migrate_external_statement($1, $2::bigint, $3::int, true)",
                {m.version, run_id, std::to_string(n)});
        });
    const std::string ms = ui::elapsed_ms(start);
    if (failure) {
        conn.query(
            "SELECT @extschema@.migrate_external_statement($1, $2::bigint, $3::int, false, $4, $5)",
            {m.version, run_id, std::to_string(failure->number), failure->sqlstate,
             failure->message});
        conn.query(
            "SELECT @extschema@.migrate_external_finish($1, $2::bigint, false, $3::numeric, $4, "
            "$5, $6, "
            "$7::int)",
            {m.version, run_id, ms, failure->sqlstate, failure->message, failure->sql,
             std::to_string(failure->number)});
        return {m.version, m.name, "failed", ms,
                failure->sqlstate + ": " + failure->message + " (statement " +
                    std::to_string(failure->number) +
                    "; the statements before it are applied: run pgmig up again to resume here)"};
    }
    conn.query("SELECT @extschema@.migrate_external_finish($1, $2::bigint, true, $3::numeric)",
               {m.version, run_id, ms});
    return {m.version, m.name, "applied", ms,
            resume_from > 1 ? "resumed at statement " + std::to_string(resume_from)
                            : "outside a transaction"};
}

std::vector<ResultRow> dry_run(db::Connection &conn, const migrations::MigrationFolder &folder,
                               const std::string &to) {
    const auto rows =
        migrations::compare(migrations::file_sides(folder), migrations::database_sides(conn));
    std::vector<ResultRow> out;
    for (const auto &r : rows) {
        if (r.state == "applied" || r.state == "missing-file" || r.state == "modified" ||
            r.state == "renamed")
            continue;
        if (!to.empty() && pgm::compare_versions(r.version, to) > 0) continue;
        std::string up;
        bool found = false;
        for (const auto &f : folder.migrations)
            if (f.version == r.version) {
                up = f.up_sql;  // as registration sends it (a dbmate section, a directive added)
                found = true;
            }
        if (!found) continue;
        auto nt = conn.query(
            "SELECT coalesce(bool_or(requires_no_transaction), false) FROM "
            "@extschema@.migrate_statements($1)",
            {up});
        const bool outside = nt.rows.at(0).at(0).value_or("f") == "t" ||
                             pgm::has_directive(pgm::parse_directives(up), "no-transaction");
        out.push_back(
            {r.version, r.name, "would_apply", "",
             outside ? "outside a transaction, statement by statement" : "in a transaction"});
    }
    return out;
}

}  // namespace

// Flyway's repeatable migrations, after the versioned ones: those that changed.
static void add_repeatables(db::Connection &conn, const migrations::MigrationFolder &folder,
                            bool dry_run, std::vector<ResultRow> *results) {
    bool applied = false;
    for (const auto &r : migrations::apply_repeatables(conn, folder.repeatables, dry_run)) {
        if (r.status != "unchanged")
            results->push_back({"R", r.file, r.status, r.ms, "repeatable (" + r.message + ")"});
        applied = applied || r.status == "applied";
    }
    // What they created is part of the migrated schema, not drift: the baseline includes it
    // (as the executor records one after migrations), when the role may record one.
    if (applied) {
        try {
            conn.query("SELECT pg_migrate.record_schema_fingerprint(NULL)");
        } catch (const db::DbError &e) {
            if (e.sqlstate() != "42501") throw;
        }
    }
}

int run_up(const UpOptions &given, const GlobalOptions &global) {
    // A --to that no layout spells (only Flyway's hold dots or underscores) is refused at once.
    if (!given.to.empty() && given.to.find_first_of("._") == std::string::npos)
        if (auto problem = pgm::version_problem(given.to))
            throw UsageError("invalid --to: " + *problem);
    const auto folder = migrations::read_folder(global.dir, global.format);
    UpOptions opts = given;
    // --to as the files spell it (Flyway's 1.1) means that migration's version.
    for (const auto &m : folder.migrations)
        if (!opts.to.empty() && m.shown_version == opts.to) opts.to = m.version;
    if (!opts.to.empty())
        if (auto problem = pgm::version_problem(opts.to))
            throw UsageError("invalid --to: " + *problem);
    migrations::require_no_problems(folder);
    db::Connection conn(global.connection.db);
    if (!migrations::installed_extension_version(conn)) {
        if (opts.dry_run) {
            // Nothing is created in a dry run, and nothing can be asked of the extension.
            std::cout << "would create extension pg_migrate first, then apply:\n";
            for (const auto &m : folder.migrations)
                if (opts.to.empty() || pgm::compare_versions(m.version, opts.to) <= 0)
                    std::cout << "  " << m.shown_version << "  " << m.name << "\n";
            return 0;
        }
        std::cerr << "created extension pg_migrate " << migrations::create_extension(conn, "")
                  << " (the database had none)\n";
    }
    // A file older than the newest applied migration was usually written on a branch before
    // it: applying it now runs it after migrations it was not written against.
    if (!opts.allow_out_of_order) {
        std::string list;
        for (const auto &r :
             migrations::compare(migrations::file_sides(folder), migrations::database_sides(conn)))
            if (r.out_of_order &&
                (opts.to.empty() || pgm::compare_versions(r.version, opts.to) <= 0))
                list += "\n  " + r.version + " " + migrations::escape_for_terminal(r.name) + ": " +
                        r.note;
        if (!list.empty())
            throw RefusedBySafetyCheck(
                "out-of-order migrations, older than the newest applied one; nothing was "
                "applied:" +
                list +
                "\n(give them a newer version, or pass --allow-out-of-order to apply them "
                "anyway)");
    }
    // Changes made outside migrations since the last one: said before anything runs (the
    // executor would otherwise record the drifted schema as the new baseline), refused with
    // --strict.
    {
        auto drift = conn.query("SELECT change, object FROM @extschema@.migrate_drift()");
        if (!drift.rows.empty()) {
            std::string list;
            for (size_t k = 0; k < drift.rows.size() && k < 10; ++k)
                list += "\n  " + drift.rows[k][0].value_or("") + " " +
                        migrations::escape_for_terminal(drift.rows[k][1].value_or(""));
            if (drift.rows.size() > 10)
                list += "\n  ... and " + std::to_string(drift.rows.size() - 10) + " more";
            const std::string what = "the schema changed outside migrations since the last one (" +
                                     std::to_string(drift.rows.size()) + " change(s)):" + list;
            if (opts.strict)
                throw RefusedBySafetyCheck(
                    what +
                    "\nnothing was applied (--strict); pgmig drift shows the changes, "
                    "pgmig drift --accept records the schema as it is now");
            if (!global.json)
                std::cerr << "warning: " << what
                          << "\n(pgmig drift --accept records them; up --strict refuses)\n";
        }
    }
    // A repeatable script pgmig would refuse (transaction control) stops up before anything
    // is applied, not after the versioned migrations.
    migrations::apply_repeatables(conn, folder.repeatables, true);
    std::vector<ResultRow> results;
    if (opts.dry_run) {
        // What up would refuse, refused the same way (same message, same exit code): the
        // files are registered, --to and --atomic checked and the pre-flight run, in a
        // transaction rolled back afterwards.
        {
            DeployLock lock(conn, opts.lock_wait_seconds);  // registering takes it too
            db::Transaction probe(conn);
            migrations::register_files_in_transaction(conn, folder);
            check_to_and_atomic(conn, opts);
            if (!opts.no_preflight) run_preflight(conn, opts.to);
            warn_lint_errors(conn, opts.to, global.json);
            probe.rollback();
        }
        results = dry_run(conn, folder, opts.to);
        add_repeatables(conn, folder, true, &results);
    } else {
        DeployLock lock(conn, opts.lock_wait_seconds);
        try {
            const auto counts = migrations::register_files(conn, folder);
            if (!global.json && (counts.registered || counts.updated))
                std::cerr << "registered " << counts.registered << ", updated " << counts.updated
                          << " migration(s)\n";
            check_to_and_atomic(conn, opts);
            if (!opts.no_preflight) run_preflight(conn, opts.to);
            warn_lint_errors(conn, opts.to, global.json);
            const auto plan = load_plan(conn, opts.to);
            size_t i = 0;
            bool failed = false;
            ui::ProgressBar bar("applying migrations", plan.size(), "migrations");
            while (i < plan.size() && !failed) {
                bar.update(i);
                if (plan[i].outside_transaction) {
                    results.push_back(run_outside_transaction(conn, plan[i]));
                    failed = results.back().status == "failed";
                    ++i;
                    continue;
                }
                // One migrate_execute() call (one transaction) per run of transactional
                // migrations, at most kBatch of them unless --atomic: a transaction that
                // creates thousands of tables would outgrow the lock table
                // (max_locks_per_transaction), and each call commits what it applied.
                constexpr size_t kBatch = 500;
                size_t j = i;
                while (j + 1 < plan.size() && !plan[j + 1].outside_transaction &&
                       (opts.atomic || j + 1 - i < kBatch))
                    ++j;
                // The scripts run with the user's search_path; this text names nothing else
                // unqualified.
                auto r = conn.with_user_search_path([&] {
                    return conn.query(
                        "SELECT version, name, status, duration_ms::pg_catalog.text, "
                        "message FROM " +
                            conn.extension_function("migrate_execute") +
                            "($1, false, $2::pg_catalog.bool)",
                        {plan[j].version, std::string(opts.atomic ? "true" : "false")});
                });
                for (const auto &row : r.rows) {
                    results.push_back({row[0].value_or(""), row[1].value_or(""),
                                       row[2].value_or(""), row[3].value_or(""),
                                       row[4].value_or("")});
                    if (results.back().status == "failed") failed = true;
                }
                i = j + 1;
            }
            bar.finish();
            for (; i < plan.size(); ++i)
                results.push_back({plan[i].version, plan[i].name, "skipped", "",
                                   "not attempted: an earlier migration failed"});
            if (!failed) add_repeatables(conn, folder, false, &results);
            // The executor records a cancelled migration as failed and returns: still an
            // interruption.
            if (interrupt::requested()) report_interrupted(conn, "up");
        } catch (...) {
            if (interrupt::requested() && !interrupt::report_allowed())
                report_interrupted(conn, "up");
            throw;
        }
    }
    bool any_failed = false;
    for (const auto &r : results) any_failed = any_failed || r.status == "failed";
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &r : results)
            out.push_back(
                {{"version", r.version},
                 {"name", r.name},
                 {"status", r.status},
                 {"duration_ms", r.duration_ms.empty() ? nlohmann::json()
                                                       : nlohmann::json(std::stod(r.duration_ms))},
                 {"message", r.message}});
        ui::print_json(std::cout, out);
    } else if (results.empty()) {
        std::cout << "nothing to apply\n";
    } else {
        ui::Table table{{"version", "name", "status", "ms", "message"}, {}};
        for (const auto &r : results)
            table.rows.push_back(
                {r.version, r.name, ui::status_text(r.status), r.duration_ms, r.message});
        ui::print_table(std::cout, table);
    }
    return any_failed ? 1 : 0;
}

void setup_up(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<UpOptions>();
    auto *cmd =
        app.add_subcommand("up", "Register the migration files and apply the pending migrations");
    cmd->add_option("--to", opts->to, "Apply up to and including this version");
    cmd->add_flag("--dry-run", opts->dry_run, "Show what would run; change nothing");
    cmd->add_flag("--atomic", opts->atomic,
                  "All or none: one transaction for every pending migration");
    cmd->add_flag("--no-preflight", opts->no_preflight, "Skip the pre-flight safety checks");
    cmd->add_flag("--strict", opts->strict,
                  "Refuse (exit 3) when the schema changed outside migrations since the last one");
    cmd->add_flag("--allow-out-of-order", opts->allow_out_of_order,
                  "Apply pending migrations older than the newest applied one (refused by "
                  "default, exit 3)");
    cmd->add_option("--lock-wait", opts->lock_wait_seconds,
                    "Seconds to wait for another deploy to finish (default 600)");
    cmd->footer(
        "Each migration runs in its own transaction with pg_migrate.lock_timeout and retries;\n"
        "one that cannot (CREATE INDEX CONCURRENTLY, VACUUM, -- pgmig:no-transaction) runs\n"
        "statement by statement, and after a failure `pgmig up` resumes at the failed\n"
        "statement. Only one deploy runs at a time; others wait (polling, so a waiting\n"
        "deploy never blocks a CONCURRENTLY build). Exit 3 when a pre-flight check refuses.\n\n"
        "Examples:\n  pgmig up\n  pgmig up --to 20261122093000 --dry-run\n  pgmig up --atomic "
        "--json");
    cmd->callback(
        [opts, &global, &run] { run = [opts, &global] { return run_up(*opts, global); }; });
}

}  // namespace pgmig::commands
