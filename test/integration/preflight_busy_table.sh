#!/usr/bin/env bash
# Pre-flight on a busy table: a lock held by a short query (which the migration's lock timeout
# and retries wait out) only warns; a lock the retries could not outlast (idle in
# transaction, a transaction open longer than they wait) fails, and the detail says which
# (issue 10).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_preflight_busy
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
CREATE TABLE busy (id int PRIMARY KEY);
INSERT INTO busy SELECT generate_series(1, 10);
SELECT migrate_register('1', 'add_note', 'ALTER TABLE busy ADD COLUMN note text;');
SQL
blocking() { q -c "$1 SELECT status || '|' || detail FROM migrate_preflight() WHERE check_name = 'blocking_locks'"; }
wait_for_holder() {  # until the background session holds its lock on busy
    for _ in $(seq 1 100); do
        [ "$(q -c "SELECT count(*) FROM pg_locks WHERE relation = 'busy'::regclass AND granted AND pid <> pg_backend_pid()")" -gt 0 ] && return 0
        sleep 0.05
    done
    return 1
}

echo "== a short query reading the table"
psql -X -qtA -d "$db" -c "SELECT pg_sleep(4) FROM busy LIMIT 1" >/dev/null &
reader=$!
wait_for_holder
out=$(blocking "")
check_eq "it warns, not fails" "warn" "${out%%|*}"
check_contains "and says the migration will wait for it" "will wait for (and retry)" "$out"
check_contains "with the retry budget" "the lock timeout and 5 retries wait up to" "$out"
check_eq "pre-flight as a whole passes" "t" "$(q -c "SELECT bool_and(status <> 'fail' OR NOT critical) FROM migrate_preflight()")"
echo "== the same query, but retries that give up sooner than it runs"
sleep 1
out=$(blocking "SET pg_migrate.lock_timeout = '50ms'; SET pg_migrate.lock_retries = 0;")
check_eq "it fails" "fail" "${out%%|*}"
check_contains "because its transaction is older than the retries wait" "longer than the lock timeout and retries wait (00:00:00.05)" "$out"
wait "$reader"

echo "== a session idle in transaction"
( printf 'BEGIN;\nSELECT count(*) FROM busy;\n\\! sleep 3\nCOMMIT;\n' | psql -X -qtA -d "$db" >/dev/null ) &
idler=$!
wait_for_holder
sleep 0.3
out=$(blocking "")
check_eq "it fails" "fail" "${out%%|*}"
check_contains "naming the idle transaction" "idle in transaction for" "$out"
wait "$idler"

echo "== lock_timeout 0 waits with no limit"
psql -X -qtA -d "$db" -c "SELECT pg_sleep(2) FROM busy LIMIT 1" >/dev/null &
reader=$!
wait_for_holder
out=$(blocking "SET pg_migrate.lock_timeout = 0;")
check_eq "any conflicting lock fails" "fail" "${out%%|*}"
check_contains "and says why" "pg_migrate.lock_timeout is 0" "$out"
wait "$reader"
check_eq "with nobody on the table it passes" "pass" "$(blocking "" | cut -d'|' -f1)"
dropdb "$db"
finish_checks
