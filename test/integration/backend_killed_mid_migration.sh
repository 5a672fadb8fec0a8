#!/usr/bin/env bash
# The backend running migrate_execute() is terminated in the middle of a migration: nothing of
# that migration (nor of the earlier ones in the same call) stays, the registry still shows
# them pending, and the next run applies them once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_killed
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -d "$db" -c "$1"; }
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
SELECT migrate_register('1', 'create_t', 'CREATE TABLE t (i int); INSERT INTO t VALUES (1);');
SELECT migrate_register('2', 'slow', 'INSERT INTO t VALUES (2); SELECT pg_sleep(30);');
SQL
psql -X -qtA -d "$db" -c "SET application_name = 'killed_deploy'; SELECT * FROM migrate_execute()" >/dev/null 2>&1 &
client=$!
for _ in $(seq 1 100); do
    [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'killed_deploy' AND query LIKE '%migrate_execute%' AND wait_event = 'PgSleep'")" = 1 ] && break
    sleep 0.1
done
check_eq "the second migration is running" 1 \
    "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'killed_deploy' AND wait_event = 'PgSleep'")"
check_eq "terminate the backend" t \
    "$(q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'killed_deploy'")"
wait "$client" || true
check_eq "nothing of the interrupted call stays" "" "$(q "SELECT to_regclass('t')")"
check_eq "both migrations still pending" "1|pending,2|pending" \
    "$(q "SELECT string_agg(version || '|' || state, ',' ORDER BY version) FROM migrate_status()")"
check_eq "the migration lock was released with the session" "" \
    "$(q "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = 1885826409")"
q "SELECT migrate_register('2', 'slow', 'INSERT INTO t VALUES (2);')" >/dev/null
check_eq "the next run applies both" "applied,applied" \
    "$(q "SELECT string_agg(status, ',' ORDER BY version) FROM migrate_execute()")"
check_eq "each insert ran once" "1,2" "$(q "SELECT string_agg(i::text, ',' ORDER BY i) FROM t")"
dropdb "$db"
finish_checks
