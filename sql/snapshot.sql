-- Table snapshots: create (copy + checksum in one pass), list, verify, restore, drop, prune.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE user_profiles (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    role text NOT NULL,
    bio text,
    email_domain text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED
);
-- Long, compressible and external (TOASTed) values, NULLs and a dropped column.
ALTER TABLE user_profiles ADD COLUMN to_drop int;
INSERT INTO user_profiles (email, role, bio)
SELECT 'user' || g || '@example.com', (ARRAY['admin', 'editor', 'viewer'])[1 + g % 3],
       CASE WHEN g % 10 = 0 THEN NULL WHEN g % 7 = 0 THEN repeat(md5(g::text), 400) ELSE 'bio ' || g END
  FROM generate_series(1, 1000) g;
ALTER TABLE user_profiles DROP COLUMN to_drop;
CREATE TABLE audit (op text, n bigint);
CREATE FUNCTION audit_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO audit VALUES (TG_OP, 1); RETURN NULL; END $$;
CREATE TRIGGER user_profiles_audit AFTER INSERT OR DELETE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION audit_changes();

SELECT snapshot_create('user_profiles', 'before role migration') AS first_snapshot \gset
SELECT id = :first_snapshot AS is_first, source, label, row_count, size_bytes > 0 AS has_size,
       checksum ~ '^1000:[0-9a-f]{16}:[0-9a-f]{16}:[0-9a-f]{16}$' AS checksum_format,
       created_by = session_user AS who, migration_version, snapshot_table
  FROM snapshot_list();
SELECT count(*) AS copied, count(bio) AS bios, sum(length(bio)) AS bio_chars
  FROM pg_migrate_snapshots.s1_user_profiles;
SELECT snapshot_id, ok, expected_rows, actual_rows, message FROM snapshot_verify(:first_snapshot);

-- The same rows give the same checksum, whatever their storage: a second snapshot after a
-- VACUUM FULL (which rewrites and may reorder the table) matches the first.
VACUUM FULL user_profiles;
SELECT snapshot_create('user_profiles') AS after_vacuum \gset
SELECT a.checksum = b.checksum AS same_rows_same_checksum
  FROM pg_migrate.snapshot a, pg_migrate.snapshot b WHERE a.id = :first_snapshot AND b.id = :after_vacuum;

-- Change the table, then restore: every row back exactly, triggers not fired, identity and
-- generated columns handled.
UPDATE user_profiles SET role = 'member' WHERE role = 'viewer';
DELETE FROM user_profiles WHERE id % 5 = 0;
INSERT INTO user_profiles (email, role) VALUES ('new@example.org', 'guest');
TRUNCATE audit;
SELECT snapshot_restore(:first_snapshot) AS restored_rows;
SELECT count(*) AS audit_rows_written_by_restore FROM audit;
SELECT role, count(*) FROM user_profiles GROUP BY role ORDER BY role;
SELECT count(*) FILTER (WHERE email_domain = 'example.com') AS generated_recomputed,
       count(*) FILTER (WHERE email = 'new@example.org') AS new_row_gone
  FROM user_profiles;
SELECT tgenabled FROM pg_trigger WHERE tgname = 'user_profiles_audit';
SELECT restored_at IS NOT NULL AS marked_restored FROM pg_migrate.snapshot WHERE id = :first_snapshot;

-- Tampering with a snapshot is detected, and such a snapshot is never restored.
UPDATE pg_migrate_snapshots.s1_user_profiles SET role = 'tampered' WHERE id = 3;
SELECT ok, message FROM snapshot_verify(:first_snapshot);
SELECT snapshot_restore(:first_snapshot);
DELETE FROM pg_migrate_snapshots.s1_user_profiles WHERE id = 4;
SELECT ok, expected_rows, actual_rows, message FROM snapshot_verify(:first_snapshot);
SELECT verify_ok FROM snapshot_list() WHERE id = :first_snapshot;

-- A changed column set is refused, naming the difference.
SELECT snapshot_create('user_profiles', 'before add column') AS second \gset
ALTER TABLE user_profiles ADD COLUMN seniority_level int, ALTER COLUMN role TYPE varchar(20);
SELECT snapshot_restore(:second);
ALTER TABLE user_profiles DROP COLUMN seniority_level, ALTER COLUMN role TYPE text;
SELECT snapshot_restore(:second) AS restored_after_shape_fixed;

-- Foreign keys: NO ACTION references are checked after the restore; cascading ones refuse it.
CREATE TABLE orders (id int PRIMARY KEY, user_id bigint REFERENCES user_profiles (id));
INSERT INTO orders VALUES (1, 1), (2, 2);
SELECT snapshot_restore(:second) AS restored_with_no_action_fk;
-- A snapshot without a key that orders references now: the restore fails, nothing changes.
DELETE FROM orders;
DELETE FROM user_profiles WHERE id = 1;
SELECT snapshot_create('user_profiles') AS third \gset
INSERT INTO user_profiles (id, email, role) OVERRIDING SYSTEM VALUE VALUES (1, 'back@example.com', 'admin');
INSERT INTO orders VALUES (1, 1);
SELECT snapshot_restore(:third);
SELECT email FROM user_profiles WHERE id = 1;
DROP TABLE orders;
CREATE TABLE orders (id int PRIMARY KEY, user_id bigint REFERENCES user_profiles (id) ON DELETE CASCADE);
SELECT snapshot_restore(:third);
DROP TABLE orders;

-- Bad input.
SELECT snapshot_create(NULL);
SELECT snapshot_create('no_such_table');
SELECT snapshot_create('user_profiles_pkey');
SELECT snapshot_create('pg_migrate.migration');
SELECT snapshot_create('"user_profiles; DROP TABLE audit"');
SELECT snapshot_verify(12345);
SELECT snapshot_restore(NULL);
SELECT snapshot_drop(12345);
SELECT snapshot_prune();
SELECT snapshot_prune(keep_last => -1);

-- Hostile names are quoted, never pasted.
CREATE TABLE "odd ""name""; DROP TABLE audit; --" (id int, "we""ird" text);
INSERT INTO "odd ""name""; DROP TABLE audit; --" VALUES (1, 'x');
SELECT snapshot_create('"odd ""name""; DROP TABLE audit; --"') AS odd \gset
DELETE FROM "odd ""name""; DROP TABLE audit; --";
SELECT snapshot_restore(:odd) AS odd_restored;
SELECT to_regclass('audit') IS NOT NULL AS audit_still_there;
SELECT snapshot_drop(:odd);
DROP TABLE "odd ""name""; DROP TABLE audit; --";

-- A snapshot taken inside a migration records it.
SELECT migrate_register('20260101000000', 'with_snapshot', $$SELECT snapshot_create('user_profiles', 'inside'); UPDATE user_profiles SET role = upper(role);$$);
SELECT version, status FROM migrate_execute();
SELECT label, migration_version FROM snapshot_list() WHERE label = 'inside';

-- Declared snapshots: the "snapshot" option or the -- pgmig:snapshot directive makes
-- migrate_execute() snapshot the tables before the migration runs (outside its
-- subtransaction, so the snapshot outlives a failure), and records the ids in the log.
SELECT migrate_register('20260101000001', 'relabel', E'-- pgmig:snapshot user_profiles\nUPDATE user_profiles SET role = lower(role) || ''!'';');
SELECT migrate_register('20260101000002', 'fails', 'UPDATE user_profiles SET role = NULL;', NULL, NULL,
                        '{"snapshot": ["user_profiles"]}');
SELECT version, options FROM pg_migrate.migration WHERE version > '20260101000000' ORDER BY version;
SELECT version, status, message FROM migrate_execute();
SELECT l.version, l.status, l.phase, s.label, s.migration_version
  FROM pg_migrate.execution_log l JOIN pg_migrate.snapshot s ON s.id = ANY (l.snapshot_ids)
 WHERE l.version > '20260101000000' ORDER BY l.id;
-- A migration without a down script is rolled back by restoring its declared snapshots.
SELECT role, count(*) FROM user_profiles GROUP BY role ORDER BY role;
SELECT version, status, message FROM migrate_rollback(dry_run => true);
SELECT version, status, message FROM migrate_rollback();
SELECT role, count(*) FROM user_profiles GROUP BY role ORDER BY role;
SELECT version, operation, status, phase, message FROM pg_migrate.execution_log
 WHERE version = '20260101000001' ORDER BY id;
-- A declared table that does not exist fails the migration before any of its SQL runs.
SELECT migrate_register('20260101000002', 'fails', 'UPDATE user_profiles SET role = NULL;', NULL, NULL,
                        '{"snapshot": ["no_such_table"]}');
SELECT version, status, message FROM migrate_execute();
SELECT migrate_register('20260101000003', 'bad_option', 'SELECT 1', NULL, NULL, '{"snapshot": 5}');
SELECT migrate_register('20260101000003', 'bad_option', 'SELECT 1', NULL, NULL, '{"snapshot": ["a b c"]}');
DELETE FROM pg_migrate.migration WHERE version = '20260101000002';

-- Prune: keep the newest per table, or drop by age.
SELECT count(*) AS before_prune FROM snapshot_list();
SELECT snapshot_prune(keep_last => 1) AS pruned;
SELECT source, label FROM snapshot_list();
SELECT snapshot_prune(older_than => '1 hour') AS none_that_old;
SELECT snapshot_prune(keep_last => 0, rel => 'user_profiles') AS pruned_all;
SELECT count(*) AS tables_left FROM pg_tables WHERE schemaname = 'pg_migrate_snapshots';

-- A non-superuser with the documented grants (docs/snapshots.md) snapshots and restores
-- its own table; without them it is refused.
CREATE ROLE pgm_snapper;
CREATE TABLE owned_by_snapper (id int PRIMARY KEY, v text);
ALTER TABLE owned_by_snapper OWNER TO pgm_snapper;
INSERT INTO owned_by_snapper VALUES (1, 'a'), (2, 'b');
SET ROLE pgm_snapper;
SELECT snapshot_create('owned_by_snapper');
RESET ROLE;
GRANT USAGE, CREATE ON SCHEMA pg_migrate_snapshots TO pgm_snapper;
GRANT USAGE ON SCHEMA pg_migrate TO pgm_snapper;
GRANT SELECT, INSERT, UPDATE, DELETE ON pg_migrate.snapshot TO pgm_snapper;
GRANT USAGE ON SEQUENCE pg_migrate.snapshot_id_seq TO pgm_snapper;
GRANT EXECUTE ON FUNCTION snapshot_create(regclass, text), snapshot_list(), snapshot_verify(bigint),
    snapshot_restore(bigint), snapshot_drop(bigint), snapshot_prune(integer, interval, regclass)
    TO pgm_snapper;
SET ROLE pgm_snapper;
SELECT snapshot_create('owned_by_snapper') AS snapper_snapshot \gset
UPDATE owned_by_snapper SET v = 'changed';
SELECT snapshot_restore(:snapper_snapshot) AS restored_by_snapper;
SELECT v FROM owned_by_snapper ORDER BY id;
SELECT ok FROM snapshot_verify(:snapper_snapshot);
SELECT snapshot_drop(:snapper_snapshot);
RESET ROLE;
DROP TABLE owned_by_snapper;
DROP OWNED BY pgm_snapper;
DROP ROLE pgm_snapper;

DROP TABLE user_profiles, audit;
DROP FUNCTION audit_changes();
DROP EXTENSION pg_migrate;
SELECT count(*) AS snapshot_schema_gone FROM pg_namespace WHERE nspname LIKE 'pg_migrate%';
