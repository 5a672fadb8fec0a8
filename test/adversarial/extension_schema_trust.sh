#!/usr/bin/env bash
# The extension's schema may be writable by a role that is not trusted: since PostgreSQL 15
# the database's owner owns public. pgmig must not call what that role plants there: its
# pinned search_path is pg_catalog and pg_temp only, and it names the extension's functions
# with their schema (found by review: overloads such as public.quote_ident(name) and
# public.format(text,text) ran as the superuser in testdata and in the invalid-index retry of
# up). pgmig init warns, naming the roles, when the schema it creates the extension in is
# writable by others, and --schema puts it elsewhere.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_ext_schema
db2=pgm_ext_schema_safe
owner=pgm_db_owner
work=$(mktemp -d /tmp/pgm-extschema.XXXXXX)
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    dropdb --if-exists "$db2" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $owner" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
cleanup
mkdir -p "$work"
psql -X -q -d postgres -c "CREATE ROLE $owner LOGIN" >/dev/null || exit 1
createdb -O "$owner" "$db" || exit 1
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

# The owner's plants in public: each counts its calls in a sequence (kept on rollback), then
# does what pg_catalog's does.
PGUSER=$owner psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || exit 1
CREATE SEQUENCE public.hits;
GRANT USAGE ON SEQUENCE public.hits TO PUBLIC;
CREATE FUNCTION public.quote_ident(name) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.hits'); RETURN pg_catalog.quote_ident($1::pg_catalog.text); END $$;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.hits'); RETURN pg_catalog.format($1, $2); END $$;
CREATE FUNCTION public.format(text, regclass) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.hits'); RETURN pg_catalog.format($1, $2); END $$;
CREATE FUNCTION public.count(text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.nextval('public.hits'); RETURN 0; END $$;
CREATE TABLE public.items (id integer PRIMARY KEY, name text);
SQL
hits() { q "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.hits"; }

out=$("$pgmig" --db "dbname=$db" --dir "$work/migrations" init 2>&1)
check_eq "pgmig init (as the superuser) creates the extension in public" 0 "$?"
check_contains "... warning that the database's owner may create objects there" "warning: roles $owner may create objects in schema public" "$out"
check_contains "... and saying how to avoid it" "pgmig init --schema NAME" "$out"

mig="$work/migrations"
printf 'CREATE TABLE public.widgets (id integer PRIMARY KEY, name text);\n' >"$mig/1_widgets.up.sql"
printf 'DROP TABLE public.widgets;\n' >"$mig/1_widgets.down.sql"
printf 'CREATE INDEX CONCURRENTLY widgets_name_idx ON public.widgets (name);\n' >"$mig/2_widgets_name.up.sql"
printf 'DROP INDEX CONCURRENTLY public.widgets_name_idx;\n' >"$mig/2_widgets_name.down.sql"
run() { "$pgmig" --db "dbname=$db" --dir "$mig" "$@" >"$work/out" 2>&1 || { echo "  pgmig $* failed:"; sed 's/^/    /' "$work/out"; }; }
run up
# An invalid index left by an interrupted CONCURRENTLY build: the retry drops it first.
run down --steps 1
q "CREATE INDEX widgets_name_idx ON public.widgets (name); UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'public.widgets_name_idx'::regclass" >/dev/null
run up
check_eq "up, down and the invalid-index retry ran" t "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.widgets_name_idx'::regclass")"
run status
run preflight
run validate
run health
run drift
run snapshot create --table items
run snapshot list
run testdata generate --table items --rows 10
run testdata list
run testdata cleanup --all
run monitor --once
check_eq "none of the owner's plants in the extension's schema ran" 0 "$(hits)"

createdb "$db2" || exit 1
psql -X -q -d "$db2" -c "CREATE SCHEMA migrate AUTHORIZATION postgres" >/dev/null
out=$("$pgmig" --db "dbname=$db2" --dir "$work/m2" init --schema migrate 2>&1)
check_eq "pgmig init --schema migrate" 0 "$?"
check_eq "... creates the extension there" migrate \
    "$(psql -X -qAt -d "$db2" -c "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'pg_migrate'")"
check_eq "... without a warning (only superusers may create objects in it)" "" "$(grep warning <<<"$out")"
check_eq "... and pgmig works with it there" 0 "$("$pgmig" --db "dbname=$db2" --dir "$work/m2" status >/dev/null 2>&1; echo $?)"
finish_checks
