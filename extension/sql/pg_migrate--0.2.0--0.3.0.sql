\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.3.0'" to load this file. \quit

-- pg_migrate 0.3.0: test data batches (pgmig testdata) and a live activity report
-- (pgmig monitor). A fresh CREATE EXTENSION installs 0.1.0 and applies every upgrade script.

-- Test data -------------------------------------------------------------------------------

-- One row per `pgmig testdata generate` run on one table. The generated rows are
-- remembered by primary key in testdata_row, so `pgmig testdata cleanup` removes exactly
-- them and never a row someone else wrote.
CREATE TABLE pg_migrate.testdata_batch (
    id          bigserial PRIMARY KEY,
    table_oid   oid NOT NULL,
    table_name  text NOT NULL,
    key_columns name[] NOT NULL,
    rows        bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by  name NOT NULL DEFAULT session_user
);
COMMENT ON TABLE pg_migrate.testdata_batch IS
    'Batches of generated test rows (pgmig testdata generate), one per table and run';

CREATE TABLE pg_migrate.testdata_row (
    batch_id bigint NOT NULL REFERENCES pg_migrate.testdata_batch (id) ON DELETE CASCADE,
    key      jsonb NOT NULL
);
CREATE INDEX ON pg_migrate.testdata_row (batch_id);
COMMENT ON TABLE pg_migrate.testdata_row IS
    'Primary key of every generated test row, as a jsonb object of the key columns';

SELECT pg_catalog.pg_extension_config_dump('pg_migrate.testdata_batch', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.testdata_batch_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.testdata_row', '');
REVOKE ALL ON pg_migrate.testdata_batch, pg_migrate.testdata_row FROM PUBLIC;
REVOKE ALL ON SEQUENCE pg_migrate.testdata_batch_id_seq FROM PUBLIC;

-- Live activity ---------------------------------------------------------------------------

-- What migration work is running right now, for `pgmig monitor` (or psql): sessions running
-- migrate_execute/migrate_rollback/migrate_backfill or connected as pgmig, what each waits on
-- and who blocks it, running backfills with their progress, and the server's health figures.
-- Other users' sessions show their query only to superusers and pg_read_all_stats members,
-- as in pg_stat_activity itself.
CREATE FUNCTION migrate_activity()
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog
AS $$
WITH work AS (
    SELECT a.pid, a.usename, a.application_name, a.state, a.wait_event_type, a.wait_event,
           a.xact_start, a.query_start, a.query, pg_blocking_pids(a.pid) AS blocked_by
      FROM pg_stat_activity a
     WHERE a.pid <> pg_backend_pid()
       AND a.backend_type = 'client backend'
       AND a.state IS DISTINCT FROM 'idle'
       AND (a.query LIKE 'pg_migrate: %'
            OR a.query ~* '(migrate_execute|migrate_rollback|migrate_backfill)\s*\('
            OR a.application_name = 'pgmig')
)
SELECT jsonb_build_object(
    'at', clock_timestamp(),
    'sessions', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'pid', w.pid,
                   'user', w.usename,
                   'application', w.application_name,
                   'state', w.state,
                   'wait', nullif(concat_ws(':', w.wait_event_type, w.wait_event), ''),
                   'transaction_seconds', round(extract(epoch FROM clock_timestamp() - w.xact_start)::numeric, 1),
                   'query_seconds', round(extract(epoch FROM clock_timestamp() - w.query_start)::numeric, 1),
                   'activity', left(w.query, 300),
                   'waiting_for', (SELECT jsonb_agg(jsonb_build_object(
                                              'lock', l.locktype,
                                              'mode', l.mode,
                                              'relation', CASE WHEN l.relation IS NOT NULL
                                                               THEN l.relation::regclass::text END))
                                     FROM pg_locks l
                                    WHERE l.pid = w.pid AND NOT l.granted),
                   'blocked_by', (SELECT jsonb_agg(jsonb_build_object(
                                             'pid', b.pid,
                                             'user', b.usename,
                                             'state', b.state,
                                             'transaction_seconds',
                                                 round(extract(epoch FROM clock_timestamp() - b.xact_start)::numeric, 1),
                                             'query', left(b.query, 200)))
                                    FROM pg_stat_activity b
                                   WHERE b.pid = ANY (w.blocked_by)))
               ORDER BY w.query_start)
          FROM work w), '[]'::jsonb),
    'backfills', coalesce((
        SELECT jsonb_agg(to_jsonb(p) ORDER BY p.id)
          FROM @extschema@.migrate_backfill_progress() p
         WHERE p.status = 'running'), '[]'::jsonb),
    'server', jsonb_build_object(
        'connections', (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
        'max_connections', current_setting('max_connections')::int,
        'long_transactions', (SELECT count(*) FROM pg_stat_activity
                               WHERE xact_start < clock_timestamp() - interval '5 minutes'
                                 AND backend_type = 'client backend'),
        'waiting_locks', (SELECT count(*) FROM pg_locks WHERE NOT granted))
)
$$;
COMMENT ON FUNCTION migrate_activity() IS
    'Running migrations and backfills: statement, waits, blockers, progress and server figures';
REVOKE ALL ON FUNCTION migrate_activity() FROM PUBLIC;
