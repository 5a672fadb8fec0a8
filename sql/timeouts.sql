-- Statement timeouts apply to each statement of a migration; a user's own statement_timeout
-- still ends the whole call.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
SET pg_migrate.statement_timeout = '200ms';
SELECT migrate_register('1', 'slow', E'CREATE TABLE slow_t (i int);\nSELECT pg_sleep(2);');
SELECT version, status, message FROM migrate_execute();
SELECT to_regclass('slow_t') IS NULL AS rolled_back;
SELECT sqlstate, message, detail, statement_number FROM pg_migrate.execution_log WHERE version = '1';

-- A per-migration option overrides the setting.
SELECT migrate_register('1', 'slow', E'CREATE TABLE slow_t (i int);\nSELECT pg_sleep(0.3);', NULL, NULL, '{"statement_timeout": "5s"}');
SELECT version, status FROM migrate_execute();
RESET pg_migrate.statement_timeout;
SELECT migrate_register('4', 'option_limit', 'SELECT pg_sleep(2);', NULL, NULL, '{"statement_timeout": 150}');
SELECT version, status FROM migrate_execute(target => '4');
SELECT detail FROM pg_migrate.execution_log WHERE version = '4';
SELECT migrate_register('4', 'option_limit', 'SELECT 1;', NULL, NULL, '{"statement_timeout": 150}');

-- The caller's statement_timeout is not swallowed: it cancels the call, nothing is logged.
SET statement_timeout = '300ms';
SELECT migrate_register('2', 'slower', 'SELECT pg_sleep(2);');
SELECT migrate_execute();
RESET statement_timeout;
SELECT count(*) AS logged FROM pg_migrate.execution_log WHERE version = '2';
-- After a migration the caller's statement_timeout is in force again.
SET statement_timeout = '5s';
SELECT migrate_register('2', 'slower', 'SELECT 1;');
SELECT version, status FROM migrate_execute();
SELECT pg_sleep(0.1);
RESET statement_timeout;

-- Settings are validated.
SET pg_migrate.lock_timeout = '-1';
SET pg_migrate.no_such_setting = 1;
SHOW pg_migrate.lock_timeout;
SHOW pg_migrate.lock_retries;

-- lock_timeout is in force inside a migration, and restored after it.
SET pg_migrate.lock_timeout = '250ms';
SELECT migrate_register('3', 'show_lock_timeout', $$DO $d$ BEGIN ASSERT current_setting('lock_timeout') = '250ms', current_setting('lock_timeout'); END $d$;$$);
SELECT version, status, message FROM migrate_execute();
SHOW lock_timeout;

DROP TABLE slow_t;
DROP EXTENSION pg_migrate;
