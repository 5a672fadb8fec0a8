#!/usr/bin/env bash
# pgmig's no-transaction path (statements run one by one by the CLI, outside
# migrate_execute()) holds the same line as migrate_execute(): a statement that changes the
# role fails the migration, and nothing after it runs or is recorded as the other role (found
# by review: SET ROLE leaked into pgmig's bookkeeping and into the statements after it).
# Its cleanup of invalid indexes left by an earlier attempt touches only the migration's own
# index on its own table.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_nt_role
low=pgm_nt_low
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $low" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup
createdb "$db" || exit 1
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
work=$(mktemp -d)
mkdir "$work/m"
q "CREATE ROLE $low LOGIN; CREATE EXTENSION pg_migrate" >/dev/null
# The low role has the deploy grants: were its identity to leak, pgmig's bookkeeping would
# go on as it, and so would the statements after the SET ROLE.
q "SELECT count(*) FROM migrate_grant('$low', 'deploy')" >/dev/null
q "CREATE TABLE public.items (id int PRIMARY KEY, sku text); INSERT INTO public.items VALUES (1, 'a'), (2, 'a')" >/dev/null

printf -- "-- pgmig:no-transaction\nSET ROLE $low;\nCREATE TABLE public.made_by_low (who name DEFAULT current_user);\nCREATE INDEX CONCURRENTLY items_sku ON public.items (sku);\n" \
    >"$work/m/1_role_change.up.sql"
out=$("$pgmig" --db "dbname=$db" --dir "$work/m" up 2>&1)
check_eq "up fails (exit 1)" 1 "$?"
check_contains "saying the statement changed the role" \
    "a migration statement may not change the role it runs as: it changed the current user from \"postgres\" to \"$low\"" "$out"
check_eq "no statement after it ran" "" "$(q "SELECT to_regclass('public.made_by_low')")"
check_eq "the migration is recorded failed" "failed" "$(q "SELECT state FROM pg_migrate.migration WHERE version = '1'")"
check_eq "the failure is in the log, written as the deploying role" "failed postgres" \
    "$(q "SELECT status || ' ' || current_user_name FROM pg_migrate.execution_log WHERE version = '1' ORDER BY id DESC LIMIT 1")"
check_eq "the statement that changed the role is named" 1 \
    "$(q "SELECT statement_number FROM pg_migrate.execution_log WHERE version = '1' ORDER BY id DESC LIMIT 1")"

printf -- "-- pgmig:no-transaction\nSET SESSION AUTHORIZATION $low;\nCREATE TABLE public.made_by_low (who name DEFAULT current_user);\n" \
    >"$work/m/1_role_change.up.sql"
"$pgmig" --db "dbname=$db" --dir "$work/m" repair --reason 'test: the file was fixed' >/dev/null 2>&1
out=$("$pgmig" --db "dbname=$db" --dir "$work/m" up 2>&1)
check_eq "SET SESSION AUTHORIZATION fails it too" 1 "$?"
check_contains "the same way" "may not change the role it runs as" "$out"
check_eq "and nothing after it ran" "" "$(q "SELECT to_regclass('public.made_by_low')")"
rm "$work/m/1_role_change.up.sql"
"$pgmig" --db "dbname=$db" --dir "$work/m" repair --reason 'test: the file was removed' >/dev/null 2>&1

echo "== the invalid-index cleanup touches only the migration's own index"
# Another table in the same schema has an invalid index of the same name (a failed unique
# build); a migration that builds that name on its own table must leave it alone.
q "CREATE TABLE public.other (id int, sku text); INSERT INTO public.other VALUES (1, 'x'), (2, 'x')" >/dev/null
psql -X -q -d "$db" -c "CREATE UNIQUE INDEX CONCURRENTLY shared_name ON public.other (sku)" >/dev/null 2>&1
check_eq "the other table's invalid index exists" "f" \
    "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.shared_name'::regclass")"
printf -- "-- pgmig:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS shared_name ON public.items (id);\n" \
    >"$work/m/2_index.up.sql"
"$pgmig" --db "dbname=$db" --dir "$work/m" up >/dev/null 2>&1
check_eq "it is still there, on its own table" "other false" \
    "$(q "SELECT indrelid::regclass || ' ' || indisvalid FROM pg_index WHERE indexrelid = 'public.shared_name'::regclass")"
rm -rf "$work"
finish_checks
