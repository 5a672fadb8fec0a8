#!/usr/bin/env bash
# 100 sessions call migrate_execute() at the same moment: every migration is applied exactly
# once, no session fails, none deadlocks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_many_sessions
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
SELECT count(migrate_register(lpad(g::text, 4, '0'), 'table_' || g,
    format('CREATE TABLE t_%s (id bigserial PRIMARY KEY, v int); CREATE INDEX ON t_%s (v); '
           'INSERT INTO t_%s (v) SELECT x FROM generate_series(1, 10) x;', g, g, g),
    format('DROP TABLE t_%s;', g)))
  FROM generate_series(1, 50) g;
SQL
script=$(mktemp)
echo 'SELECT count(*) FROM migrate_execute();' >"$script"
out=$(mktemp)
if pgbench -n -c 100 -j 2 -t 1 -f "$script" "$db" >"$out" 2>&1; then status=0; else status=$?; fi
check_eq "pgbench: all 100 sessions finished without error" 0 "$status"
check_eq "pgbench: 100 transactions processed" "100/100" \
    "$(sed -n 's/.*number of transactions actually processed: \([0-9/]*\).*/\1/p' "$out")"
q() { psql -X -qtA -d "$db" -c "$1"; }
check_eq "every migration applied" 50 "$(q "SELECT count(*) FROM migrate_status() WHERE state = 'applied'")"
check_eq "each applied exactly once" 50 \
    "$(q "SELECT count(*) FROM (SELECT version FROM pg_migrate.execution_log WHERE status = 'succeeded' GROUP BY version HAVING count(*) = 1) s")"
check_eq "no failed or retried attempt" 0 "$(q "SELECT count(*) FROM pg_migrate.execution_log WHERE status <> 'succeeded'")"
check_eq "the inserts ran once per table" 500 \
    "$(q "SELECT sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM t_%s', g), false, true, '')))[1]::text::int) FROM generate_series(1, 50) g")"
check_eq "all applied in one run" 1 "$(q "SELECT count(DISTINCT run_id) FROM pg_migrate.execution_log")"
rm -f "$script" "$out"
dropdb "$db"
finish_checks
