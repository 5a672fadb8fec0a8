-- Repairs of the registry: forgetting a migration that never applied, accepting the edited
-- up script of an applied one; each logged with who and why.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
SELECT migrate_register('1', 'create_t', 'CREATE TABLE repair_t (i int);', 'DROP TABLE repair_t;');
SELECT migrate_register('2', 'breaks', 'INSERT INTO no_such_table VALUES (1);');
SELECT version, status FROM migrate_execute();
SELECT version, state FROM migrate_status();

-- A failed migration (its file since deleted) is forgotten; the log of its attempt stays.
SELECT migrate_forget('2', '');
SELECT migrate_forget('2', 'file removed after the failed deploy');
SELECT version, state FROM migrate_status();
SELECT count(*) AS attempts_kept FROM pg_migrate.execution_log WHERE version = '2';
SELECT migrate_forget('2', 'again');
SELECT migrate_forget('1', 'applied ones are kept');

-- An applied migration whose file gained a comment: accepted deliberately, nothing runs.
SELECT migrate_register('1', 'create_t', E'-- creates the table\nCREATE TABLE repair_t (i int);', 'DROP TABLE repair_t;');
SELECT migrate_accept_checksum('1', E'\uFEFF-- creates the table\nCREATE TABLE repair_t (i int);', 'comment added');
SELECT migrate_register('1', 'create_t', E'-- creates the table\nCREATE TABLE repair_t (i int);', 'DROP TABLE repair_t;');
SELECT version, state FROM migrate_status();
SELECT migrate_accept_checksum('1', E'-- creates the table\nCREATE TABLE repair_t (i int);', 'same again');
SELECT migrate_accept_checksum('1', 'CREATE TABLE (', 'does not parse');
SELECT migrate_register('3', 'pending', 'SELECT 1');
SELECT migrate_accept_checksum('3', 'SELECT 2', 'not applied');

SELECT operation, version, name, state, new_checksum IS NOT NULL AS has_new, reason,
       performed_by = current_user AS by_me
  FROM pg_migrate.repair_log ORDER BY id;
SELECT has_table_privilege('public', 'pg_migrate.repair_log', 'SELECT') AS public_can_read;

-- The repair purpose: the two functions, logged, and no write on the registry's tables
-- (with UPDATE on pg_migrate.migration a role could rewrite a down script an admin runs).
CREATE ROLE repair_fixer;
SELECT count(*) > 0 AS granted FROM migrate_grant('repair_fixer', 'repair');
SELECT has_table_privilege('repair_fixer', 'pg_migrate.migration', 'UPDATE') AS can_update,
       has_table_privilege('repair_fixer', 'pg_migrate.migration', 'DELETE') AS can_delete,
       has_table_privilege('repair_fixer', 'pg_migrate.repair_log', 'INSERT') AS can_forge_log;
SELECT migrate_register('4', 'to_forget', 'SELECT 4');
SET ROLE repair_fixer;
SELECT migrate_forget('4', 'registered by mistake');
UPDATE pg_migrate.migration SET down_sql = 'DROP TABLE repair_t' WHERE version = '1';
DELETE FROM pg_migrate.migration WHERE version = '1';
RESET ROLE;
SELECT operation, version, performed_by = session_user AS by_session_user
  FROM pg_migrate.repair_log WHERE version = '4';

DROP TABLE repair_t;
DROP EXTENSION pg_migrate;
DROP OWNED BY repair_fixer;
DROP ROLE repair_fixer;
