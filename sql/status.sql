-- migrate_status(): every state, including an applied migration changed behind our back.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
SELECT migrate_register('1', 'one', 'CREATE TABLE s1 (i int);', 'DROP TABLE s1;');
SELECT migrate_register('2', 'two', 'CREATE TABLE s2 (i int);', 'DROP TABLE s2;');
SELECT migrate_register('3', 'three', 'SELECT 1/0;');
SELECT migrate_register('4', 'four', 'CREATE TABLE s4 (i int);');
SELECT version, status FROM migrate_execute();
SELECT version, status FROM migrate_rollback();
SELECT version, name, state, applied_at IS NOT NULL AS has_applied_at,
       duration_ms IS NOT NULL AS has_duration, applied_by, checksum = migrate_checksum(
           (SELECT up_sql FROM pg_migrate.migration m WHERE m.version = s.version)) AS checksum_ok
  FROM migrate_status() s;
-- Someone edits the registry table directly: status shows it.
UPDATE pg_migrate.migration SET up_sql = 'CREATE TABLE s1 (i bigint);' WHERE version = '1';
SELECT version, state FROM migrate_status() WHERE version = '1';
-- Registering the real script again repairs the registry; a different script is refused.
SELECT migrate_register('1', 'one', 'CREATE TABLE s1 (i bigint);', 'DROP TABLE s1;');
SELECT migrate_register('1', 'one', 'CREATE TABLE s1 (i int);', 'DROP TABLE s1;');
SELECT version, state FROM migrate_status() WHERE version = '1';
DROP TABLE s1;
DROP EXTENSION pg_migrate;
