#!/usr/bin/env bash
# Another role's statement_progress rows, written ahead for run ids not handed out yet, neither
# make a later run skip statements nor make it fail when it records its own (issue 9).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_progress_squat
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
SET client_min_messages = warning; DROP ROLE IF EXISTS pgm_squatter; RESET client_min_messages;
CREATE ROLE pgm_squatter NOLOGIN;
-- The pgmig deploy role's grant on progress rows (docs/security.md#pgmig-deploy-role).
GRANT USAGE ON SCHEMA pg_migrate TO pgm_squatter;
GRANT SELECT, INSERT, UPDATE ON pg_migrate.statement_progress TO pgm_squatter;
CREATE TABLE t (i int);
SELECT migrate_register('1', 'index_t', 'CREATE INDEX CONCURRENTLY t_i ON t (i);');
SQL
check_eq "the migration runs outside a transaction" "t" "$(q -c "SELECT requires_no_transaction FROM pg_migrate.migration WHERE version = '1'")"
next=$(q -c "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM pg_migrate.run_id_seq")
sum=$(q -c "SELECT checksum FROM pg_migrate.migration WHERE version = '1'")
q -c "SET ROLE pgm_squatter; INSERT INTO pg_migrate.statement_progress (version, run_id, checksum, statement_number, status)
      SELECT '1', r, '$sum', 1, 'succeeded' FROM generate_series($next, $next + 5) r" >/dev/null
check_eq "the squatter wrote rows for the next run ids" "6" "$(q -c "SELECT count(*) FROM pg_migrate.statement_progress WHERE recorded_by = 'pgm_squatter'")"
begin=$(q -c "SELECT run_id || '|' || resume_from FROM migrate_external_begin('1')")
run=${begin%%|*}
check_eq "the run starts at statement 1 (the squatter's 'succeeded' rows are not trusted)" "1" "${begin#*|}"
check_eq "its run id is one the squatter wrote rows for" "yes" "$([ "$run" -ge "$next" ] && [ "$run" -le $((next + 5)) ] && echo yes || echo no)"
check_eq "recording its statement does not collide with the squatter's row" "" \
    "$(psql -X -qtA -d "$db" -c "SELECT migrate_external_statement('1', $run, 1, true)" 2>&1 | grep ERROR)"
check_eq "its own row is recorded, the squatter's left as it was" "postgres:succeeded,pgm_squatter:succeeded" \
    "$(q -c "SELECT string_agg(recorded_by || ':' || status, ',' ORDER BY recorded_by DESC) FROM pg_migrate.statement_progress WHERE run_id = $run")"
check_eq "the squatter cannot change the run's row" "0" \
    "$(q -c "SET ROLE pgm_squatter; UPDATE pg_migrate.statement_progress SET status = 'failed' WHERE run_id = $run AND recorded_by = 'postgres' RETURNING 1" | grep -c 1)"
dropdb "$db"
psql -X -qtA -d postgres -c "DROP ROLE IF EXISTS pgm_squatter" >/dev/null 2>&1
finish_checks
