-- The schema fingerprint recorded after migrations, and drift: what changed out of band.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
-- Nothing recorded yet: no drift can be computed, none is reported.
CREATE TABLE before_any_migration (i int);
SELECT count(*) AS drift_rows FROM migrate_drift();

SELECT migrate_register('1', 'init', $$
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, mood mood DEFAULT 'ok');
CREATE INDEX users_email_idx ON users (email);
CREATE VIEW active_users AS SELECT id, email FROM users;
CREATE FUNCTION user_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM users';
$$, 'DROP VIEW active_users; DROP FUNCTION user_count(); DROP TABLE users; DROP TYPE mood;');
SELECT version, status FROM migrate_execute();
SELECT last_version, fingerprint ? 'table public.users' AS has_users, hash = md5(fingerprint::text) AS hash_ok
  FROM pg_migrate.schema_fingerprint;
SELECT key, value FROM jsonb_each_text((SELECT fingerprint FROM pg_migrate.schema_fingerprint))
 WHERE key LIKE '%users%' OR key LIKE 'type%' ORDER BY key;
-- pg_migrate's own objects are not part of it.
SELECT count(*) AS own_objects FROM jsonb_object_keys(migrate_schema_fingerprint()) k
 WHERE k LIKE '%pg_migrate%' OR k LIKE '%migrate_%' OR k LIKE '%snapshot_%';
SELECT count(*) AS drift_rows FROM migrate_drift();

-- Changes made outside migrations.
ALTER TABLE users ADD COLUMN nickname text;
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
DROP INDEX users_email_idx;
CREATE OR REPLACE FUNCTION user_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) + 0 FROM users';
ALTER TYPE mood ADD VALUE 'happy';
CREATE TABLE manual (i int);
SELECT change, object, recorded, live FROM migrate_drift() WHERE object NOT LIKE 'function%';
SELECT change, object FROM migrate_drift() WHERE object LIKE 'function%';

-- A new migration records a new fingerprint: what it changed is no longer drift.
SELECT migrate_register('2', 'adopt_manual_changes', 'CREATE INDEX users_email_idx ON users (email);',
                        'DROP INDEX users_email_idx;');
SELECT version, status FROM migrate_execute();
SELECT count(*) AS fingerprints, max(last_version) AS last_version FROM pg_migrate.schema_fingerprint;
SELECT count(*) AS drift_rows FROM migrate_drift();
-- A rollback records one too.
SELECT version, status FROM migrate_rollback();
SELECT count(*) AS fingerprints FROM pg_migrate.schema_fingerprint;
SELECT count(*) AS drift_rows FROM migrate_drift();

DROP TABLE manual, before_any_migration;
SELECT version, status FROM migrate_rollback(target => '0');
DROP EXTENSION pg_migrate;
