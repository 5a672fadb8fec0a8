#include "execution_log.hpp"

#include "pg/session_limits.hpp"

#include <cstdio>

namespace pgm {

namespace {

// 0.1.0's execution_log has no snapshot_ids column; the library also serves a database whose
// ALTER EXTENSION UPDATE has not run yet, so it writes what the table has.
constexpr const char *kInsertExecution010 =
    "INSERT INTO pg_migrate.execution_log (run_id, version, name, operation, status, attempt, "
    "  atomic, phase, started_at, finished_at, duration_ms, checksum, sqlstate, message, detail, "
    "  hint, context, failed_statement, statement_number, statement_position, error_position, "
    "  lock_timeout_ms, extension_version) "
    "VALUES ($1::bigint, $2, $3, $4, $5, $6::int, $7::bool, $8, $9::timestamptz, "
    "  $10::timestamptz, $11::numeric, $12, $13, $14, $15, $16, $17, $18, $19::int, $20::int, "
    "  $21::int, $22::int, "
    "  (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_migrate')) "
    "RETURNING id";

constexpr const char *kInsertExecution =
    "INSERT INTO pg_migrate.execution_log (run_id, version, name, operation, status, attempt, "
    "  atomic, phase, started_at, finished_at, duration_ms, checksum, sqlstate, message, detail, "
    "  hint, context, failed_statement, statement_number, statement_position, error_position, "
    "  lock_timeout_ms, snapshot_ids, extension_version) "
    "VALUES ($1::bigint, $2, $3, $4, $5, $6::int, $7::bool, $8, $9::timestamptz, "
    "  $10::timestamptz, $11::numeric, $12, $13, $14, $15, $16, $17, $18, $19::int, $20::int, "
    "  $21::int, $22::int, pg_catalog.string_to_array($23, ',')::bigint[], "
    "  (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_migrate')) "
    "RETURNING id";

constexpr const char *kInsertRollback =
    "INSERT INTO pg_migrate.rollback_log (run_id, execution_log_id, version, name, reason, "
    "  sqlstate, message, extension_version) "
    "VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, $7, "
    "  (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_migrate'))";

pg::Value opt_int(const std::optional<int> &v) {
    return v ? pg::Value(std::to_string(*v)) : std::nullopt;
}

pg::Value opt_text(const std::string &s) {
    return s.empty() ? pg::Value() : pg::Value(s);
}

}  // namespace

std::string format_duration_ms(double ms) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.3f", ms);
    return buf;
}

long next_run_id() {
    auto r = pg::query("SELECT pg_catalog.nextval('pg_migrate.run_id_seq')");
    return std::stol(r.rows.at(0).at(0).value());
}

bool log_has_snapshot_ids() {
    auto r = pg::query(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
        "'pg_migrate.execution_log'::pg_catalog.regclass AND attname = 'snapshot_ids' AND NOT "
        "attisdropped)");
    return r.rows.at(0).at(0).value_or("f") == "t";
}

ExecutionLog::ExecutionLog(long run_id)
    : run_id_(std::to_string(run_id)),
      with_snapshot_ids_(log_has_snapshot_ids()),
      insert_execution_(with_snapshot_ids_ ? kInsertExecution : kInsertExecution010,
                        with_snapshot_ids_ ? 23 : 22),
      insert_rollback_(kInsertRollback, 7) {}

void ExecutionLog::write(const ExecutionRecord &r) {
    const ScriptFailure empty;
    const ScriptFailure &f = r.failure ? *r.failure : empty;
    const std::string message = r.failure ? f.message : r.note;
    std::vector<pg::Value> args = {run_id_,
                                   r.version,
                                   r.name,
                                   r.operation,
                                   r.status,
                                   std::to_string(r.attempt),
                                   std::string(r.atomic ? "true" : "false"),
                                   opt_text(r.phase),
                                   pg::format_timestamp(r.started_at),
                                   pg::format_timestamp(r.finished_at),
                                   format_duration_ms(r.duration_ms),
                                   opt_text(r.checksum),
                                   opt_text(f.sqlstate),
                                   opt_text(message),
                                   opt_text(f.detail),
                                   opt_text(f.hint),
                                   opt_text(f.context),
                                   opt_text(f.statement),
                                   opt_int(f.statement_number),
                                   opt_int(f.statement_position),
                                   opt_int(f.error_position),
                                   std::to_string(r.lock_timeout_ms)};
    if (with_snapshot_ids_) args.push_back(opt_text(r.snapshot_ids));
    auto inserted = insert_execution_.run(args);
    if (!r.rollback_reason) return;
    insert_rollback_.run({run_id_, inserted.rows.at(0).at(0), r.version, r.name, *r.rollback_reason,
                          opt_text(f.sqlstate), opt_text(message)});
}

}  // namespace pgm
