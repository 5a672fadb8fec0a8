// migrate_execute() and migrate_rollback(): run migration scripts, each in its own
// subtransaction, with lock timeouts and retries, and record every attempt.
#include "config.hpp"
#include "execution_log.hpp"
#include "extension_schema.hpp"
#include "migration_lock.hpp"
#include "migration_version.hpp"
#include "pg/arguments.hpp"
#include "pg/activity.hpp"
#include "pg/error.hpp"
#include "pg/result_rows.hpp"
#include "pg/session_limits.hpp"
#include "pg/spi.hpp"
#include "pg/statement_parser.hpp"
#include "pg/subtransaction.hpp"
#include "registry.hpp"
#include "retry_policy.hpp"
#include "snapshot.hpp"
#include "snapshot_context.hpp"

#include <chrono>
#include <random>

namespace pgm {

namespace {

enum class Operation { Execute, Rollback };

struct Migration {
    std::string version, name, up_sql, options, checksum, no_transaction_reason;
    std::optional<std::string> down_sql, verify_sql;
    bool requires_no_transaction = false;
    bool down_requires_no_transaction = false;
    MigrationOptionLimits option_limits;
    std::vector<std::string> snapshot_tables;  // snapshot before applying (option / directive)
    std::string restore_snapshot_ids;  // rollback without a down script: restore these instead
    std::string missing_snapshots;     // snapshots its last apply took that are gone
    std::vector<long> restore_ids;     // the same ids, in order; down_sql shows them as calls
    bool up_sql_is_empty = false;      // no statement, only whitespace or comments
};

constexpr const char *kMigrationColumns =
    "SELECT version, name, up_sql, down_sql, verify_sql, options::text, checksum, "
    "       requires_no_transaction, coalesce(no_transaction_reason, ''), "
    "       down_requires_no_transaction, (options->>'lock_timeout')::int, "
    "       (options->>'statement_timeout')::int, (options->>'lock_retries')::int, "
    "       pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.jsonb_array_elements_text("
    "           coalesce(options->'snapshot', '[]'))), E'\\n'), statement_count = 0 "
    "  FROM pg_migrate.migration ";

std::vector<Migration> load_migrations(const std::string &where,
                                       const std::vector<pg::Value> &args) {
    const std::string sql = kMigrationColumns + where;
    auto result = pg::query(sql.c_str(), args);
    std::vector<Migration> out;
    for (const auto &r : result.rows) {
        Migration m;
        m.version = r[0].value_or("");
        m.name = r[1].value_or("");
        m.up_sql = r[2].value_or("");
        m.down_sql = r[3];
        m.verify_sql = r[4];
        m.options = r[5].value_or("{}");
        m.checksum = r[6].value_or("");
        m.requires_no_transaction = r[7].value_or("f") == "t";
        m.no_transaction_reason = r[8].value_or("");
        m.down_requires_no_transaction = r[9].value_or("f") == "t";
        m.up_sql_is_empty = r[14].value_or("f") == "t";
        auto as_int = [](const pg::Value &v) {
            return v ? std::optional<int>(std::stoi(*v)) : std::nullopt;
        };
        m.option_limits = {as_int(r[10]), as_int(r[11]), as_int(r[12])};
        const std::string tables = r[13].value_or("");
        size_t start = 0;
        while (start < tables.size()) {
            size_t end = tables.find('\n', start);
            if (end == std::string::npos) end = tables.size();
            if (end > start) m.snapshot_tables.push_back(tables.substr(start, end - start));
            start = end + 1;
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::string label(const Migration &m) {
    return m.version + " (" + m.name + ")";
}

pg::Row result_row(const Migration &m, const std::string &status, std::optional<double> ms,
                   const std::string &message) {
    return {m.version,
            m.name,
            status,
            ms ? pg::Value(format_duration_ms(*ms)) : std::nullopt,
            message.empty() ? pg::Value() : pg::Value(message),
            m.checksum};
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
        .count();
}

ScriptFailure failure_from(const pg::PgError &e, const char *phase, const ScriptAnalysis &script,
                           int statement_index, const MigrationLimits &limits, bool timer_fired) {
    ErrorData *ed = e.edata();
    ScriptFailure f;
    f.sqlstate = e.sqlstate();
    f.message = ed->message ? ed->message : "";
    f.detail = ed->detail ? ed->detail : "";
    f.hint = ed->hint ? ed->hint : "";
    f.context = ed->context ? ed->context : "";
    f.phase = phase;
    if (timer_fired && f.detail.empty())
        f.detail =
            (limits.statement_timeout_from_option ? "the migration's statement_timeout option is "
                                                  : "pg_migrate.statement_timeout is ") +
            std::to_string(limits.statement_timeout_ms) + " ms";
    if (statement_index >= 0 && statement_index < static_cast<int>(script.statements.size())) {
        const pg::ParsedStatement &s = script.statements[statement_index];
        f.statement = pg::display_text(s);
        f.statement_number = statement_index + 1;
        f.statement_position = s.text_position;
        // SPI reports positions in the statement it ran as internalpos (with the statement
        // as internalquery); positions inside functions it called are not ours to map.
        int pos = ed->cursorpos;
        if (pos <= 0 && ed->internalpos > 0 && ed->internalquery != nullptr &&
            s.text == ed->internalquery)
            pos = ed->internalpos;
        if (pos > 0) f.error_position = s.char_position + pos - 1;
    }
    return f;
}

// One attempt: the script (and the verify script) in a fresh subtransaction. Returns the
// failure, with the subtransaction rolled back, or nothing when it committed. A cancel that
// is not our own statement timeout is re-thrown: the user asked to stop everything.
std::optional<ScriptFailure> attempt_once(const Migration &m, Operation op,
                                          const MigrationLimits &limits) {
    pg::ParseMemoryScope parse_memory;  // this attempt's parse trees go when it returns
    const bool execute = op == Operation::Execute;
    const char *main_phase = execute ? "up" : (m.restore_snapshot_ids.empty() ? "down" : "restore");
    const ScriptAnalysis main =
        analyze_script(execute ? m.up_sql : *m.down_sql, main_phase, m.version);
    std::optional<ScriptAnalysis> verify;
    if (execute && m.verify_sql) {
        // Registered although it does not parse here (it may be written for another server):
        // the migration cannot be verified, so it is not applied.
        if (auto problem = parse_problem(*m.verify_sql, "verify", m.version)) {
            ScriptFailure f;
            f.sqlstate = "42601";
            f.phase = "verify";
            f.message = *problem;
            f.hint =
                "Nothing of this migration was applied. Fix its verify script (or remove "
                "it) and register the migration again.";
            return f;
        }
        verify = analyze_script(*m.verify_sql, "verify", m.version);
    }

    const char *phase = main_phase;
    const ScriptAnalysis *script = &main;
    int index = -1;
    bool timer_fired = false;
    std::optional<ScriptFailure> verify_failure;

    // Nothing a script runs (nor a table's constraints or types during a restore) may call
    // the executor, rollback, restore or backfill. A rollback without a down script restores
    // its snapshots by calling the restore directly, not through SQL.
    const bool restoring = !execute && !m.restore_ids.empty();
    UserScriptRunning user_script;
    const pg::Identity identity = pg::current_identity();

    pg::Subtransaction sub;
    try {
        pg::ScopedLockTimeout lock_timeout(limits.lock_timeout_ms);
        for (int pass = 0; pass < (verify ? 2 : 1) && !verify_failure; ++pass) {
            if (pass == 1) {
                phase = "verify";
                script = &*verify;
            }
            for (index = 0; index < static_cast<int>(script->statements.size()); ++index) {
                pg::report_activity("pg_migrate: migration " + label(m) + ", " + phase +
                                    " statement " + std::to_string(index + 1) + "/" +
                                    std::to_string(script->statements.size()) + ": " +
                                    pg::display_text(script->statements[index], 200));
                pg::StatementTimer timer(limits.statement_timeout_ms);
                pg::StatementOutcome outcome;
                try {
                    if (restoring && pass == 0)
                        restore_snapshot(m.restore_ids.at(index));
                    else
                        outcome = pg::run_user_statement(script->statements[index].text);
                } catch (const pg::PgError &) {
                    timer_fired = timer.fired();
                    throw;
                }
                timer.disarm();
                pg::require_identity(identity, "migration");
                if (pass == 1 && outcome.returned_false) {
                    const pg::ParsedStatement &s = script->statements[index];
                    ScriptFailure f;
                    f.sqlstate = "P0004";
                    f.message = "verify script of migration " + label(m) + " returned false";
                    f.detail = "Statement " + std::to_string(index + 1) +
                               " returned false or NULL in its first (boolean) column.";
                    f.hint =
                        "The migration was rolled back; fix the migration or the "
                        "verify script and run migrate_execute() again.";
                    f.phase = "verify";
                    f.statement = pg::display_text(s);
                    f.statement_number = index + 1;
                    f.statement_position = s.text_position;
                    verify_failure = std::move(f);
                    break;
                }
            }
        }
        pg::restore_activity();
        if (verify_failure) {
            sub.rollback();
            return verify_failure;
        }
        lock_timeout.restore();
        sub.commit();
        return std::nullopt;
    } catch (const pg::PgError &e) {
        ScriptFailure f = failure_from(e, phase, *script, index, limits, timer_fired);
        sub.rollback();
        pg::restore_activity();
        if (f.sqlstate == "57014" && !timer_fired) throw;
        return f;
    } catch (const pg::UserError &e) {
        // A snapshot restore refused (the checks of restore_snapshot()); any other error of
        // ours ends the call as before.
        if (!restoring) throw;
        ScriptFailure f;
        f.sqlstate = e.sqlstate();
        f.message = e.what();
        f.detail = e.detail();
        f.hint = e.hint();
        f.phase = phase;
        if (index >= 0 && index < static_cast<int>(script->statements.size())) {
            const pg::ParsedStatement &s = script->statements[index];
            f.statement = pg::display_text(s);
            f.statement_number = index + 1;
            f.statement_position = s.text_position;
        }
        sub.rollback();
        pg::restore_activity();
        return f;
    }
}

struct Outcome {
    bool ok = false;
    std::optional<ScriptFailure> failure;
    double duration_ms = 0;
};

std::mt19937_64 &jitter_source() {
    static std::mt19937_64 rng{std::random_device{}()};
    return rng;
}

// Snapshots of the tables a migration declared, taken before it runs and outside its
// subtransaction, so that they outlive its failure. A table that cannot be snapshotted is a
// failure of the migration, reported before any of its SQL runs.
std::optional<ScriptFailure> take_declared_snapshots(const Migration &m, std::string &ids) {
    if (m.snapshot_tables.empty()) return std::nullopt;
    const std::string create =
        "SELECT " + extension_function("snapshot_create") +
        "($1::pg_catalog.oid::pg_catalog.regclass, 'before migration ' || $2)";
    RunningMigration running(m.version);
    for (const auto &table : m.snapshot_tables) {
        // The name resolves as in the migration itself: with the caller's search_path.
        auto resolved =
            pg::query_in_caller_path("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid", {table});
        const pg::Value oid = resolved.rows.at(0).at(0);
        if (!oid) {
            ScriptFailure f;
            f.sqlstate = "42P01";
            f.phase = "snapshot";
            f.message = "cannot take the declared snapshot of \"" + table + "\": no such table";
            f.hint = "Fix the snapshot option or -- pgmig:snapshot directive of migration " +
                     m.version + ".";
            return f;
        }
        pg::Subtransaction sub;
        try {
            auto r = pg::query(create.c_str(), {*oid, m.version});
            sub.commit();
            ids += (ids.empty() ? "" : ",") + r.rows.at(0).at(0).value();
        } catch (const pg::PgError &e) {
            ScriptFailure f;
            f.sqlstate = e.sqlstate();
            f.phase = "snapshot";
            f.message = "cannot take the declared snapshot of \"" + table + "\": " + e.what();
            sub.rollback();
            return f;
        }
    }
    return std::nullopt;
}

Outcome run_with_retries(const Migration &m, Operation op, bool atomic,
                         std::vector<ExecutionRecord> &log) {
    const MigrationLimits limits = effective_limits(m.option_limits);
    std::string snapshot_ids;
    if (op == Operation::Execute) {
        if (auto failure = take_declared_snapshots(m, snapshot_ids)) {
            ExecutionRecord rec;
            rec.version = m.version;
            rec.name = m.name;
            rec.operation = "execute";
            rec.status = "failed";
            rec.atomic = atomic;
            rec.phase = "snapshot";
            rec.checksum = m.checksum;
            rec.lock_timeout_ms = limits.lock_timeout_ms;
            rec.started_at = rec.finished_at = pg::now();
            rec.failure = failure;
            rec.snapshot_ids = snapshot_ids;  // those taken before the one that failed
            log.push_back(rec);
            return {false, failure, 0};
        }
    }
    const RetryPolicy policy{limits.lock_retries, config::retry_delay_ms,
                             config::retry_max_delay_ms};
    const auto total_start = std::chrono::steady_clock::now();
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int attempt = 1;; ++attempt) {
        ExecutionRecord rec;
        rec.version = m.version;
        rec.name = m.name;
        rec.operation = op == Operation::Execute ? "execute" : "rollback";
        rec.attempt = attempt;
        rec.atomic = atomic;
        rec.checksum = m.checksum;
        rec.lock_timeout_ms = limits.lock_timeout_ms;
        rec.snapshot_ids = snapshot_ids;
        rec.started_at = pg::now();
        const auto start = std::chrono::steady_clock::now();
        std::optional<ScriptFailure> failure;
        {
            RunningMigration running(m.version);
            failure = attempt_once(m, op, limits);
        }
        rec.duration_ms = elapsed_ms(start);
        rec.finished_at = pg::now();
        rec.phase = failure ? failure->phase
                            : (op == Operation::Execute
                                   ? "up"
                                   : (m.restore_snapshot_ids.empty() ? "down" : "restore"));
        if (!failure) {
            rec.status = "succeeded";
            if (op == Operation::Rollback) {
                rec.rollback_reason = "requested";
                rec.note = m.restore_snapshot_ids.empty()
                               ? "down script ran"
                               : "no down script: restored snapshot(s) " + m.restore_snapshot_ids;
            }
            log.push_back(rec);
            return {true, std::nullopt, elapsed_ms(total_start)};
        }
        if (may_retry(policy, attempt, failure->sqlstate)) {
            const int delay = backoff_delay_ms(policy, attempt, unit(jitter_source()));
            std::string retry_note = "attempt " + std::to_string(attempt) + " of " +
                                     std::to_string(policy.max_retries + 1) + "; retrying in " +
                                     std::to_string(delay) + " ms";
            failure->detail =
                failure->detail.empty() ? retry_note : failure->detail + "; " + retry_note;
            rec.status = "retrying";
            rec.failure = failure;
            log.push_back(rec);
            pg::sleep_ms(delay);
            continue;
        }
        rec.status = "failed";
        rec.failure = failure;
        if (op == Operation::Execute) rec.rollback_reason = "failure";
        log.push_back(rec);
        return {false, failure, elapsed_ms(total_start)};
    }
}

std::string failure_summary(const ScriptFailure &f) {
    std::string s = f.sqlstate + ": " + f.message;
    if (f.statement_number)
        s += " (" + f.phase + " statement " + std::to_string(*f.statement_number) + ")";
    return s;
}

void require_read_committed(const char *function) {
    if (pg::at_read_committed()) return;
    throw pg::UserError(
        "25000", std::string(function) + " must run at the READ COMMITTED isolation level",
        "At REPEATABLE READ or SERIALIZABLE the transaction snapshot predates the migration "
        "lock, so a migration a concurrent session just applied would look pending.",
        "Call it outside an explicit transaction, or after BEGIN ISOLATION LEVEL READ COMMITTED.");
}

void require_registered_target(const std::string &target, bool allow_zero) {
    if (auto problem = version_problem(target))
        throw pg::UserError("22023", "invalid target version: " + *problem);
    if (allow_zero && target.find_first_not_of('0') == std::string::npos) return;
    auto r =
        pg::query("SELECT 1 FROM pg_migrate.migration WHERE version_order = $1::numeric", {target});
    if (r.rows.empty())
        throw pg::UserError("22023", "target version " + target + " is not registered", "",
                            allow_zero ? "migrate_status() lists the registered versions; "
                                         "target '0' reverts every applied migration."
                                       : "migrate_status() lists the registered versions.");
}

// With pg_migrate.require_preflight on, a critical pre-flight failure refuses the run.
void require_preflight_pass(const std::optional<std::string> &target) {
    // Pre-flight resolves the pending migrations' table names as they will: with the
    // caller's search_path (our own query runs with the pinned one).
    auto failed = pg::query(
        "SELECT pg_catalog.string_agg(check_name || ': ' || detail, '; ') "
        "  FROM pg_migrate.preflight_report($1, $2) "
        " WHERE critical AND status = 'fail' AND check_name <> 'safety_score'",
        {target, pg::caller_search_path()});
    if (failed.rows.at(0).at(0))
        throw pg::UserError("55000", "pre-flight checks failed; nothing was applied",
                            *failed.rows.at(0).at(0),
                            "Resolve them (migrate_preflight() shows every check), or run with "
                            "SET pg_migrate.require_preflight = off.");
}

void write_log(long run_id, const std::vector<ExecutionRecord> &records) {
    if (records.empty()) return;
    ExecutionLog log(run_id);
    for (const auto &r : records) log.write(r);
}

// After a call that changed the schema: the fingerprint `pgmig drift` compares with (0.2.0;
// skipped while the database still has 0.1.0's objects, or for a role not granted it).
void record_schema_fingerprint(long run_id) {
    // A role without the grants for it (docs/security.md) migrates without recording one.
    auto exists = pg::query(
        "SELECT pg_catalog.to_regprocedure('pg_migrate.record_schema_fingerprint(bigint)') IS NOT "
        "NULL "
        "AND pg_catalog.has_function_privilege('pg_migrate.record_schema_fingerprint(bigint)', "
        "'EXECUTE') "
        "AND pg_catalog.has_table_privilege('pg_migrate.schema_fingerprint', 'INSERT') "
        "AND pg_catalog.has_sequence_privilege('pg_migrate.schema_fingerprint_id_seq', 'USAGE') "
        "AND pg_catalog.has_function_privilege(pg_catalog.to_regprocedure($1), 'EXECUTE')",
        {extension_function("migrate_schema_fingerprint") + "()"});
    if (exists.rows.at(0).at(0).value_or("f") != "t") return;
    pg::query("SELECT pg_migrate.record_schema_fingerprint($1::bigint)", {std::to_string(run_id)});
}

// Before a deploy: a schema changed outside migrations since the last recorded fingerprint is
// said, not silently recorded as the new baseline when the deploy records its own.
void warn_about_drift() {
    auto can = pg::query(
        "SELECT pg_catalog.to_regprocedure($1) IS NOT NULL "
        "AND pg_catalog.has_function_privilege(pg_catalog.to_regprocedure($1), 'EXECUTE') "
        "AND pg_catalog.has_function_privilege(pg_catalog.to_regprocedure($2), 'EXECUTE') "
        "AND pg_catalog.has_table_privilege('pg_migrate.schema_fingerprint', 'SELECT')",
        {extension_function("migrate_drift") + "()",
         extension_function("migrate_schema_fingerprint") + "()"});
    if (can.rows.at(0).at(0).value_or("f") != "t") return;
    const std::string sql =
        "SELECT pg_catalog.count(*), pg_catalog.string_agg(d.change OPERATOR(pg_catalog.||) ' ' "
        "OPERATOR(pg_catalog.||) d.object, ', ' ORDER BY d.object) FILTER (WHERE d.n "
        "OPERATOR(pg_catalog.<=) 5) FROM (SELECT x.change, x.object, pg_catalog.row_number() "
        "OVER (ORDER BY x.object) AS n FROM " +
        extension_function("migrate_drift") + "() x) d";
    auto drift = pg::query(sql.c_str());
    const std::string n = drift.rows.at(0).at(0).value_or("0");
    if (n == "0") return;
    pg::warning(
        "the schema changed outside migrations since the last one: " + n + " object(s) drifted",
        drift.rows.at(0).at(1).value_or("") + (std::stol(n) > 5 ? ", ..." : ""),
        "This deploy records the schema as it is afterwards, drift included. "
        "migrate_drift() (pgmig drift) lists the changes.");
}

Datum migrate_execute_impl(FunctionCallInfo fcinfo) {
    refuse_inside_migration("migrate_execute()");
    const auto target = pg::text_arg(fcinfo, 0);
    const bool dry_run = pg::bool_arg(fcinfo, 1).value_or(false);
    const bool atomic = pg::bool_arg(fcinfo, 2).value_or(false);
    if (!dry_run) require_read_committed("migrate_execute()");

    pg::spi_connect();
    if (!dry_run) acquire_migration_lock();  // then read the pending set: it is now stable
    if (target) require_registered_target(*target, false);
    const std::vector<Migration> plan = load_migrations(
        "WHERE state <> 'applied' AND ($1::numeric IS NULL OR version_order <= $1::numeric) "
        "ORDER BY version_order",
        {target});

    if (!plan.empty()) warn_about_drift();
    std::vector<pg::Row> rows;
    if (dry_run) {
        // The real call refuses the whole batch when one migration cannot run in a
        // transaction; the dry run says so for every migration.
        const Migration *refused = nullptr;
        for (const auto &m : plan)
            if (m.requires_no_transaction && refused == nullptr) refused = &m;
        for (const auto &m : plan) {
            if (m.requires_no_transaction) {
                rows.push_back(
                    result_row(m, "refused", std::nullopt,
                               "cannot run in a transaction: " + m.no_transaction_reason +
                                   "; apply it with pgmig up"));
                continue;
            }
            if (refused != nullptr) {
                rows.push_back(result_row(m, "blocked", std::nullopt,
                                          "would not run: migration " + label(*refused) +
                                              " is refused, so migrate_execute() refuses the "
                                              "whole batch"));
                continue;
            }
            const size_t n = analyze_script(m.up_sql, "up", m.version).statements.size();
            rows.push_back(result_row(m, "would_apply", std::nullopt,
                                      std::to_string(n) + (n == 1 ? " statement" : " statements") +
                                          (m.verify_sql ? ", then the verify script" : "")));
        }
        pg::spi_finish();
        pg::return_rows(fcinfo, rows);
        return (Datum)0;
    }

    if (config::require_preflight && !plan.empty()) require_preflight_pass(target);
    for (size_t i = 0; i < plan.size(); ++i) {
        if (!plan[i].requires_no_transaction) continue;
        throw pg::UserError(
            "25001", "migration " + label(plan[i]) + " cannot run inside a transaction",
            plan[i].no_transaction_reason + ". Nothing was applied.",
            i > 0 ? "Apply it with `pgmig up`, which runs such migrations outside a transaction, "
                    "or apply the migrations before it with migrate_execute(target => '" +
                        plan[i - 1].version + "')."
                  : "Apply it with `pgmig up`, which runs such migrations outside a transaction.");
    }

    const long run_id = next_run_id();
    std::vector<ExecutionRecord> records;
    pg::PreparedQuery mark_applied(
        "UPDATE pg_migrate.migration SET state = 'applied', applied_at = pg_catalog.now(), "
        "  applied_by = session_user, applied_checksum = checksum, "
        "  duration_ms = $2::numeric, last_error = NULL WHERE version = $1",
        2);
    std::optional<pg::Subtransaction> batch;
    if (atomic) batch.emplace();

    std::vector<size_t> applied;
    std::optional<size_t> failed_at;
    std::optional<ScriptFailure> failure;
    for (size_t i = 0; i < plan.size(); ++i) {
        Outcome o = run_with_retries(plan[i], Operation::Execute, atomic, records);
        if (!o.ok) {
            failed_at = i;
            failure = o.failure;
            rows.push_back(result_row(plan[i], "failed", o.duration_ms, failure_summary(*failure)));
            break;
        }
        mark_applied.run({plan[i].version, format_duration_ms(o.duration_ms)});
        applied.push_back(i);
        rows.push_back(result_row(
            plan[i], "applied", o.duration_ms,
            plan[i].up_sql_is_empty ? "empty script: recorded as applied, nothing ran" : ""));
    }
    if (batch) {
        if (failed_at)
            batch->rollback();
        else
            batch->commit();
    }
    if (failed_at) {
        const Migration &bad = plan[*failed_at];
        pg::query(
            "UPDATE pg_migrate.migration SET state = 'failed', last_error = $2 "
            "WHERE version = $1",
            {bad.version, failure_summary(*failure)});
        if (atomic) {
            for (auto &rec : records) rec.snapshot_ids.clear();  // rolled back with the batch
            const std::string why =
                "undone: migration " + label(bad) + " failed in the same atomic batch";
            for (size_t i : applied) {
                ExecutionRecord rec;
                rec.version = plan[i].version;
                rec.name = plan[i].name;
                rec.operation = "execute";
                rec.status = "rolled_back";
                rec.atomic = true;
                rec.phase = "up";
                rec.lock_timeout_ms = effective_limits(plan[i].option_limits).lock_timeout_ms;
                rec.checksum = plan[i].checksum;
                rec.started_at = rec.finished_at = pg::now();
                rec.note = why;
                rec.rollback_reason = "atomic_batch";
                records.push_back(rec);
                rows[i][2] = std::string("rolled_back");
                rows[i][4] = why;
            }
        }
        for (size_t i = *failed_at + 1; i < plan.size(); ++i)
            rows.push_back(result_row(plan[i], "skipped", std::nullopt,
                                      "not attempted: migration " + bad.version + " failed"));
    }
    write_log(run_id, records);
    if (!applied.empty() && !(atomic && failed_at)) record_schema_fingerprint(run_id);
    pg::spi_finish();
    pg::return_rows(fcinfo, rows);
    return (Datum)0;
}

Datum migrate_rollback_impl(FunctionCallInfo fcinfo) {
    refuse_inside_migration("migrate_rollback()");
    const auto target = pg::text_arg(fcinfo, 0);
    const bool dry_run = pg::bool_arg(fcinfo, 1).value_or(false);
    if (!dry_run) require_read_committed("migrate_rollback()");

    pg::spi_connect();
    if (!dry_run) acquire_migration_lock();
    if (target) require_registered_target(*target, true);
    const std::vector<Migration> planned =
        target ? load_migrations(
                     "WHERE state = 'applied' AND version_order > $1::numeric "
                     "ORDER BY version_order DESC",
                     {target})
               : load_migrations("WHERE state = 'applied' ORDER BY version_order DESC LIMIT 1", {});

    // A migration without a down script can still be rolled back when snapshots were taken
    // before its last apply (its "snapshot" option): they are restored instead.
    std::vector<Migration> plan = planned;
    const bool log_has_snapshots =
        log_has_snapshot_ids() &&
        pg::query("SELECT pg_catalog.has_table_privilege('pg_migrate.snapshot', 'SELECT')")
                .rows.at(0)
                .at(0)
                .value_or("f") == "t";
    for (auto &m : plan) {
        if (m.down_sql || !log_has_snapshots) continue;
        auto ids = pg::query(
            // Only snapshots taken for this migration before that apply: ids alone could
            // name unrelated snapshots after a dump and restore.
            // Every snapshot that apply took must still be there and be its own: restoring
            // some of them and reporting the rollback done would leave the other tables as
            // the migration left them (a role with the snapshot grants may delete snapshot
            // rows, and snapshot_drop or snapshot_prune may have removed one).
            "SELECT pg_catalog.string_agg(s.id::text, ',' ORDER BY s.id), "
            "       (SELECT pg_catalog.string_agg(x::text, ', ' ORDER BY x) "
            "          FROM pg_catalog.unnest(last_apply.snapshot_ids) x "
            "         WHERE x OPERATOR(pg_catalog.<>) ALL "
            "               (pg_catalog.array_remove(pg_catalog.array_agg(s.id), NULL))) "
            "  FROM (SELECT l.snapshot_ids, l.started_at FROM pg_migrate.execution_log l "
            "         WHERE l.version = $1 AND l.operation = 'execute' AND l.status = 'succeeded' "
            "         ORDER BY l.id DESC LIMIT 1) last_apply "
            "  LEFT JOIN pg_migrate.snapshot s ON s.id = ANY (last_apply.snapshot_ids) "
            "   AND s.migration_version = $1 AND s.label = 'before migration ' || $1 "
            "   AND s.created_at <= last_apply.started_at "
            " GROUP BY last_apply.snapshot_ids",
            {m.version});
        if (ids.rows.empty() || (!ids.rows.at(0).at(0) && !ids.rows.at(0).at(1))) continue;
        if (ids.rows.at(0).at(1)) {
            m.missing_snapshots = *ids.rows.at(0).at(1);
            continue;  // no down script, and not every snapshot to restore instead
        }
        m.restore_snapshot_ids = *ids.rows.at(0).at(0);
        // The "script" only shows (and numbers) the restores in logs and errors: each
        // statement stands for the restore of one id, which attempt_once() calls directly.
        std::string script;
        size_t start = 0;
        while (start <= m.restore_snapshot_ids.size()) {
            size_t end = m.restore_snapshot_ids.find(',', start);
            if (end == std::string::npos) end = m.restore_snapshot_ids.size();
            const std::string id = m.restore_snapshot_ids.substr(start, end - start);
            m.restore_ids.push_back(std::stol(id));
            script += "SELECT snapshot_restore(" + id + ");\n";
            start = end + 1;
        }
        m.down_sql = script;
    }

    std::vector<pg::Row> rows;
    std::string missing_down, needs_cli, unparsable;
    std::vector<std::optional<std::string>> down_problems;
    for (const auto &m : plan) {
        // Checked on this server now, whatever it was when registered.
        down_problems.push_back(m.down_sql && m.restore_ids.empty()
                                    ? parse_problem(*m.down_sql, "down", m.version)
                                    : std::nullopt);
        if (!m.down_sql)
            missing_down += (missing_down.empty() ? "" : ", ") + label(m) +
                            (m.missing_snapshots.empty()
                                 ? ""
                                 : " (the snapshot(s) " + m.missing_snapshots +
                                       " its apply took, to restore instead, are gone)");
        else if (down_problems.back())
            unparsable += (unparsable.empty() ? "" : "; ") + *down_problems.back();
        else if (m.down_requires_no_transaction)
            needs_cli += (needs_cli.empty() ? "" : ", ") + label(m);
    }
    if (dry_run) {
        const bool any_refused = !missing_down.empty() || !needs_cli.empty() || !unparsable.empty();
        for (size_t i = 0; i < plan.size(); ++i) {
            const Migration &m = plan[i];
            if (!m.down_sql)
                rows.push_back(
                    result_row(m, "refused", std::nullopt,
                               m.missing_snapshots.empty()
                                   ? "no down script"
                                   : "no down script, and snapshot(s) " + m.missing_snapshots +
                                         " its apply took, to restore instead, are gone"));
            else if (down_problems[i])
                rows.push_back(
                    result_row(m, "refused", std::nullopt,
                               "cannot be reverted on this server: " + *down_problems[i]));
            else if (any_refused && !m.down_requires_no_transaction)
                rows.push_back(result_row(m, "blocked", std::nullopt,
                                          "would not run: migrate_rollback() refuses the whole "
                                          "rollback when one migration cannot be reverted"));
            else if (m.down_requires_no_transaction)
                rows.push_back(
                    result_row(m, "refused", std::nullopt,
                               "the down script cannot run in a transaction; use pgmig down"));
            else if (!m.restore_snapshot_ids.empty())
                rows.push_back(result_row(
                    m, "would_restore", std::nullopt,
                    "no down script: would restore snapshot(s) " + m.restore_snapshot_ids));
            else
                rows.push_back(result_row(m, "would_roll_back", std::nullopt, ""));
        }
        pg::spi_finish();
        pg::return_rows(fcinfo, rows);
        return (Datum)0;
    }
    if (!missing_down.empty())
        throw pg::UserError("55000", "cannot roll back: no down script for " + missing_down,
                            "Nothing was rolled back.",
                            "Register the migration again with a down_sql, or roll back to a "
                            "later target.");
    if (!unparsable.empty())
        throw pg::UserError("42601", "cannot roll back: " + unparsable, "Nothing was rolled back.",
                            "Fix the down script (pgmig registers the file again on the next "
                            "run), or roll back to a later target.");
    if (!needs_cli.empty())
        throw pg::UserError("25001",
                            "cannot roll back inside a transaction: the down script of " +
                                needs_cli + " cannot run inside a transaction block",
                            "Nothing was rolled back.",
                            "Use `pgmig down`, which runs it outside a transaction.");

    const long run_id = next_run_id();
    std::vector<ExecutionRecord> records;
    for (size_t i = 0; i < plan.size(); ++i) {
        Outcome o = run_with_retries(plan[i], Operation::Rollback, false, records);
        if (!o.ok) {
            rows.push_back(
                result_row(plan[i], "failed", o.duration_ms, failure_summary(*o.failure)));
            pg::query("UPDATE pg_migrate.migration SET last_error = $2 WHERE version = $1",
                      {plan[i].version, "rollback failed: " + failure_summary(*o.failure)});
            for (size_t j = i + 1; j < plan.size(); ++j)
                rows.push_back(
                    result_row(plan[j], "skipped", std::nullopt,
                               "not attempted: rollback of " + plan[i].version + " failed"));
            break;
        }
        pg::query(
            "UPDATE pg_migrate.migration SET state = 'rolled_back', applied_at = NULL, "
            "  applied_by = NULL, applied_checksum = NULL, duration_ms = NULL, "
            "  last_error = NULL WHERE version = $1",
            {plan[i].version});
        rows.push_back(result_row(plan[i], "rolled_back", o.duration_ms,
                                  plan[i].restore_snapshot_ids.empty()
                                      ? ""
                                      : "restored snapshot(s) " + plan[i].restore_snapshot_ids));
    }
    write_log(run_id, records);
    bool rolled_back = false;
    for (const auto &r : records) rolled_back = rolled_back || r.status == "succeeded";
    if (rolled_back) record_schema_fingerprint(run_id);
    pg::spi_finish();
    pg::return_rows(fcinfo, rows);
    return (Datum)0;
}

}  // namespace

}  // namespace pgm

extern "C" {
PG_FUNCTION_INFO_V1(pgm_migrate_execute);
Datum pgm_migrate_execute(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::migrate_execute_impl);
}
PG_FUNCTION_INFO_V1(pgm_migrate_rollback);
Datum pgm_migrate_rollback(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::migrate_rollback_impl);
}
}
