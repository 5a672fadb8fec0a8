#!/usr/bin/env bash
# pgmig repair: the way out when a failed migration's file was deleted (it blocked every later
# deploy) and when an applied file was edited (a comment: up refused forever). Dry run first,
# a reason always, each repair logged, only named versions accepted, and a role with only the
# repair grants can do it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_repair
role=pgm_repairer
work=$(mktemp -d /tmp/pgm-repair.XXXXXX)
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
cleanup
createdb "$db" || exit 1
q() { psql -X -qAt -d "$db" -c "$1"; }
mig="$work/migrations"
mkdir -p "$mig"
p() { "$pgmig" --db "dbname=$db" --dir "$mig" "$@"; }
code() { "$@" >"$work/out" 2>&1; echo $?; }

q "CREATE EXTENSION pg_migrate" >/dev/null
printf 'CREATE TABLE public.items (id integer PRIMARY KEY);\n' >"$mig/1_items.up.sql"
printf 'INSERT INTO public.no_such_table VALUES (1);\n' >"$mig/2_broken.up.sql"
check_eq "up: the second migration fails" 1 "$(code p up)"
rm "$mig/2_broken.up.sql"
printf 'CREATE TABLE public.next (id integer);\n' >"$mig/3_next.up.sql"
check_eq "with the failed migration's file deleted, status --strict fails" 1 "$(code p status --strict)"

check_eq "repair --dry-run" 0 "$(code p repair --dry-run)"
check_contains "... would forget the failed migration whose file is gone" "would_forget" "$(cat "$work/out")"
check_eq "... and changed nothing" failed "$(q "SELECT state FROM pg_migrate.migration WHERE version = '2'")"
check_eq "repair without --reason is a usage error" 2 "$(code p repair)"
check_contains "... saying why" "needs --reason TEXT" "$(cat "$work/out")"
check_eq "repair --reason" 0 "$(code p repair --reason 'file removed after the failed deploy')"
check_contains "... forgot it" "forgotten" "$(cat "$work/out")"
check_eq "... the registry no longer has it" 0 "$(q "SELECT count(*) FROM pg_migrate.migration WHERE version = '2'")"
check_eq "... the repair is logged with who and why" "forget|2|postgres|file removed after the failed deploy" \
    "$(q "SELECT operation || '|' || version || '|' || performed_by || '|' || reason FROM pg_migrate.repair_log")"
check_eq "the next deploy goes through" 0 "$(code p up)"
check_eq "repair again: nothing to repair" "nothing to repair" "$(p repair --reason again 2>&1)"

printf -- '-- the items table\nCREATE TABLE public.items (id integer PRIMARY KEY);\n' >"$mig/1_items.up.sql"
check_eq "an applied file gained a comment: up refuses" 1 "$(code p up)"
check_contains "... and its hint names pgmig repair" "pgmig repair --accept-checksum" "$(cat "$work/out")"
check_eq "repair --reason alone does not accept it (only named versions)" 1 \
    "$(p repair --reason nothing >/dev/null 2>&1; code p up)"
check_eq "repair --accept-checksum 1 --dry-run" 0 "$(code p repair --accept-checksum 1 --dry-run)"
check_contains "... would accept it" "would_accept" "$(cat "$work/out")"
check_eq "repair --accept-checksum 1 --reason" 0 "$(code p repair --accept-checksum 1 --reason 'comment added')"
check_contains "... accepted" "accepted" "$(cat "$work/out")"
check_eq "up works again, running nothing" "nothing to apply" "$(p up 2>&1)"
check_eq "status --strict agrees" 0 "$(code p status --strict)"
check_eq "both repairs are logged" "forget accept_checksum" \
    "$(q "SELECT string_agg(operation, ' ' ORDER BY id) FROM pg_migrate.repair_log")"
check_eq "--accept-checksum of a version with no file is a usage error" 2 \
    "$(code p repair --accept-checksum 99 --reason x)"
printf 'SELECT 4;\n' >"$mig/4_pending.up.sql"
p status >/dev/null 2>&1
check_eq "--accept-checksum of a migration that is not applied is a usage error" 2 \
    "$(code p repair --accept-checksum 4 --reason x)"
check_contains "... saying so" "not applied" "$(cat "$work/out")"

# A role with only the repair grants.
q "CREATE ROLE $role LOGIN; SELECT count(*) FROM migrate_grant('$role', 'repair')" >/dev/null
p up >/dev/null 2>&1
printf 'INSERT INTO public.no_such_table VALUES (5);\n' >"$mig/5_broken.up.sql"
p up >/dev/null 2>&1
rm "$mig/5_broken.up.sql"
check_eq "a role with the repair grants repairs" 0 \
    "$(code "$pgmig" --db "dbname=$db user=$role" --dir "$mig" repair --reason 'by the repair role')"
check_eq "... logged under its name" "$role" \
    "$(q "SELECT performed_by FROM pg_migrate.repair_log WHERE version = '5'")"
finish_checks
