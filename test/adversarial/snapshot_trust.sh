#!/usr/bin/env bash
# Snapshots never give a role rows its policies hide, never delete rows they did not copy
# (inheritance children, rows committed after a REPEATABLE READ snapshot), and a restore
# trusts only what it can prove: not an editable catalog row (issue 9).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_snapshot_trust
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
err() { psql -X -qtA -d "$db" "$@" 2>&1 | grep -E "^(psql:.*)?ERROR" | sed -E 's/^psql:[^E]*//' | head -1; }
q >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
SET client_min_messages = warning; DROP ROLE IF EXISTS pgm_snap_user; RESET client_min_messages;
CREATE ROLE pgm_snap_user NOLOGIN;
-- The documented snapshot grants (docs/snapshots.md#privileges).
GRANT USAGE, CREATE ON SCHEMA pg_migrate_snapshots TO pgm_snap_user;
GRANT USAGE ON SCHEMA pg_migrate TO pgm_snap_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON pg_migrate.snapshot TO pgm_snap_user;
GRANT USAGE ON SEQUENCE pg_migrate.snapshot_id_seq TO pgm_snap_user;
GRANT EXECUTE ON FUNCTION snapshot_create(regclass, text), snapshot_list(), snapshot_verify(bigint),
    snapshot_restore(bigint), snapshot_drop(bigint) TO pgm_snap_user;
CREATE TABLE secrets (id int PRIMARY KEY, owner_name text, secret text);
INSERT INTO secrets VALUES (1, 'pgm_snap_user', 'mine'), (2, 'alice', 'hers'), (3, 'bob', 'his');
GRANT SELECT ON secrets TO pgm_snap_user;
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON secrets FOR SELECT USING (owner_name = current_user);
SQL

echo "== row-level security"
check_eq "the role sees 1 of 3 rows through its policy" "1" "$(q -c "SET ROLE pgm_snap_user; SELECT count(*) FROM secrets")"
check_eq "snapshot_create refuses a table whose policies apply to the caller" \
    'ERROR:  cannot snapshot "public.secrets": row-level security applies to you on it' \
    "$(err -c "SET ROLE pgm_snap_user; SELECT snapshot_create('secrets')")"
check_eq "with row_security off (a query would fail) it refuses too" \
    'ERROR:  cannot snapshot "public.secrets": row-level security applies to you on it' \
    "$(err -c "SET ROLE pgm_snap_user; SET row_security = off; SELECT snapshot_create('secrets')")"
check_eq "no snapshot table was left behind" "0" "$(q -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'pg_migrate_snapshots'::regnamespace")"
check_eq "the owner (policies do not apply) can snapshot it" "1" "$(q -c "SELECT snapshot_create('secrets') > 0 AND true" | sed 's/t/1/')"

echo "== a snapshot row edited by a role with the documented grants"
q >/dev/null <<'SQL'
ALTER TABLE secrets DISABLE ROW LEVEL SECURITY;
SET ROLE pgm_snap_user;
SELECT snapshot_create('secrets', 'attacker');
-- The attacker owns its snapshot table: it rewrites the rows and then the checksum.
UPDATE pg_migrate_snapshots.s2_secrets SET secret = 'attacker was here';
SELECT actual_checksum AS forged FROM snapshot_verify(2) \gset
UPDATE pg_migrate.snapshot SET checksum = :'forged' WHERE id = 2;
RESET ROLE;
SQL
check_eq "the rewritten snapshot verifies (the attacker fixed the checksum)" "t" "$(q -c "SELECT ok FROM snapshot_verify(2)")"
check_eq "a superuser's restore refuses rows from a role that cannot write the table" \
    "ERROR:  cannot restore snapshot 2: its table is owned by pgm_snap_user, who cannot write public.secrets" \
    "$(err -c "SELECT snapshot_restore(2)")"
check_eq "secrets are unchanged" "0" "$(q -c "SELECT count(*) FROM secrets WHERE secret = 'attacker was here'")"
q -c "SET ROLE pgm_snap_user; CREATE TABLE pg_migrate_snapshots.evil (LIKE secrets); INSERT INTO pg_migrate_snapshots.evil VALUES (9, 'x', 'evil'); UPDATE pg_migrate.snapshot SET snapshot_table = 'evil' WHERE id = 1" >/dev/null
check_eq "pointing the superuser's snapshot at the attacker's table is caught" \
    "ERROR:  snapshot 1 is damaged: its catalog row names a table other than the one it created" \
    "$(err -c "SELECT snapshot_restore(1)")"
q -c "UPDATE pg_migrate.snapshot SET snapshot_table = 's1_secrets', source_schema = 'pg_migrate', source_table = 'migration' WHERE id = 1" >/dev/null
check_eq "a restore never writes into pg_migrate's own tables" \
    "ERROR:  cannot restore snapshot 1 into pg_migrate.migration" "$(err -c "SELECT snapshot_restore(1)")"
q -c "UPDATE pg_migrate.snapshot SET source_schema = 'public', source_table = 'secrets' WHERE id = 1" >/dev/null
q -c "ALTER TABLE secrets RENAME TO secrets_old; CREATE TABLE secrets (LIKE secrets_old)" >/dev/null
check_eq "a table dropped and created again under the same name is not the snapshot's" \
    "ERROR:  cannot restore snapshot 1: public.secrets is not the table it was taken of" \
    "$(err -c "SELECT snapshot_restore(1)")"
q -c "DROP TABLE secrets; ALTER TABLE secrets_old RENAME TO secrets" >/dev/null
check_eq "the untouched snapshot restores" "3" "$(q -c "SELECT snapshot_restore(1)")"

echo "== inheritance and partitions"
q >/dev/null <<'SQL'
CREATE TABLE parent (id int, v text);
CREATE TABLE child () INHERITS (parent);
INSERT INTO parent VALUES (1, 'p1'), (2, 'p2');
INSERT INTO child VALUES (10, 'c1'), (11, 'c2');
SQL
sid=$(q -c "SELECT snapshot_create('parent')")
q -c "UPDATE ONLY parent SET v = 'changed'; DELETE FROM ONLY parent WHERE id = 2" >/dev/null
check_eq "restoring an inheritance parent restores its own rows" "2" "$(q -c "SELECT snapshot_restore($sid)")"
check_eq "its rows are back" "p1,p2" "$(q -c "SELECT string_agg(v, ',' ORDER BY id) FROM ONLY parent")"
check_eq "and the children's rows are untouched" "c1,c2" "$(q -c "SELECT string_agg(v, ',' ORDER BY id) FROM child")"
q >/dev/null <<'SQL'
CREATE TABLE measurements (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE measurements_2027 PARTITION OF measurements FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO measurements VALUES (1, '2026-05-01'), (2, '2027-05-01');
SQL
check_eq "a partitioned table is refused before anything changes" \
    'ERROR:  cannot snapshot "public.measurements": it is not an ordinary table' "$(err -c "SELECT snapshot_create('measurements')")"
pid=$(q -c "SELECT snapshot_create('measurements_2026')")
q -c "DELETE FROM measurements" >/dev/null
check_eq "a partition restores exactly its own rows" "1" "$(q -c "SELECT snapshot_restore($pid)")"
check_eq "the other partition is not touched" "1|0" "$(q -c "SELECT (SELECT count(*) FROM measurements_2026) || '|' || (SELECT count(*) FROM measurements_2027)")"

echo "== isolation levels"
sid=$(q -c "SELECT snapshot_create('parent')")
check_eq "restore refuses REPEATABLE READ" \
    "ERROR:  snapshot_restore() must run at the READ COMMITTED isolation level" \
    "$(err -c "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT snapshot_restore($sid); COMMIT")"
check_eq "and SERIALIZABLE" \
    "ERROR:  snapshot_restore() must run at the READ COMMITTED isolation level" \
    "$(err -c "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT snapshot_restore($sid); COMMIT")"

q -c "DROP TABLE IF EXISTS pg_migrate_snapshots.s2_secrets, pg_migrate_snapshots.evil" >/dev/null 2>&1
dropdb "$db"
q() { psql -X -qtA -d postgres "$@"; }
q -c "DROP ROLE IF EXISTS pgm_snap_user" >/dev/null 2>&1
finish_checks
