#!/usr/bin/env bash
# pgmig testdata cleanup deletes a batch's rows as the role that recorded it would: with its
# privileges, its row-level security, and the table's triggers running as that role. A role
# with the documented testdata grants and DELETE on a table whose policies show it only its
# own rows records a batch naming the keys of rows it cannot see: an administrator's cleanup
# deletes only the row the role could. A role that cannot act as the recorder is refused. A
# trigger of the recorder's table never runs as the administrator (found by review).
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

out=$("$pgmig" --db "dbname=$db" testdata cleanup --all 2>&1)
check_eq "the administrator's cleanup runs, as the recording role" 0 "$?"
check_eq "... so only the row that role's policies show it is deleted" "1,2" \
    "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.notes")"
check_eq "... and the batch is gone" 0 "$(q "SELECT count(*) FROM pg_migrate.testdata_batch")"

# A role that is not the recorder, and cannot act as it, may not clean up its batch.
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
out=$("$pgmig" --db "dbname=$db user=$role" testdata cleanup --all 2>&1)
check_eq "the role's own cleanup runs" 0 "$?"
check_eq "... and deletes nothing it cannot see" "1,2" "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.notes")"

# The recorder's own table with a trigger that acts when it runs as a superuser.
q "CREATE SCHEMA td AUTHORIZATION $role" >/dev/null
PGUSER=$role psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE SEQUENCE td.ran_as_superuser;
CREATE TABLE td.mine (id integer PRIMARY KEY, v text);
CREATE FUNCTION td.on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        PERFORM nextval('td.ran_as_superuser');
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER on_delete BEFORE DELETE ON td.mine FOR EACH ROW EXECUTE FUNCTION td.on_delete();
SQL
"$pgmig" --db "dbname=$db user=$role" testdata generate --table td.mine --rows 3 >/dev/null 2>&1
check_eq "the role generated rows in its own table" 3 "$(q "SELECT count(*) FROM td.mine")"
"$pgmig" --db "dbname=$db" testdata cleanup --all >/dev/null 2>&1
check_eq "the administrator's cleanup deletes them" 0 "$(q "SELECT count(*) FROM td.mine")"
check_eq "... but the role's trigger never ran as a superuser" 0 \
    "$(q "SELECT count(*) FROM pg_sequences WHERE sequencename = 'ran_as_superuser' AND last_value IS NOT NULL")"

# A table without row-level security: the administrator may clean up the role's batch.
q "CREATE TABLE public.plain (id integer PRIMARY KEY); INSERT INTO public.plain VALUES (1), (2);
   GRANT SELECT, INSERT, DELETE ON public.plain TO $role" >/dev/null
PGUSER=$role psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
INSERT INTO pg_migrate.testdata_batch (table_oid, table_name, key_columns, rows)
VALUES ('public.plain'::regclass, 'public.plain', ARRAY['id']::name[], 1);
INSERT INTO pg_migrate.testdata_row (batch_id, key)
SELECT currval('pg_migrate.testdata_batch_id_seq'), '{"id": 2}';
SQL
check_eq "on a table without policies the administrator's cleanup runs" 0 \
    "$("$pgmig" --db "dbname=$db" testdata cleanup --all >/dev/null 2>&1; echo $?)"
check_eq "... deleting the batch's row" "1" "$(q "SELECT string_agg(id::text, ',') FROM public.plain")"
finish_checks
