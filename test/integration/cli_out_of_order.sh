#!/usr/bin/env bash
# A pending migration older than the newest applied one (written on a branch, merged late) is
# refused by up and by its dry run alike (exit 3, nothing applied), named with the newer one
# it would follow, until --allow-out-of-order says to apply it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_out_of_order
work=$(mktemp -d /tmp/pgm-ooo.XXXXXX)
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
cleanup
createdb "$db" && psql -X -q -d "$db" -c "CREATE EXTENSION pg_migrate" >/dev/null || exit 1
m="$work/m"
mkdir -p "$m"
p() { "$pgmig" --db "dbname=$db" --dir "$m" "$@"; }
printf 'CREATE TABLE public.one (i int);\n' >"$m/20260101000000_one.up.sql"
printf 'CREATE TABLE public.three (i int);\n' >"$m/20260301000000_three.up.sql"
p up >/dev/null 2>&1
printf 'CREATE TABLE public.two (i int);\n' >"$m/20260201000000_two.up.sql"
printf 'CREATE TABLE public.four (i int);\n' >"$m/20260401000000_four.up.sql"

out=$(p up --dry-run 2>&1)
check_eq "up --dry-run refuses an out-of-order migration (exit 3)" 3 "$?"
out2=$(p up 2>&1)
check_eq "... as up does (exit 3)" 3 "$?"
check_contains "... naming it and the newer applied one" "20260201000000 two: older than applied 20260301000000" "$out2"
check_contains "... and the way out" "--allow-out-of-order" "$out2"
check_eq "... nothing was applied, not even the in-order one" "" \
    "$(psql -X -qAt -d "$db" -c "SELECT to_regclass('public.two') || ' ' || to_regclass('public.four')")"
check_eq "up --to the in-order part below it is fine" 0 "$(p up --to 20260101000000 >/dev/null 2>&1; echo $?)"
check_eq "up --allow-out-of-order applies both" 0 "$(p up --allow-out-of-order >/dev/null 2>&1; echo $?)"
check_eq "... in version order" "two four" \
    "$(psql -X -qAt -d "$db" -c "SELECT string_agg(name, ' ' ORDER BY version_order) FROM pg_migrate.migration WHERE version IN ('20260201000000', '20260401000000')")"
check_eq "status --strict is clean afterwards" 0 "$(p status --strict >/dev/null 2>&1; echo $?)"
finish_checks
