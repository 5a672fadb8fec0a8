// Writes pg_migrate.execution_log and pg_migrate.rollback_log rows.
#pragma once

#include "pg/postgres.hpp"
#include "pg/spi.hpp"

#include <optional>
#include <string>

namespace pgm {

// What went wrong in a script, with where.
struct ScriptFailure {
    std::string sqlstate, message, detail, hint, context;
    std::string phase;      // up, verify, down, snapshot, restore
    std::string statement;  // the failing statement's text
    std::optional<int> statement_number, statement_position, error_position;
};

struct ExecutionRecord {
    std::string version, name;
    std::string operation;  // execute, rollback
    std::string status;     // succeeded, failed, retrying, rolled_back
    int attempt = 1;
    bool atomic = false;
    std::string phase;
    TimestampTz started_at = 0, finished_at = 0;
    double duration_ms = 0;
    std::string checksum;
    int lock_timeout_ms = 0;
    std::string snapshot_ids;  // comma-separated ids of the snapshots taken before it ran
    std::optional<ScriptFailure> failure;
    std::string note;  // message when there is no failure (e.g. why a migration was undone)
    // When set, a rollback_log row with this reason is written and linked to this record.
    std::optional<std::string> rollback_reason;
};

class ExecutionLog {
  public:
    explicit ExecutionLog(long run_id);
    void write(const ExecutionRecord &record);

  private:
    std::string run_id_;
    bool with_snapshot_ids_;
    pg::PreparedQuery insert_execution_;
    pg::PreparedQuery insert_rollback_;
};

// Whether execution_log has the snapshot_ids column (0.2.0); the library also serves a
// database whose ALTER EXTENSION UPDATE has not run yet.
bool log_has_snapshot_ids();

// A new run id from pg_migrate.run_id_seq: groups the log rows of one call.
long next_run_id();

std::string format_duration_ms(double ms);

}  // namespace pgm
