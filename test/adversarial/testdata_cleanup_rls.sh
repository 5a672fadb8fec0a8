#!/usr/bin/env bash
# pgmig testdata cleanup deletes a batch's rows only in a session of the role that recorded
# it: the table's triggers are code that role may have written, and in a superuser's session
# such code can SET ROLE back to the superuser (found by review: lowering the session with
# SET ROLE to the recorder, as 0.5.0's pgmig did, is no boundary). A role with the documented
# testdata grants records a batch naming the keys of rows its policies hide: an
# administrator's cleanup leaves the batch alone, the role's own deletes only its row.
# Needs a running cluster (PG* variables) and the built CLI.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_td_rls
role=pgm_td_rls_attacker
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" -c "DROP ROLE IF EXISTS pgm_td_rls_other" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup
createdb "$db" || exit 1
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL || exit 1
CREATE ROLE $role LOGIN;
CREATE EXTENSION pg_migrate;
SELECT count(*) FROM migrate_grant('$role', 'testdata');
CREATE TABLE public.notes (id integer PRIMARY KEY, owner_name name NOT NULL DEFAULT current_user, body text);
INSERT INTO public.notes VALUES (1, 'postgres', 'the admin''s'), (2, 'postgres', 'the admin''s too'),
                                (3, '$role', 'the attacker''s');
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON public.notes USING (owner_name = current_user);
GRANT SELECT, INSERT, DELETE ON public.notes TO $role;
SQL

check_eq "the role sees only its own row" 1 "$(PGUSER=$role q "SELECT count(*) FROM public.notes")"

# The batch, written through the grants the role has: keys of rows 1 and 2 (hidden from it) and 3.
PGUSER=$role psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
INSERT INTO pg_migrate.testdata_batch (table_oid, table_name, key_columns, rows)
VALUES ('public.notes'::regclass, 'public.notes', ARRAY['id']::name[], 3);
INSERT INTO pg_migrate.testdata_row (batch_id, key)
SELECT currval('pg_migrate.testdata_batch_id_seq'), k FROM (VALUES ('{"id": 1}'::jsonb), ('{"id": 2}'), ('{"id": 3}')) v(k);
SQL
check_eq "the role recorded a batch of three keys" 3 "$(q "SELECT count(*) FROM pg_migrate.testdata_row")"
batch=$(q "SELECT max(id) FROM pg_migrate.testdata_batch")

out=$("$pgmig" --db "dbname=$db" testdata cleanup --all 2>&1)
check_eq "the administrator's cleanup --all runs" 0 "$?"
check_contains "... and leaves the role's batch alone, saying whose it is" \
    "note: batch $batch was recorded by $role; only a session logged in as that role deletes its rows" "$out"
check_eq "... so no row is deleted" "1,2,3" "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.notes")"
check_eq "... and the batch is still there" 1 "$(q "SELECT count(*) FROM pg_migrate.testdata_batch")"
out=$("$pgmig" --db "dbname=$db" testdata cleanup --batch "$batch" 2>&1)
check_eq "naming the batch is refused (exit 2)" 2 "$?"
check_contains "... telling the administrator who may delete it" \
    "test data batch $batch was recorded by role $role; only a session logged in as $role deletes its rows" "$out"
out=$("$pgmig" --db "dbname=$db user=$role" testdata cleanup --all 2>&1)
check_eq "the role's own cleanup runs" 0 "$?"
check_eq "... deleting only the row its policies show it" "1,2" "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.notes")"
check_eq "... and the batch is gone" 0 "$(q "SELECT count(*) FROM pg_migrate.testdata_batch")"

# Another role with the testdata grants leaves the batch alone too.
q "CREATE ROLE pgm_td_rls_other LOGIN; SELECT count(*) FROM migrate_grant('pgm_td_rls_other', 'testdata');
   GRANT SELECT, DELETE ON public.notes TO pgm_td_rls_other" >/dev/null
PGUSER=$role psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
INSERT INTO pg_migrate.testdata_batch (table_oid, table_name, key_columns, rows)
VALUES ('public.notes'::regclass, 'public.notes', ARRAY['id']::name[], 1);
INSERT INTO pg_migrate.testdata_row (batch_id, key)
SELECT currval('pg_migrate.testdata_batch_id_seq'), '{"id": 1}';
SQL
"$pgmig" --db "dbname=$db user=pgm_td_rls_other" testdata cleanup --all >/dev/null 2>&1
check_eq "another role's cleanup leaves the batch alone" "1,2 1" \
    "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.notes") $(q "SELECT count(*) FROM pg_migrate.testdata_batch")"
q "DELETE FROM pg_migrate.testdata_batch" >/dev/null

# The review's attack: the recorder's table has a trigger that, run in a superuser's session
# (even lowered with SET ROLE to the recorder), sets the role back and makes itself superuser.
q "CREATE SCHEMA td AUTHORIZATION $role" >/dev/null
PGUSER=$role psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE SEQUENCE td.ran_in_admin_session;
CREATE TABLE td.mine (id integer PRIMARY KEY, v text);
CREATE FUNCTION td.on_delete() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    IF session_user <> '$role' THEN
        PERFORM nextval('td.ran_in_admin_session');
        BEGIN
            SET LOCAL ROLE postgres;
            ALTER ROLE $role SUPERUSER;
        EXCEPTION WHEN OTHERS THEN NULL;
        END;
    END IF;
    RETURN OLD;
END \$\$;
CREATE TRIGGER on_delete BEFORE DELETE ON td.mine FOR EACH ROW EXECUTE FUNCTION td.on_delete();
SQL
"$pgmig" --db "dbname=$db user=$role" testdata generate --table td.mine --rows 3 >/dev/null 2>&1
check_eq "the role generated rows in its own table" 3 "$(q "SELECT count(*) FROM td.mine")"
"$pgmig" --db "dbname=$db" testdata cleanup --all >/dev/null 2>&1
check_eq "the administrator's cleanup leaves them" 3 "$(q "SELECT count(*) FROM td.mine")"
check_eq "... the role's trigger never ran in the administrator's session" 0 \
    "$(q "SELECT count(*) FROM pg_sequences WHERE sequencename = 'ran_in_admin_session' AND last_value IS NOT NULL")"
check_eq "... and the role is not a superuser" f "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = '$role'")"
PGOPTIONS="-c role=$role" "$pgmig" --db "dbname=$db" testdata cleanup --all >/dev/null 2>&1
check_eq "a superuser session set to the recorder's role (PGOPTIONS role=) leaves them too" 3 "$(q "SELECT count(*) FROM td.mine")"
check_eq "... and the role is still not a superuser" f "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = '$role'")"
"$pgmig" --db "dbname=$db user=$role" testdata cleanup --all >/dev/null 2>&1
check_eq "the role's own session deletes them" 0 "$(q "SELECT count(*) FROM td.mine")"
check_eq "... and is still not a superuser" f "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = '$role'")"

# The administrator's own batch is the administrator's to delete.
q "CREATE TABLE public.plain (id integer PRIMARY KEY, v text)" >/dev/null
"$pgmig" --db "dbname=$db" testdata generate --table public.plain --rows 2 >/dev/null 2>&1
check_eq "the administrator generated two rows" 2 "$(q "SELECT count(*) FROM public.plain")"
admin_batch=$(q "SELECT max(id) FROM pg_migrate.testdata_batch")
out=$("$pgmig" --db "dbname=$db user=$role" testdata cleanup --batch "$admin_batch" 2>&1)
check_eq "the role naming the administrator's batch is refused (exit 2)" 2 "$?"
check_contains "... naming who recorded it (row-level security does not hide it from the check)" \
    "test data batch $admin_batch was recorded by role postgres" "$out"
out=$("$pgmig" --db "dbname=$db user=$role" testdata cleanup --all 2>&1)
check_contains "the role's --all lists the administrator's batch as left alone" "left alone: recorded by postgres" "$out"
check_eq "and its rows are still there" 2 "$(q "SELECT count(*) FROM public.plain")"
check_eq "and its cleanup deletes them" "0 0" \
    "$("$pgmig" --db "dbname=$db" testdata cleanup --all >/dev/null 2>&1; q "SELECT count(*) FROM public.plain") $(q "SELECT count(*) FROM pg_migrate.testdata_batch")"
finish_checks
