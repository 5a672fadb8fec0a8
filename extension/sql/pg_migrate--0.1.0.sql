\echo Use "CREATE EXTENSION pg_migrate" to load this file. \quit

-- pg_migrate 0.1.0: the migration registry, the transactional executor, and its logs.
-- Functions live in the schema the extension is created in; tables live in pg_migrate.

-- Names starting with pg_ are reserved for system schemas; the brief fixes this one, so the
-- script (always run by a superuser) lifts the check for this one statement.
SET LOCAL allow_system_table_mods = on;
CREATE SCHEMA pg_migrate;
RESET allow_system_table_mods;
REVOKE ALL ON SCHEMA pg_migrate FROM PUBLIC;
COMMENT ON SCHEMA pg_migrate IS 'pg_migrate: migration registry, execution log and rollback log';

-- Every migration the database knows about, with its scripts and where it stands.
CREATE TABLE pg_migrate.migration (
    version                 text PRIMARY KEY CHECK (version ~ '^[0-9]{1,32}$'),
    version_order           numeric GENERATED ALWAYS AS (version::numeric) STORED UNIQUE,
    name                    text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    up_sql                  text NOT NULL,
    down_sql                text,
    verify_sql              text,
    options                 jsonb NOT NULL DEFAULT '{}',
    checksum                text NOT NULL,
    statement_count         integer NOT NULL,
    requires_no_transaction boolean NOT NULL DEFAULT false,
    no_transaction_reason   text,
    down_requires_no_transaction boolean NOT NULL DEFAULT false,
    registered_at           timestamptz NOT NULL DEFAULT now(),
    registered_by           name NOT NULL DEFAULT session_user,
    updated_at              timestamptz,
    state                   text NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'applied', 'failed', 'rolled_back')),
    applied_at              timestamptz,
    applied_by              name,
    applied_checksum        text,
    duration_ms             numeric(14, 3),
    last_error              text
);
COMMENT ON TABLE pg_migrate.migration IS
    'Registered migrations (migrate_register) and their state; checksum covers the up script';

-- One row per attempt to apply or revert a migration, successful or not.
CREATE TABLE pg_migrate.execution_log (
    id                bigserial PRIMARY KEY,
    run_id            bigint NOT NULL,
    version           text NOT NULL,
    name              text,
    operation         text NOT NULL CHECK (operation IN ('execute', 'rollback')),
    status            text NOT NULL CHECK (status IN ('succeeded', 'failed', 'retrying', 'rolled_back')),
    attempt           integer NOT NULL DEFAULT 1,
    atomic            boolean NOT NULL DEFAULT false,
    phase             text CHECK (phase IN ('up', 'verify', 'down')),
    started_at        timestamptz NOT NULL,
    finished_at       timestamptz NOT NULL,
    duration_ms       numeric(14, 3) NOT NULL,
    checksum          text,
    sqlstate          text,
    message           text,
    detail            text,
    hint              text,
    context           text,
    failed_statement  text,
    statement_number  integer,
    statement_position integer,
    error_position    integer,
    lock_timeout_ms   integer,
    session_user_name name NOT NULL DEFAULT session_user,
    current_user_name name NOT NULL DEFAULT current_user,
    application_name  text DEFAULT current_setting('application_name'),
    client_addr       inet DEFAULT inet_client_addr(),
    backend_pid       integer NOT NULL DEFAULT pg_backend_pid(),
    extension_version text NOT NULL
);
CREATE INDEX ON pg_migrate.execution_log (version, id);
COMMENT ON TABLE pg_migrate.execution_log IS
    'Every attempt to apply or revert a migration: outcome, SQLSTATE, failing statement, timing, who';

-- One row per migration whose effects were undone: by a failure (its subtransaction rolled
-- back), by migrate_rollback (its down script ran), or by an atomic batch that failed later.
CREATE TABLE pg_migrate.rollback_log (
    id                bigserial PRIMARY KEY,
    run_id            bigint NOT NULL,
    execution_log_id  bigint,
    version           text NOT NULL,
    name              text,
    reason            text NOT NULL CHECK (reason IN ('failure', 'requested', 'atomic_batch')),
    rolled_back_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    sqlstate          text,
    message           text,
    session_user_name name NOT NULL DEFAULT session_user,
    current_user_name name NOT NULL DEFAULT current_user,
    application_name  text DEFAULT current_setting('application_name'),
    client_addr       inet DEFAULT inet_client_addr(),
    backend_pid       integer NOT NULL DEFAULT pg_backend_pid(),
    extension_version text NOT NULL
);
CREATE INDEX ON pg_migrate.rollback_log (version, id);
COMMENT ON TABLE pg_migrate.rollback_log IS
    'Migrations whose effects were undone, and why (failure, requested, atomic_batch)';

CREATE SEQUENCE pg_migrate.run_id_seq;

-- pg_dump of a user database keeps the registry and the history.
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.migration', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.execution_log', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.execution_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.rollback_log', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.rollback_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.run_id_seq', '');

REVOKE ALL ON ALL TABLES IN SCHEMA pg_migrate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pg_migrate FROM PUBLIC;

-- Functions --------------------------------------------------------------------------------

CREATE FUNCTION migrate_register(
    version text,
    name text,
    up_sql text,
    down_sql text DEFAULT NULL,
    verify_sql text DEFAULT NULL,
    options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'pgm_migrate_register'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_register(text, text, text, text, text, jsonb) IS
    'Register a migration (checksum of the up script); returns registered, updated or unchanged';

CREATE FUNCTION migrate_execute(
    target text DEFAULT NULL,
    dry_run boolean DEFAULT false,
    atomic boolean DEFAULT false)
RETURNS TABLE (version text, name text, status text, duration_ms numeric, message text, checksum text)
AS 'MODULE_PATHNAME', 'pgm_migrate_execute'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_execute(text, boolean, boolean) IS
    'Apply pending migrations up to target, each in its own subtransaction (or all-or-none with atomic)';

CREATE FUNCTION migrate_rollback(
    target text DEFAULT NULL,
    dry_run boolean DEFAULT false)
RETURNS TABLE (version text, name text, status text, duration_ms numeric, message text, checksum text)
AS 'MODULE_PATHNAME', 'pgm_migrate_rollback'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_rollback(text, boolean) IS
    'Run down scripts, newest first, back to target (default: the latest applied migration only)';

CREATE FUNCTION migrate_checksum(script text)
RETURNS text
AS 'MODULE_PATHNAME', 'pgm_migrate_checksum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION migrate_checksum(text) IS
    'SHA-256 (hex) of a script with BOM removed and line endings normalized, as migrate_register stores it';

CREATE FUNCTION migrate_statements(script text)
RETURNS TABLE (statement_number integer, statement text, start_position integer, command text,
               requires_no_transaction boolean, reason text)
AS 'MODULE_PATHNAME', 'pgm_migrate_statements'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION migrate_statements(text) IS
    'Split a script into statements with PostgreSQL''s parser and flag those that cannot run in a transaction';

CREATE FUNCTION migrate_status()
RETURNS TABLE (version text, name text, state text, applied_at timestamptz, duration_ms numeric,
               checksum text, applied_by name, requires_no_transaction boolean, last_error text)
LANGUAGE sql STABLE
AS $$
    SELECT m.version,
           m.name,
           CASE WHEN m.state = 'applied'
                     AND @extschema@.migrate_checksum(m.up_sql) IS DISTINCT FROM m.applied_checksum
                THEN 'modified'
                ELSE m.state
           END,
           m.applied_at,
           m.duration_ms,
           m.checksum,
           m.applied_by,
           m.requires_no_transaction,
           m.last_error
      FROM pg_migrate.migration AS m
     ORDER BY m.version_order
$$;
COMMENT ON FUNCTION migrate_status() IS
    'Every registered migration: pending, applied, failed, rolled_back or modified (changed after apply)';

REVOKE ALL ON FUNCTION migrate_register(text, text, text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_execute(text, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_rollback(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_checksum(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_statements(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_status() FROM PUBLIC;
