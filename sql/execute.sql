-- migrate_execute(): ordering, targets, failures in the middle of a script, atomic batches,
-- dry runs, and refusal of migrations that need to run outside a transaction.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;

SELECT migrate_register('3', 'add_email_index', 'CREATE INDEX ON users (email);', 'DROP INDEX users_email_idx;');
SELECT migrate_register('1', 'create_users', E'CREATE TABLE users (id int PRIMARY KEY, email text);\nINSERT INTO users VALUES (1, ''a@example.com''), (2, ''b@example.com'');', 'DROP TABLE users;');
SELECT migrate_register('2', 'add_role', 'ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT ''member'';', 'ALTER TABLE users DROP COLUMN role;');

-- A dry run changes nothing.
SELECT version, name, status, message FROM migrate_execute(dry_run => true);
SELECT to_regclass('users') IS NULL AS no_table_yet;
SELECT count(*) AS log_rows FROM pg_migrate.execution_log;

-- Versions are applied in numeric order, up to the target.
SELECT version, name, status, message FROM migrate_execute(target => '2');
SELECT version, state FROM migrate_status();
SELECT version, name, status FROM migrate_execute();
SELECT version, name, status FROM migrate_execute();  -- nothing left to do
SELECT migrate_execute(target => '99');
SELECT migrate_execute(target => 'latest');

-- A failing statement in the middle of a three-statement migration: the first statement's
-- change is rolled back, the rest is not attempted, and the logs say exactly what failed.
SELECT migrate_register('4', 'add_unique_email', E'ALTER TABLE users ADD COLUMN nickname text;\nINSERT INTO users (id, email) VALUES (1, ''dup@example.com'');\nCREATE UNIQUE INDEX ON users (email);');
SELECT migrate_register('5', 'after_the_failure', 'CREATE TABLE never_created (i int);');
SELECT version, name, status, message FROM migrate_execute();
SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position;
SELECT to_regclass('never_created') IS NULL AS later_migration_not_run;
SELECT version, status, phase, sqlstate, message, detail, failed_statement, statement_number,
       statement_position
  FROM pg_migrate.execution_log WHERE status = 'failed';
SELECT version, reason, sqlstate, execution_log_id = (SELECT id FROM pg_migrate.execution_log WHERE status = 'failed') AS linked
  FROM pg_migrate.rollback_log;
SELECT version, state, last_error FROM migrate_status() WHERE version IN ('4', '5');

-- An error with a position: a typo in a column name maps to the character in the script.
SELECT migrate_register('4', 'add_unique_email', E'ALTER TABLE users ADD COLUMN nickname text;\nUPDATE users SET nicknam = email;');
SELECT version, status, message FROM migrate_execute(target => '4');
SELECT statement_number, statement_position, error_position, message
  FROM pg_migrate.execution_log WHERE version = '4' ORDER BY id DESC LIMIT 1;

-- Fixed, it applies; failed migrations are retried on the next run.
SELECT migrate_register('4', 'add_unique_email', E'ALTER TABLE users ADD COLUMN nickname text;\nUPDATE users SET nickname = email;');
SELECT version, status FROM migrate_execute();

-- Atomic mode: all or none. Migration 7 fails, so 6 is undone too.
SELECT migrate_register('6', 'create_orders', 'CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users);');
SELECT migrate_register('7', 'broken', 'INSERT INTO orders VALUES (1, 42);');
SELECT version, status, message FROM migrate_execute(atomic => true);
SELECT to_regclass('orders') IS NULL AS orders_undone;
SELECT version, state FROM migrate_status() WHERE version IN ('6', '7');
SELECT version, status, atomic, message FROM pg_migrate.execution_log WHERE version IN ('6', '7') ORDER BY id;
SELECT version, reason FROM pg_migrate.rollback_log WHERE version IN ('6', '7') ORDER BY id;
-- Without atomic, 6 stays applied when 7 fails.
SELECT version, status FROM migrate_execute();
SELECT migrate_register('7', 'broken', 'INSERT INTO orders VALUES (1, 1);');
SELECT version, status FROM migrate_execute(atomic => true);

-- A migration that must run outside a transaction is refused before anything runs.
SELECT migrate_register('8', 'plain', 'CREATE TABLE plain (i int);');
SELECT migrate_register('9', 'concurrent', 'CREATE INDEX CONCURRENTLY ON users (nickname);');
SELECT version, status, message FROM migrate_execute(dry_run => true);
SELECT migrate_execute();
SELECT to_regclass('plain') IS NULL AS nothing_applied;
SELECT version, status FROM migrate_execute(target => '8');

-- REPEATABLE READ would let a concurrent caller see stale pending migrations: refused.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT migrate_execute();
ROLLBACK;

-- Log rows persist only when the caller commits.
SELECT migrate_register('9', 'concurrent', 'CREATE INDEX ON users (nickname);');
BEGIN;
SELECT migrate_register('10', 'in_a_transaction', 'CREATE TABLE t10 (i int);');
SELECT version, status FROM migrate_execute();
ROLLBACK;
SELECT count(*) AS rolled_back_with_caller FROM pg_migrate.execution_log WHERE version IN ('9', '10');
SELECT version, state FROM migrate_status() WHERE version IN ('9', '10');

DROP TABLE orders, plain, users, never_created;
DROP EXTENSION pg_migrate;
