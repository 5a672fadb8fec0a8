#!/usr/bin/env bash
# pgmig up on a database without the extension creates it when the role may (one line saying
# so), its dry run says it would and changes nothing, and a role that may not is told exactly
# what to run, with nothing changed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_up_creates
db2=pgm_up_creates_norights
role=pgm_up_plain
work=$(mktemp -d /tmp/pgm-upcreate.XXXXXX)
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    dropdb --if-exists "$db2" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
cleanup
mkdir -p "$work/m"
printf 'CREATE TABLE public.t (i int);\n' >"$work/m/1_t.up.sql"
createdb "$db" || exit 1
ext() { psql -X -qAt -d "$1" -c "SELECT count(*) FROM pg_extension WHERE extname = 'pg_migrate'"; }

out=$("$pgmig" --db "dbname=$db" --dir "$work/m" up --dry-run 2>&1)
check_eq "up --dry-run on a database without the extension exits 0" 0 "$?"
check_contains "... saying it would create it, then apply the files" "would create extension pg_migrate first, then apply:" "$out"
check_contains "... listing them" "1  t" "$out"
check_eq "... and creates nothing" 0 "$(ext "$db")"

out=$("$pgmig" --db "dbname=$db" --dir "$work/m" up 2>&1)
check_eq "up creates the extension and applies" 0 "$?"
check_contains "... saying so in one line" "created extension pg_migrate" "$out"
check_eq "... the extension is there" 1 "$(ext "$db")"
check_eq "... and the migration applied" applied \
    "$(psql -X -qAt -d "$db" -c "SELECT state FROM pg_migrate.migration WHERE version = '1'")"

psql -X -q -d postgres -c "CREATE ROLE $role LOGIN" >/dev/null
createdb -O "$role" "$db2" || exit 1
out=$("$pgmig" --db "dbname=$db2 user=$role" --dir "$work/m" up 2>&1)
check_eq "a role that may not create the extension: up fails (exit 1)" 1 "$?"
check_contains "... saying exactly what to run" "run \`pgmig init\` once as one" "$out"
check_eq "... and nothing was created" "0 " \
    "$(ext "$db2") $(psql -X -qAt -d "$db2" -c "SELECT to_regclass('public.t')")"
finish_checks
