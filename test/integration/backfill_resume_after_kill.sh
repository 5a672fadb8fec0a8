#!/usr/bin/env bash
# A backfill whose backend is terminated between batches resumes, on the next CALL with the
# same arguments, after its last committed batch: every row is updated exactly once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_backfill_kill
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -d "$db" -c "$1"; }
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
CREATE TABLE items (id bigint PRIMARY KEY, touched int NOT NULL DEFAULT 0);
INSERT INTO items (id) SELECT generate_series(1, 5000);
SQL
psql -X -q -d "$db" -c "SET application_name = 'slow_backfill'" \
    -c "CALL migrate_backfill('items', 'touched = touched + 1', batch_size => 500, sleep_ms => 300)" \
    >/dev/null 2>&1 &
client=$!
for _ in $(seq 1 100); do
    [ "$(q "SELECT coalesce(max(rows_done), 0) >= 1000 FROM pg_migrate.backfill_progress")" = t ] && break
    sleep 0.1
done
check_eq "the backfill made progress" t "$(q "SELECT max(rows_done) >= 1000 FROM pg_migrate.backfill_progress")"
out=$(psql -X -q -d "$db" -c "CALL migrate_backfill('items', 'touched = touched + 1', batch_size => 500)" 2>&1 || true)
if echo "$out" | grep -q "is already running"; then refused=yes; else refused=no; echo "$out"; fi
check_eq "a second session cannot run the same backfill at the same time" yes "$refused"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'slow_backfill'" >/dev/null
wait "$client" || true
done_before=$(q "SELECT rows_done FROM pg_migrate.backfill_progress")
check_eq "the interrupted run is not completed" running "$(q "SELECT status FROM pg_migrate.backfill_progress")"
check_eq "only committed batches count" "$done_before" "$(q "SELECT count(*) FROM items WHERE touched = 1")"
out=$(psql -X -q -d "$db" -c "CALL migrate_backfill('items', 'touched = touched + 1', batch_size => 500)" 2>&1)
if echo "$out" | grep -q "resuming backfill"; then resumed=yes; else resumed=no; echo "$out"; fi
check_eq "the second CALL resumes" yes "$resumed"
check_eq "every row updated exactly once" "5000" "$(q "SELECT count(*) FROM items WHERE touched = 1")"
check_eq "one progress row, completed, all rows" "1|completed|5000" \
    "$(q "SELECT count(*) || '|' || max(status) || '|' || max(rows_done) FROM pg_migrate.backfill_progress")"
dropdb "$db"
finish_checks
