-- The logs: who, when, how long, which version of the extension; kept by pg_dump.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
SELECT extconfig::regclass[] FROM pg_extension WHERE extname = 'pg_migrate';

SET application_name = 'deploy-42';
SELECT migrate_register('1', 'logged', 'CREATE TABLE logged_t (i int);', 'DROP TABLE logged_t;');
SELECT version, status FROM migrate_execute();
SELECT version, status FROM migrate_rollback();
SELECT version, operation, status, attempt, session_user_name = session_user AS who,
       application_name, backend_pid = pg_backend_pid() AS pid, extension_version,
       finished_at >= started_at AS ordered_times, duration_ms >= 0 AS has_duration,
       checksum = migrate_checksum('CREATE TABLE logged_t (i int);') AS checksum
  FROM pg_migrate.execution_log ORDER BY id;
SELECT version, reason, application_name, extension_version FROM pg_migrate.rollback_log;
-- Every call gets its own run id.
SELECT count(DISTINCT run_id) AS runs FROM pg_migrate.execution_log;
RESET application_name;
DROP EXTENSION pg_migrate;
