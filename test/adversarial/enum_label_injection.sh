#!/usr/bin/env bash
# An enum label cannot become SQL in the checks migrate_validate() generates for a pending
# migration that converts a column to the enum. The label's owner controls its text and a
# database owner controls the validator's standard_conforming_strings; with it off, a label
# ending in a backslash used to close the literal early ('...\'' is one quote then) and the
# rest ran as the validator, a superuser (review of issue 9). The labels are now E'' literals.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_enum_inject
role=pgm_enum_owner
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup
psql -X -q -d postgres -c "CREATE ROLE $role LOGIN" >/dev/null || exit 1
createdb -O "$role" "$db" || exit 1
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
q "CREATE EXTENSION pg_migrate; CREATE TABLE public.acc (id int PRIMARY KEY, s text);
   INSERT INTO public.acc VALUES (1, 'a'), (2, 'zzz')" >/dev/null || exit 1
PGUSER=$role psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || exit 1
-- A sequence: what the label runs must be seen even if the check is rolled back.
CREATE SEQUENCE public.ran;
GRANT USAGE ON SEQUENCE public.ran TO PUBLIC;
CREATE FUNCTION public.evil() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM nextval('public.ran'); RETURN true; END $$;
CREATE TYPE public.st AS ENUM ('a', 'b');
ALTER TYPE public.st ADD VALUE $l$\']) OR (SELECT public.evil()) IS NOT NULL --$l$;
SQL
PGUSER=$role psql -X -q -d postgres -c "ALTER DATABASE $db SET standard_conforming_strings = off" >/dev/null || exit 1
q "SELECT migrate_register('1', 'to_enum', 'ALTER TABLE public.acc ALTER COLUMN s TYPE public.st USING s::public.st;')" >/dev/null

check_eq "the session runs with standard_conforming_strings off" off "$(q "SHOW standard_conforming_strings")"
out=$(q "SELECT status || ' ' || violations FROM migrate_validate() WHERE check_name LIKE 'pending_enum%'" 2>&1)
check_eq "migrate_validate finds the one row the enum would refuse ('zzz')" "fail 1" "$out"
check_eq "... and ran none of the label as SQL" 0 "$(q "SELECT count(*) FROM pg_sequences WHERE sequencename = 'ran' AND last_value IS NOT NULL")"
"$pgmig" --db "dbname=$db" validate >/dev/null 2>&1
check_eq "pgmig validate ran none of it either" 0 "$(q "SELECT count(*) FROM pg_sequences WHERE sequencename = 'ran' AND last_value IS NOT NULL")"
q "SET standard_conforming_strings = on" >/dev/null
check_eq "with standard_conforming_strings on, the same result" "fail 1" \
    "$(psql -X -qAt -d "$db" -c "SET standard_conforming_strings = on" -c "SELECT status || ' ' || violations FROM migrate_validate() WHERE check_name LIKE 'pending_enum%'")"
check_eq "... and still nothing ran" 0 "$(q "SELECT count(*) FROM pg_sequences WHERE sequencename = 'ran' AND last_value IS NOT NULL")"
finish_checks
