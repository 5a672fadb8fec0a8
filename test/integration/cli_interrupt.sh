#!/usr/bin/env bash
# Ctrl-C stops the migration: pgmig up cancels the running statement, the server rolls it
# back, pgmig says which migrations are (not) applied and exits 130; nothing keeps running
# on the server and nothing commits later. The same for SIGTERM, for a migration outside a
# transaction and for pgmig down. A second Ctrl-C exits at once, naming the backend's pid.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_interrupt
work=$(mktemp -d /tmp/pgm-interrupt.XXXXXX)
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
cleanup
mkdir -p "$work/m"
createdb "$db" && psql -X -q -d "$db" -c "CREATE EXTENSION pg_migrate" >/dev/null || exit 1
q() { psql -X -qAt -d "$db" -c "$1"; }
sleeping() { q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()"; }
# wait_sleeping: until the server runs the pg_sleep (10 s at most)
wait_sleeping() { for _ in $(seq 1 100); do [ "$(sleeping)" -gt 0 ] && return 0; sleep 0.1; done; return 1; }

printf 'CREATE TABLE public.first (i int);\n' >"$work/m/1_first.up.sql"
printf 'CREATE TABLE public.slow (i int);\nSELECT pg_sleep(30);\n' >"$work/m/2_slow.up.sql"
printf 'DROP TABLE public.slow;\n' >"$work/m/2_slow.down.sql"

# interrupt SIGNAL ARGS...: runs pgmig in the background, sends SIGNAL once the server is in
# the pg_sleep, waits; sets rc, took (seconds) and out.
interrupt() {
    local sig=$1
    shift
    "$pgmig" --db "dbname=$db" --dir "$work/m" "$@" >"$work/out" 2>&1 &
    local pid=$!
    wait_sleeping || echo "  (the statement never started)"
    local t0; t0=$(date +%s)
    kill "-$sig" "$pid"
    wait "$pid"
    rc=$?
    took=$(( $(date +%s) - t0 ))
    out=$(cat "$work/out")
}

interrupt INT up
check_eq "Ctrl-C during up: exit 130" 130 "$rc"
check_eq "... at once (not after the 30 s statement)" yes "$([ "$took" -le 5 ] && echo yes || echo "no: $took s")"
check_contains "... saying the statement was cancelled and rolled back" "the running statement was cancelled and its transaction rolled back" "$out"
check_contains "... and the state of each migration" "2  slow  pending" "$out"
check_eq "... nothing runs on the server any more" 0 "$(sleeping)"
sleep 1
check_eq "... and nothing of the migrations was committed" "pending pending |" \
    "$(q "SELECT string_agg(state, ' ' ORDER BY version_order) FROM pg_migrate.migration") $(q "SELECT to_regclass('public.slow')")|"

interrupt TERM up
check_eq "SIGTERM during up: exit 130 too" 130 "$rc"
check_contains "... naming the signal" "interrupted by SIGTERM" "$out"

# Outside a transaction: the statement is cancelled; the migration is left failed (a statement
# of it may have run before), and the next up resumes it.
printf -- '-- pgmig:no-transaction\nCREATE TABLE public.nt (i int);\nSELECT pg_sleep(30);\n' >"$work/m/2_slow.up.sql"
printf 'DROP TABLE public.nt;\n' >"$work/m/2_slow.down.sql"
interrupt INT up
check_eq "Ctrl-C during a migration outside a transaction: exit 130" 130 "$rc"
check_eq "... nothing runs on the server any more" 0 "$(sleeping)"
check_contains "... its state is reported" "2  slow  " "$out"

# down: the down script of 2 sleeps.
printf 'CREATE TABLE public.slow (i int);\n' >"$work/m/2_slow.up.sql"
printf 'SELECT pg_sleep(30);\nDROP TABLE public.slow;\n' >"$work/m/2_slow.down.sql"
psql -X -q -d "$db" -c "DROP TABLE IF EXISTS public.nt" >/dev/null
"$pgmig" --db "dbname=$db" --dir "$work/m" repair --reason 'test: forget the interrupted no-transaction run' >/dev/null 2>&1
"$pgmig" --db "dbname=$db" --dir "$work/m" up >/dev/null 2>&1
check_eq "(both applied)" "applied applied" "$(q "SELECT string_agg(state, ' ' ORDER BY version_order) FROM pg_migrate.migration")"
interrupt INT down --steps 1
check_eq "Ctrl-C during down: exit 130" 130 "$rc"
check_eq "... the rollback was rolled back: still applied, table there" "applied slow" \
    "$(q "SELECT state FROM pg_migrate.migration WHERE version = '2'") $(q "SELECT to_regclass('public.slow')")"

# Twice: exit at once, naming the backend; the server keeps the statement until it is cancelled.
"$pgmig" --db "dbname=$db" --dir "$work/m" down --steps 1 >"$work/out" 2>&1 &
pid=$!
wait_sleeping
# Two signals of one kind that arrive together are one (POSIX does not queue them): stop the
# process, send SIGINT and SIGTERM, let it go on; it handles one after the other.
kill -STOP "$pid"; kill -INT "$pid"; kill -TERM "$pid"; kill -CONT "$pid"
wait "$pid"
rc=$?
check_eq "Ctrl-C twice: exit 130" 130 "$rc"
check_contains "... saying the backend may still run, with its pid" "the server may still be running the statement (backend pid" "$(cat "$work/out")"
finish_checks
