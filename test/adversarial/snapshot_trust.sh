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
-- The attacker owns its snapshot table: it rewrites the rows and tries to fix the checksum.
UPDATE pg_migrate_snapshots.s2_secrets SET secret = 'attacker was here';
RESET ROLE;
SQL
forged=$(q -c "SELECT actual_checksum FROM snapshot_verify(2)")
check_eq "the attacker cannot fix the checksum in the snapshot's row" \
    "ERROR:  pg_migrate.snapshot rows are written only by the snapshot functions" \
    "$(err -c "SET ROLE pgm_snap_user; UPDATE pg_migrate.snapshot SET checksum = '$forged' WHERE id = 2")"
check_eq "nor point a snapshot at another table" \
    "ERROR:  pg_migrate.snapshot rows are written only by the snapshot functions" \
    "$(err -c "SET ROLE pgm_snap_user; UPDATE pg_migrate.snapshot SET source_oid = 'pg_migrate.migration'::regclass WHERE id = 1")"
check_eq "nor insert a snapshot row of its own" \
    "ERROR:  pg_migrate.snapshot rows are written only by the snapshot functions" \
    "$(err -c "SET ROLE pgm_snap_user; INSERT INTO pg_migrate.snapshot (source_schema, source_table, source_oid, snapshot_table, columns, row_count, checksum, size_bytes) SELECT source_schema, source_table, source_oid, 'evil', columns, row_count, checksum, 0 FROM pg_migrate.snapshot WHERE id = 1")"
check_eq "a superuser's edit is refused too (the trigger fires in every replication role)" \
    "ERROR:  pg_migrate.snapshot rows are written only by the snapshot functions" \
    "$(err -c "SET session_replication_role = replica; UPDATE pg_migrate.snapshot SET label = 'x' WHERE id = 1")"
check_eq "the rewritten snapshot fails verification" "f" "$(q -c "SELECT ok FROM snapshot_verify(2)")"
check_eq "a superuser's restore refuses rows from a role that cannot write the table" \
    "ERROR:  cannot restore snapshot 2: its table is owned by pgm_snap_user, who cannot write public.secrets" \
    "$(err -c "SELECT snapshot_restore(2)")"
check_eq "secrets are unchanged" "0" "$(q -c "SELECT count(*) FROM secrets WHERE secret = 'attacker was here'")"

echo "== rows forged before 0.5.0 (the guard trigger disabled by the table's owner)"
unguarded() { q -c "ALTER TABLE pg_migrate.snapshot DISABLE TRIGGER snapshot_row_guard; $1; ALTER TABLE pg_migrate.snapshot ENABLE ALWAYS TRIGGER snapshot_row_guard" >/dev/null; }
q -c "SET ROLE pgm_snap_user; CREATE TABLE pg_migrate_snapshots.evil (LIKE secrets); INSERT INTO pg_migrate_snapshots.evil VALUES (9, 'x', 'evil')" >/dev/null
unguarded "UPDATE pg_migrate.snapshot SET snapshot_table = 'evil' WHERE id = 1"
check_eq "pointing the superuser's snapshot at the attacker's table is caught" \
    "ERROR:  snapshot 1 is damaged: its catalog row names a table other than the one it created" \
    "$(err -c "SELECT snapshot_restore(1)")"
unguarded "UPDATE pg_migrate.snapshot SET snapshot_table = 's1_secrets', source_schema = 'pg_migrate', source_table = 'migration' WHERE id = 1"
check_eq "a restore never writes into pg_migrate's own tables" \
    "ERROR:  cannot restore snapshot 1 into pg_migrate.migration" "$(err -c "SELECT snapshot_restore(1)")"
unguarded "UPDATE pg_migrate.snapshot SET source_schema = 'public', source_table = 'secrets' WHERE id = 1"
q -c "ALTER TABLE secrets RENAME TO secrets_old; CREATE TABLE secrets (LIKE secrets_old)" >/dev/null
check_eq "a table dropped and created again under the same name is not the snapshot's" \
    "ERROR:  cannot restore snapshot 1: public.secrets is not the table it was taken of" \
    "$(err -c "SELECT snapshot_restore(1)")"
q -c "DROP TABLE secrets; ALTER TABLE secrets_old RENAME TO secrets" >/dev/null
check_eq "the untouched snapshot restores" "3" "$(q -c "SELECT snapshot_restore(1)")"

echo "== a snapshot table its owner altered"
# The attacker may write secrets (so its snapshots are trusted), but is not a superuser. Its
# code must never run as the superuser who restores.
q >/dev/null <<'SQL'
CREATE TABLE pwned (who name, how text);
GRANT INSERT ON pwned TO PUBLIC;
GRANT INSERT, DELETE ON secrets TO pgm_snap_user;
GRANT CREATE ON SCHEMA public TO pgm_snap_user;
SET ROLE pgm_snap_user;
CREATE TYPE evil_text AS ENUM ('mine', 'hers', 'his');
CREATE FUNCTION evil_cast(evil_text) RETURNS text LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO public.pwned VALUES (current_user, 'cast'); RETURN $1::text; END$$;
CREATE CAST (evil_text AS text) WITH FUNCTION evil_cast(evil_text) AS ASSIGNMENT;
CREATE FUNCTION evil_policy() RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO public.pwned VALUES (current_user, 'policy'); RETURN true; END$$;
SELECT snapshot_create('secrets', 'typed') AS typed \gset
SELECT snapshot_create('secrets', 'policy') AS policied \gset
SELECT snapshot_create('secrets', 'child') AS parented \gset
-- Same text in every row (so the same checksum), another type whose cast is the attacker's.
ALTER TABLE pg_migrate_snapshots.s4_secrets ALTER COLUMN secret TYPE evil_text USING secret::evil_text;
ALTER TABLE pg_migrate_snapshots.s5_secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON pg_migrate_snapshots.s5_secrets USING (evil_policy());
CREATE TABLE pg_migrate_snapshots.kid () INHERITS (pg_migrate_snapshots.s6_secrets);
RESET ROLE;
SQL
check_eq "the snapshot ids are the ones altered" "4,5,6" "$(q -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM pg_migrate.snapshot WHERE label IN ('typed', 'policy', 'child')")"
check_eq "another column type is refused before a row is read" \
    "ERROR:  snapshot 4 is damaged: the columns of its table (names or types) changed since it was taken" \
    "$(err -c "SELECT snapshot_restore(4)")"
check_eq "verifying it is refused the same way" \
    "ERROR:  snapshot 4 is damaged: the columns of its table (names or types) changed since it was taken" \
    "$(err -c "SELECT * FROM snapshot_verify(4)")"
check_eq "policies on the snapshot table are refused" \
    "ERROR:  snapshot 5 is damaged: its table was given row-level security or child tables since it was taken" \
    "$(err -c "SELECT snapshot_restore(5)")"
check_eq "child tables of the snapshot table are refused" \
    "ERROR:  snapshot 6 is damaged: its table was given row-level security or child tables since it was taken" \
    "$(err -c "SELECT snapshot_restore(6)")"
check_eq "none of the attacker's functions ran" "0" "$(q -c "SELECT count(*) FROM pwned")"
q -c "ALTER TABLE secrets ENABLE ROW LEVEL SECURITY; CREATE POLICY snap_user_rows ON secrets FOR ALL TO pgm_snap_user USING (owner_name = 'pgm_snap_user')" >/dev/null
sid=$(q -c "SELECT snapshot_create('secrets', 'owner-rls')")
q -c "ALTER TABLE pg_migrate_snapshots.s${sid}_secrets OWNER TO pgm_snap_user" >/dev/null
check_eq "a snapshot owner whose policies on the table hide rows is not trusted" \
    "ERROR:  cannot restore snapshot $sid: its table is owned by pgm_snap_user, who cannot write public.secrets" \
    "$(err -c "SELECT snapshot_restore($sid)")"
q -c "DROP POLICY snap_user_rows ON secrets; ALTER TABLE secrets DISABLE ROW LEVEL SECURITY; REVOKE INSERT, DELETE ON secrets FROM pgm_snap_user" >/dev/null

echo "== trigger modes survive a restore"
q >/dev/null <<'SQL'
CREATE TABLE audited (id int PRIMARY KEY, v text);
CREATE FUNCTION audited_noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER t_origin BEFORE INSERT ON audited FOR EACH ROW EXECUTE FUNCTION audited_noop();
CREATE TRIGGER t_always BEFORE INSERT ON audited FOR EACH ROW EXECUTE FUNCTION audited_noop();
CREATE TRIGGER t_replica BEFORE INSERT ON audited FOR EACH ROW EXECUTE FUNCTION audited_noop();
CREATE TRIGGER t_off BEFORE INSERT ON audited FOR EACH ROW EXECUTE FUNCTION audited_noop();
ALTER TABLE audited ENABLE ALWAYS TRIGGER t_always;
ALTER TABLE audited ENABLE REPLICA TRIGGER t_replica;
ALTER TABLE audited DISABLE TRIGGER t_off;
INSERT INTO audited VALUES (1, 'a');
SQL
aid=$(q -c "SELECT snapshot_create('audited')")
q -c "DELETE FROM audited" >/dev/null
check_eq "the table restores" "1" "$(q -c "SELECT snapshot_restore($aid)")"
check_eq "each trigger is back in its mode (ALWAYS, disabled, ORIGIN, REPLICA)" "t_always:A,t_off:D,t_origin:O,t_replica:R" \
    "$(q -c "SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'audited'::regclass")"

echo "== a snapshot owner without the table owner's rights cannot skip its triggers"
# pgm_snap_user may write audited but not alter it: a restore of its snapshot is its writes,
# and the audit trigger records them, as it would have recorded pgm_snap_user's own INSERTs.
q >/dev/null <<'SQL'
CREATE TABLE audit_log (op text, id int, by_role text);
CREATE FUNCTION audited_log() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO public.audit_log VALUES (TG_OP, NEW.id, current_user); RETURN NEW; END$$;
CREATE TRIGGER t_audit AFTER INSERT ON audited FOR EACH ROW EXECUTE FUNCTION audited_log();
GRANT SELECT, INSERT, DELETE ON audited TO pgm_snap_user;
GRANT INSERT ON audit_log TO pgm_snap_user;
SQL
uid=$(q -c "SET ROLE pgm_snap_user; SELECT snapshot_create('audited', 'user-owned')")
q -c "TRUNCATE audit_log" >/dev/null
check_eq "the table's owner may not restore it: the triggers would fire for that role's rows with the owner's rights" \
    "ERROR:  cannot restore snapshot $uid: its rows are pgm_snap_user's, and the triggers of public.audited (t_always, t_audit, t_origin) would fire for them with your rights" \
    "$(err -c "SELECT snapshot_restore($uid)")"
check_eq "nothing fired" "0" "$(q -c "SELECT count(*) FROM audit_log")"
out=$(psql -X -qtA -d "$db" -c "SET ROLE pgm_snap_user; SELECT snapshot_restore($uid)" 2>&1)
check_contains "its owner restores it, told the triggers fire" \
    "NOTICE:  snapshot $uid is restored with the triggers of public.audited firing (t_always, t_audit, t_origin)" "$out"
check_eq "the audit trigger recorded the restored row as that role's" "INSERT:1:pgm_snap_user" \
    "$(q -c "SELECT string_agg(op || ':' || id || ':' || by_role, ',') FROM audit_log")"
check_eq "the triggers are in their modes after it" "t_always:A,t_audit:O,t_off:D,t_origin:O,t_replica:R" \
    "$(q -c "SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'audited'::regclass")"
q -c "TRUNCATE audit_log" >/dev/null
oid=$(q -c "SELECT snapshot_create('audited', 'owner-owned')")
check_eq "a snapshot the table's owner took restores with the triggers off" "1" "$(q -c "SELECT snapshot_restore($oid)")"
check_eq "and the audit trigger did not fire" "0" "$(q -c "SELECT count(*) FROM audit_log")"
# Found by the second review: the table owner's snapshot, restored by a role that may write
# the table but not alter it, fired the owner's triggers with that role's rights.
q -c "GRANT SELECT ON pg_migrate_snapshots.$(q -c "SELECT snapshot_table FROM pg_migrate.snapshot WHERE id = $oid") TO pgm_snap_user" >/dev/null
check_eq "a role without the owner's rights may not restore the owner's snapshot of a table with triggers" \
    "ERROR:  cannot restore snapshot $oid: its rows are postgres's, and the triggers of public.audited (t_always, t_audit, t_origin) would fire for them with your rights" \
    "$(err -c "SET ROLE pgm_snap_user; SELECT snapshot_restore($oid)")"
check_eq "and nothing fired" "0" "$(q -c "SELECT count(*) FROM audit_log")"
q -c "REVOKE ALL ON audited, audit_log FROM pgm_snap_user" >/dev/null

echo "== snapshot table names squatted ahead of time"
next=$(q -c "SELECT last_value + 1 FROM pg_migrate.snapshot_id_seq")
q >/dev/null <<SQL
SET ROLE pgm_snap_user;
CREATE TABLE pg_migrate_snapshots.s${next}_ledger_squat (i int);
CREATE TABLE pg_migrate_snapshots.s${next}_audited (i int);
CREATE TYPE pg_migrate_snapshots.s$((next + 1))_audited AS (i int);
RESET ROLE;
SQL
sq1=$(q -c "SELECT snapshot_create('audited', 'squatted-table')")
check_eq "a table squatting on the next name does not stop a snapshot" "$next" "$sq1"
check_eq "which got a name of its own" "t" \
    "$(q -c "SELECT snapshot_table ~ '^s${next}_[0-9a-f]{8}_audited\$' FROM pg_migrate.snapshot WHERE id = $sq1")"
sq2=$(q -c "SELECT snapshot_create('audited', 'squatted-type')")
check_eq "nor does a type squatting on it" "t" \
    "$(q -c "SELECT snapshot_table ~ '^s$((next + 1))_[0-9a-f]{8}_audited\$' FROM pg_migrate.snapshot WHERE id = $sq2")"
check_eq "both verify" "true,true" "$(q -c "SELECT (SELECT ok FROM snapshot_verify($sq1))::text || ',' || (SELECT ok FROM snapshot_verify($sq2))::text")"
check_eq "the squatters' objects are untouched" "1,1" \
    "$(q -c "SELECT count(*) FILTER (WHERE relname = 's${next}_audited') || ',' || (SELECT count(*) FROM pg_type WHERE typname = 's$((next + 1))_audited') FROM pg_class WHERE relnamespace = 'pg_migrate_snapshots'::regnamespace")"
q -c "DROP TABLE pg_migrate_snapshots.s${next}_audited, pg_migrate_snapshots.s${next}_ledger_squat; DROP TYPE pg_migrate_snapshots.s$((next + 1))_audited" >/dev/null

echo "== a rollback's restores cannot be taken over by an overload"
q >/dev/null <<'SQL'
CREATE TABLE ledger (id int PRIMARY KEY, amount int);
INSERT INTO ledger VALUES (1, 10), (2, 20);
-- A better match for an integer literal than snapshot_restore(bigint), in the extension's schema.
CREATE FUNCTION public.snapshot_restore(id integer) RETURNS bigint LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO public.pwned VALUES (current_user, 'overload'); RETURN 0; END$$;
SELECT migrate_register('1', 'zero_ledger', E'-- pgmig:snapshot ledger\nUPDATE ledger SET amount = 0;');
SELECT count(*) FROM migrate_execute();
SQL
check_eq "the migration zeroed the ledger" "0" "$(q -c "SELECT sum(amount) FROM ledger")"
check_eq "the rollback restores the declared snapshot" "rolled_back" "$(q -c "SELECT status FROM migrate_rollback()")"
check_eq "the ledger is back" "30" "$(q -c "SELECT sum(amount) FROM ledger")"
check_eq "the overload never ran" "0" "$(q -c "SELECT count(*) FROM pwned WHERE how = 'overload'")"
q -c "DROP FUNCTION public.snapshot_restore(integer)" >/dev/null

echo "== a rollback whose declared snapshots are not all there any more"
# The migration has no down script: its rollback restores the snapshots its apply took. A
# role with the snapshot grants (DELETE on pg_migrate.snapshot) removes one of the two; the
# rollback must not restore the other and call the migration rolled back (found by review).
q >/dev/null <<'SQL'
SET client_min_messages = error;
CREATE TABLE two_a (id int PRIMARY KEY, v text); CREATE TABLE two_b (id int PRIMARY KEY, v text);
INSERT INTO two_a VALUES (1, 'orig'); INSERT INTO two_b VALUES (1, 'orig');
SELECT migrate_register('50', 'clobber two', E'-- pgmig:snapshot two_a, two_b\nUPDATE two_a SET v = ''clobbered''; UPDATE two_b SET v = ''clobbered'';');
SELECT count(*) FROM migrate_execute();
SQL
check_eq "the migration clobbered both tables" "clobbered clobbered" "$(q -c "SELECT (SELECT v FROM two_a) || ' ' || (SELECT v FROM two_b)")"
gone=$(q -c "SELECT id FROM pg_migrate.snapshot WHERE source_table = 'two_b' AND label = 'before migration 50'")
q -c "GRANT DELETE ON pg_migrate.snapshot TO pgm_snap_user; SET ROLE pgm_snap_user; DELETE FROM pg_migrate.snapshot WHERE id = $gone" >/dev/null
check_eq "its dry run refuses, naming the snapshot that is gone" \
    "refused|no down script, and snapshot(s) $gone its apply took, to restore instead, are gone" \
    "$(q -c "SELECT status, message FROM migrate_rollback(NULL, dry_run => true) WHERE version = '50'")"
check_contains "the rollback refuses" \
    "ERROR:  cannot roll back: no down script for 50 (clobber two) (the snapshot(s) $gone its apply took, to restore instead, are gone)" \
    "$(err -c "SELECT * FROM migrate_rollback(NULL)")"
check_eq "nothing was restored: both tables as the migration left them" "clobbered clobbered applied" \
    "$(q -c "SELECT (SELECT v FROM two_a) || ' ' || (SELECT v FROM two_b) || ' ' || (SELECT state FROM pg_migrate.migration WHERE version = '50')")"
q -c "SELECT migrate_forget('50', 'test cleanup')" >/dev/null 2>&1 || q -c "DELETE FROM pg_migrate.migration WHERE version = '50'" >/dev/null 2>&1

echo "== a rollback's restore never runs another role's CHECK code as the superuser"
# Found by the second review: a table owner's CHECK function ran, as the superuser restoring
# its table (migrate_rollback of a declared snapshot), and made the owner superuser.
q >/dev/null <<'SQL'
SET client_min_messages = error;
DROP ROLE IF EXISTS pgm_snap_owner; CREATE ROLE pgm_snap_owner LOGIN;
CREATE SCHEMA owned AUTHORIZATION pgm_snap_owner;
SET ROLE pgm_snap_owner;
CREATE TABLE owned.t (id int PRIMARY KEY, v text); INSERT INTO owned.t VALUES (1, 'a'), (2, 'b');
CREATE TABLE owned.ran (who name); GRANT INSERT ON owned.ran TO PUBLIC;
CREATE FUNCTION owned.chk(int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO owned.ran VALUES (current_user);
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE pgm_snap_owner SUPERUSER';
  END IF;
  RETURN true;
END $$;
RESET ROLE;
SELECT migrate_register('60', 'touch owned', E'-- pgmig:snapshot owned.t\nUPDATE owned.t SET v = upper(v);');
SELECT count(*) FROM migrate_execute();
SET ROLE pgm_snap_owner;
ALTER TABLE owned.t ADD CONSTRAINT c CHECK (owned.chk(id));
TRUNCATE owned.ran;
RESET ROLE;
SQL
check_contains "the rollback fails the migration's restore, saying why" \
    "failed|9.613" "$(q -c "SELECT status || '|9.613' FROM migrate_rollback(NULL)" 2>&1 | head -1)"
check_contains "... naming the code and its owner in the log" "constraint c (owned.chk(integer), of pgm_snap_owner)" \
    "$(q -c "SELECT message || ' ' || detail FROM pg_migrate.execution_log WHERE version = '60' AND operation = 'rollback' ORDER BY id DESC LIMIT 1")"
check_eq "the CHECK function never ran, the owner is not a superuser, nothing changed" "0 false A applied" \
    "$(q -c "SELECT (SELECT count(*) FROM owned.ran) || ' ' || (SELECT rolsuper FROM pg_roles WHERE rolname = 'pgm_snap_owner') || ' ' || (SELECT v FROM owned.t WHERE id = 1) || ' ' || (SELECT state FROM pg_migrate.migration WHERE version = '60')")"
sid60=$(q -c "SELECT id FROM pg_migrate.snapshot WHERE label = 'before migration 60'")
q -c "GRANT USAGE ON SCHEMA pg_migrate_snapshots, pg_migrate TO pgm_snap_owner; GRANT SELECT, INSERT, UPDATE ON pg_migrate.snapshot TO pgm_snap_owner; GRANT EXECUTE ON FUNCTION snapshot_restore(bigint) TO pgm_snap_owner; GRANT SELECT ON pg_migrate_snapshots.$(q -c "SELECT snapshot_table FROM pg_migrate.snapshot WHERE id = $sid60") TO pgm_snap_owner" >/dev/null
check_contains "a superuser session SET ROLE to the owner is refused too (the code could SET ROLE back)" \
    "code of another role would run with your rights" \
    "$(psql -X -qtA -d "$db" -c "SET ROLE pgm_snap_owner" -c "SELECT snapshot_restore($sid60)" 2>&1)"
check_eq "a session logged in as the owner may restore it (its code runs as itself)" "2" \
    "$(PGUSER=pgm_snap_owner psql -X -qtA -d "$db" -c "SELECT snapshot_restore($sid60)" 2>&1 | tail -1)"
check_eq "... and it ran as the owner, who is still not a superuser" "pgm_snap_owner false a" \
    "$(q -c "SELECT (SELECT string_agg(DISTINCT who::text, ',') FROM owned.ran) || ' ' || (SELECT rolsuper FROM pg_roles WHERE rolname = 'pgm_snap_owner') || ' ' || (SELECT v FROM owned.t WHERE id = 1)")"
q -c "DELETE FROM pg_migrate.migration WHERE version = '60'" >/dev/null 2>&1
q -c "SET client_min_messages = error; DROP SCHEMA owned CASCADE; REVOKE ALL ON SCHEMA pg_migrate_snapshots, pg_migrate FROM pgm_snap_owner; REVOKE ALL ON pg_migrate.snapshot FROM pgm_snap_owner; REVOKE ALL ON FUNCTION snapshot_restore(bigint) FROM pgm_snap_owner" >/dev/null 2>&1

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

dropdb "$db"
q() { psql -X -qtA -d postgres "$@"; }
q -c "DROP ROLE IF EXISTS pgm_snap_user" >/dev/null 2>&1
q -c "DROP ROLE IF EXISTS pgm_snap_owner" >/dev/null 2>&1
finish_checks
