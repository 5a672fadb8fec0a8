-- Scripts real histories contain: empty or comment-only up and down scripts (no-ops), and
-- down or verify scripts written for another PostgreSQL that do not parse on this one.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE odd_t (i int);

-- Empty and comment-only scripts are registered and applied as no-ops, with a note.
SELECT migrate_register('1', 'empty', '', '');
SELECT migrate_register('2', 'only_comments', E'-- nothing here\n/* nor here */\n', E'-- nothing to undo\n');
SELECT migrate_register('3', 'empty_down', 'INSERT INTO odd_t VALUES (3)', '  ');
SELECT version, statement_count, down_sql IS NOT NULL AS has_down FROM pg_migrate.migration ORDER BY version_order;
SELECT version, status, message FROM migrate_execute();
SELECT version, state FROM migrate_status();
-- An empty down reverts as a no-op (the row stays: nothing was undone).
SELECT version, status, message FROM migrate_rollback('0');
SELECT count(*) AS rows_left FROM odd_t;
SELECT version, state FROM migrate_status();

-- A down script this server cannot parse (a newer PostgreSQL's syntax): registered, the
-- up applies, the reason is recorded, and a rollback refuses before anything changes.
SELECT migrate_register('4', 'newer_down', 'INSERT INTO odd_t VALUES (4)',
                        'ALTER TABLE odd_t ALTER COLUMN i SET FUTURE SYNTAX;');
SELECT down_problem FROM pg_migrate.migration WHERE version = '4';
SELECT version, status FROM migrate_execute();
SELECT version, status, message FROM migrate_rollback(dry_run => true);
SELECT version, status FROM migrate_rollback();
SELECT version, state FROM migrate_status() WHERE version = '4';
SELECT count(*) AS rows_kept FROM odd_t WHERE i = 4;
-- Registering a down script that parses clears the problem.
SELECT migrate_register('4', 'newer_down', 'INSERT INTO odd_t VALUES (4)', 'DELETE FROM odd_t WHERE i = 4;');
SELECT down_problem IS NULL AS cleared FROM pg_migrate.migration WHERE version = '4';
SELECT version, status FROM migrate_rollback();

-- A verify script this server cannot parse: registered; the migration fails when it would
-- run, nothing of it applied, and the migrations before it are applied.
SELECT migrate_register('5', 'before_bad_verify', 'INSERT INTO odd_t VALUES (5)');
SELECT migrate_register('6', 'bad_verify', 'INSERT INTO odd_t VALUES (6)', NULL, 'SELECT FROM WHERE');
SELECT version, status, message FROM migrate_execute();
SELECT string_agg(i::text, ',' ORDER BY i) AS rows FROM odd_t;
SELECT version, phase, sqlstate FROM pg_migrate.execution_log WHERE version = '6' ORDER BY id;

-- A byte order mark is not part of the SQL: removed before parsing, checksum and storage.
SELECT migrate_register('8', 'bom', E'\uFEFFCREATE TABLE odd_bom (i int);', E'\uFEFFDROP TABLE odd_bom;');
SELECT left(up_sql, 6) AS up_starts, left(down_sql, 4) AS down_starts, checksum = migrate_checksum('CREATE TABLE odd_bom (i int);') AS same_checksum
  FROM pg_migrate.migration WHERE version = '8';

-- Transaction control is still refused at registration, in every script.
SELECT migrate_register('7', 'commits', 'SELECT 1', 'BEGIN; SELECT 1; COMMIT;');

DROP TABLE odd_t;
DROP EXTENSION pg_migrate;
