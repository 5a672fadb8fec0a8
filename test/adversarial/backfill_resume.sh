#!/usr/bin/env bash
# A backfill resumed in a session with other settings resumes after the same key, and a set
# clause that assigns the key it paginates on is refused (issue 9).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_backfill_resume
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -d "$db" "$@"; }
q -c "CREATE EXTENSION pg_migrate" >/dev/null
q >/dev/null <<'SQL'
CREATE TABLE days (day date PRIMARY KEY, broken boolean NOT NULL DEFAULT false, done int NOT NULL DEFAULT 0);
INSERT INTO days (day) SELECT d FROM generate_series(date '2026-01-01', date '2026-01-12', interval '1 day') d;
UPDATE days SET broken = true WHERE day = '2026-01-08';
SQL
echo "== interrupted under DateStyle SQL, DMY; resumed under SQL, MDY"
out=$(PGOPTIONS="-c DateStyle=SQL,DMY" q -c "CALL migrate_backfill('days', 'done = done + 1 / (CASE WHEN broken THEN 0 ELSE 1 END)', batch_size => 3)" 2>&1 | grep -o "failed after [0-9]* rows")
check_eq "the first run stops at the broken row after two batches" "failed after 6 rows" "$out"
q -c "UPDATE days SET broken = false" >/dev/null
PGOPTIONS="-c DateStyle=SQL,MDY -c TimeZone=Pacific/Auckland -c IntervalStyle=sql_standard" \
    q -c "CALL migrate_backfill('days', 'done = done + 1 / (CASE WHEN broken THEN 0 ELSE 1 END)', batch_size => 3)" >/dev/null 2>&1
check_eq "the resumed run finishes" "completed" "$(q -c "SELECT status FROM migrate_backfill_progress()")"
check_eq "every row was updated exactly once" "1:12" "$(q -c "SELECT string_agg(done || ':' || n, ',') FROM (SELECT done, count(*) n FROM days GROUP BY done) x")"
check_eq "the stored resume key does not depend on the session's DateStyle" "2026-01-12" "$(q -c "SELECT last_key FROM migrate_backfill_progress()")"

echo "== timestamptz keys across time zones"
q >/dev/null <<'SQL'
CREATE TABLE events (at timestamptz PRIMARY KEY, done int NOT NULL DEFAULT 0, broken boolean NOT NULL DEFAULT false);
INSERT INTO events (at) SELECT t FROM generate_series(timestamptz '2026-03-01 00:00+00', timestamptz '2026-03-01 09:00+00', interval '1 hour') t;
UPDATE events SET broken = true WHERE at = '2026-03-01 05:00+00';
SQL
PGOPTIONS="-c TimeZone=America/New_York -c DateStyle=German" q -c "CALL migrate_backfill('events', 'done = done + 1 / (CASE WHEN broken THEN 0 ELSE 1 END)', batch_size => 2)" >/dev/null 2>&1
q -c "UPDATE events SET broken = false" >/dev/null
PGOPTIONS="-c TimeZone=Asia/Tokyo -c DateStyle=Postgres,DMY" q -c "CALL migrate_backfill('events', 'done = done + 1 / (CASE WHEN broken THEN 0 ELSE 1 END)', batch_size => 2)" >/dev/null 2>&1
check_eq "every event row was updated exactly once" "1:10" "$(q -c "SELECT string_agg(done || ':' || n, ',') FROM (SELECT done, count(*) n FROM events GROUP BY done) x")"

echo "== a set clause that assigns the key"
q >/dev/null <<'SQL'
CREATE TABLE rekeyed (id int PRIMARY KEY, v int);
INSERT INTO rekeyed SELECT g, 0 FROM generate_series(1, 10) g;
SQL
out=$(q -c "CALL migrate_backfill('rekeyed', 'id = id + 100, v = 1', batch_size => 3)" 2>&1 | grep ERROR)
check_eq "is refused before any batch" "ERROR:  set_clause assigns the key column id of public.rekeyed" "$out"
out=$(q -c "CALL migrate_backfill('rekeyed', '(v, id) = (1, id + 100)', batch_size => 3)" 2>&1 | grep ERROR)
check_eq "also in a multi-column assignment" "ERROR:  set_clause assigns the key column id of public.rekeyed" "$out"
check_eq "and nothing changed" "0" "$(q -c "SELECT count(*) FROM rekeyed WHERE v <> 0 OR id > 10")"

dropdb "$db"
finish_checks
