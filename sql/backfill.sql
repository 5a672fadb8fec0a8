-- migrate_backfill(): keyset-paginated batches on the primary key, a commit after each,
-- progress in pg_migrate.backfill_progress, resumable.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE user_profiles (id bigint PRIMARY KEY, role text NOT NULL, new_role text, touched int NOT NULL DEFAULT 0);
INSERT INTO user_profiles (id, role)
SELECT g * 3, (ARRAY['admin', 'editor', 'viewer'])[1 + g % 3] FROM generate_series(1, 2500) g;
ANALYZE user_profiles;

-- The expand/backfill step of an expand/backfill/contract change.
CALL migrate_backfill('user_profiles',
    $$new_role = CASE role WHEN 'admin' THEN 'administrator' ELSE 'member' END, touched = touched + 1$$,
    'new_role IS NULL', batch_size => 1000);
SELECT new_role, count(*), min(touched), max(touched) FROM user_profiles GROUP BY new_role ORDER BY new_role;
SELECT table_name, status, rows_done, rows_estimated, percent, batches, retries, last_key,
       rows_per_second > 0 AS has_rate, max_batch_ms >= 0 AS has_max_batch, eta, error
  FROM migrate_backfill_progress();

-- Running it again finds nothing left to do (the WHERE excludes done rows) and records a new
-- completed run.
CALL migrate_backfill('user_profiles',
    $$new_role = CASE role WHEN 'admin' THEN 'administrator' ELSE 'member' END, touched = touched + 1$$,
    'new_role IS NULL', batch_size => 1000);
SELECT id, status, rows_done, batches FROM migrate_backfill_progress() ORDER BY id;
SELECT max(touched) AS each_row_once FROM user_profiles;

-- Resume: a run that stopped (here: one marked failed after 1500) continues after its last
-- key, so rows are updated exactly once even without a WHERE clause.
INSERT INTO pg_migrate.backfill_progress (table_oid, table_name, key_column, set_clause, where_clause,
    batch_size, sleep_ms, status, rows_done, batches, last_key, pid)
VALUES ('user_profiles'::regclass, 'user_profiles', 'id', 'touched = touched + 10', NULL, 500, 0, 'failed',
        500, 1, '1500', 0);
UPDATE user_profiles SET touched = touched + 10 WHERE id <= 1500;
CALL migrate_backfill('user_profiles', 'touched = touched + 10', batch_size => 500);
SELECT touched, count(*) FROM user_profiles GROUP BY touched ORDER BY touched;
SELECT status, rows_done, last_key FROM migrate_backfill_progress() WHERE table_name = 'user_profiles' ORDER BY id DESC LIMIT 1;

-- A failing batch: the batches before it stay committed, the run is marked failed, and the
-- error says how to resume.
CALL migrate_backfill('user_profiles', 'touched = touched + 1 + 0 * (1 / (id - 3000))', batch_size => 400);
SELECT status, rows_done, last_key, error FROM migrate_backfill_progress() ORDER BY id DESC LIMIT 1;
SELECT count(*) FILTER (WHERE touched = 12) AS committed_before_failure FROM user_profiles;

-- Bad input, and clauses that try to escape their place.
CALL migrate_backfill(NULL, 'x = 1');
CALL migrate_backfill('user_profiles', NULL);
CALL migrate_backfill('no_such_table', 'x = 1');
CALL migrate_backfill('user_profiles', 'role = role', batch_size => 0);
CALL migrate_backfill('user_profiles', 'role = role', sleep_ms => -1);
CALL migrate_backfill('user_profiles', 'no_such_column = 1');
CALL migrate_backfill('user_profiles', 'role = role WHERE false; DROP TABLE user_profiles; --');
CALL migrate_backfill('user_profiles', 'role = role', 'true) OR (true');
CALL migrate_backfill('user_profiles', 'role = role', 'true FROM user_profiles');
CALL migrate_backfill('user_profiles', 'role = role', 'id > 0; DROP TABLE user_profiles');
SELECT to_regclass('user_profiles') IS NOT NULL AS table_intact;
CREATE TABLE no_pk (i int);
CALL migrate_backfill('no_pk', 'i = 1');
CREATE TABLE two_col_pk (a int, b int, v int, PRIMARY KEY (a, b));
CALL migrate_backfill('two_col_pk', 'v = 1');
CREATE VIEW a_view AS SELECT 1 AS x;
CALL migrate_backfill('a_view', 'x = 1');
BEGIN;
CALL migrate_backfill('user_profiles', 'role = role');
ROLLBACK;

DROP VIEW a_view;
DROP TABLE user_profiles, no_pk, two_col_pk;
DROP EXTENSION pg_migrate;
