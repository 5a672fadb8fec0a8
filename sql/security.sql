-- Nothing is executable by PUBLIC; a migration role gets exactly what it needs; registered
-- SQL runs as the caller.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_migrate'
 ORDER BY 1;
SELECT c.relname, has_table_privilege('public', c.oid, 'SELECT') AS public_can_read
  FROM pg_class c WHERE c.relnamespace = 'pg_migrate'::regnamespace AND c.relkind = 'r' ORDER BY 1;

CREATE ROLE pgm_nobody;
SET ROLE pgm_nobody;
SELECT migrate_status();
SELECT migrate_execute();
RESET ROLE;

-- The documented grants for a migration role (docs/security.md).
CREATE ROLE pgm_deployer;
GRANT USAGE ON SCHEMA pg_migrate TO pgm_deployer;
GRANT SELECT, INSERT, UPDATE ON pg_migrate.migration TO pgm_deployer;
GRANT SELECT, INSERT ON pg_migrate.execution_log, pg_migrate.rollback_log TO pgm_deployer;
GRANT USAGE ON SEQUENCE pg_migrate.run_id_seq, pg_migrate.execution_log_id_seq,
    pg_migrate.rollback_log_id_seq TO pgm_deployer;
GRANT EXECUTE ON FUNCTION migrate_register(text, text, text, text, text, jsonb),
    migrate_execute(text, boolean, boolean), migrate_rollback(text, boolean), migrate_status(),
    migrate_checksum(text), migrate_statements(text) TO pgm_deployer;
GRANT CREATE ON SCHEMA public TO pgm_deployer;

SET ROLE pgm_deployer;
SELECT migrate_register('1', 'as_deployer', 'CREATE TABLE deployed (who name DEFAULT current_user); INSERT INTO deployed DEFAULT VALUES;');
-- Registered SQL runs with the caller's rights, never more: dropping pg_migrate's own
-- registry needs its owner.
SELECT migrate_register('2', 'needs_superuser', 'CREATE EXTENSION IF NOT EXISTS plpgsql; DROP TABLE pg_migrate.migration;');
SELECT version, status, message FROM migrate_execute();
SELECT who FROM deployed;
SELECT version, session_user_name, current_user_name, status FROM pg_migrate.execution_log ORDER BY id;
-- The deploy role writes history but cannot rewrite it.
UPDATE pg_migrate.execution_log SET status = 'succeeded' WHERE version = '2';
DELETE FROM pg_migrate.rollback_log;
RESET ROLE;
-- Without the drift grants no schema fingerprint was recorded (the migration still ran).
SELECT count(*) AS fingerprints FROM pg_migrate.schema_fingerprint;

-- A read-only role: status and logs, nothing else.
CREATE ROLE pgm_reader;
GRANT USAGE ON SCHEMA pg_migrate TO pgm_reader;
GRANT SELECT ON pg_migrate.migration, pg_migrate.execution_log, pg_migrate.rollback_log TO pgm_reader;
GRANT EXECUTE ON FUNCTION migrate_status(), migrate_checksum(text) TO pgm_reader;
SET ROLE pgm_reader;
SELECT version, state FROM migrate_status();
SELECT count(*) AS readable_log_rows FROM pg_migrate.execution_log;
SELECT migrate_execute();
SELECT migrate_register('3', 'x', 'SELECT 1');
RESET ROLE;
SELECT count(*) AS registry_intact FROM pg_migrate.migration;

DROP TABLE deployed;
DROP EXTENSION pg_migrate;
REVOKE ALL ON SCHEMA public FROM pgm_deployer;
DROP OWNED BY pgm_deployer;
DROP OWNED BY pgm_reader;
DROP ROLE pgm_deployer, pgm_nobody, pgm_reader;
