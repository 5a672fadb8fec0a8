#!/usr/bin/env bash
# Drift before a deploy: pgmig up warns when the schema changed outside migrations since the
# last one (instead of silently recording the drifted schema as the new baseline), up --strict
# refuses (exit 3, nothing applied), and pgmig drift --accept records the schema deliberately.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_drift_strict
work=$(mktemp -d /tmp/pgm-drift.XXXXXX)
cleanup() { dropdb --if-exists "$db" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
cleanup
createdb "$db" && psql -X -q -d "$db" -c "CREATE EXTENSION pg_migrate" >/dev/null || exit 1
m="$work/m"
mkdir -p "$m"
p() { "$pgmig" --db "dbname=$db" --dir "$m" "$@"; }
q() { psql -X -qAt -d "$db" -c "$1"; }
printf 'CREATE TABLE public.items (id int PRIMARY KEY);\n' >"$m/1_items.up.sql"
check_eq "the first up (no fingerprint yet) applies, without a warning" "0 0" \
    "$(p up >"$work/out" 2>&1; echo $? "$(grep -c warning "$work/out")")"
q "ALTER TABLE public.items ADD COLUMN hotfix text" >/dev/null
printf 'CREATE TABLE public.more (id int);\n' >"$m/2_more.up.sql"

out=$(p up --strict 2>&1)
check_eq "after a manual change, up --strict refuses (exit 3)" 3 "$?"
check_contains "... naming the change" "public.items" "$out"
check_contains "... and the way out" "pgmig drift --accept" "$out"
check_eq "... nothing was applied" "" "$(q "SELECT to_regclass('public.more')")"

out=$(p up 2>&1)
check_eq "up without --strict applies" 0 "$?"
check_contains "... and warns first" "warning: the schema changed outside migrations since the last one" "$out"
check_eq "... the migration applied" more "$(q "SELECT to_regclass('public.more')")"

q "CREATE INDEX items_hotfix_idx ON public.items (hotfix)" >/dev/null
check_eq "pgmig drift sees the next manual change (exit 1)" 1 "$(p drift >/dev/null 2>&1; echo $?)"
out=$(p drift --accept 2>&1)
check_eq "drift --accept records the schema as it is" 0 "$?"
check_contains "... saying how many changes it accepted" "change(s) accepted" "$out"
check_eq "drift is clean afterwards" 0 "$(p drift >/dev/null 2>&1; echo $?)"
printf 'CREATE TABLE public.third (id int);\n' >"$m/3_third.up.sql"
check_eq "and up --strict goes through" 0 "$(p up --strict >/dev/null 2>&1; echo $?)"
finish_checks
