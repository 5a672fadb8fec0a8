\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.2.0'" to load this file. \quit

-- pg_migrate 0.2.0: table snapshots.
-- A fresh CREATE EXTENSION installs 0.1.0 and applies this script, so a fresh install and an
-- upgrade always end with the same objects (test/integration/upgrade_paths.sh checks it).

-- Snapshot tables live in their own schema; the pg_ prefix is reserved, see 0.1.0.
SET LOCAL allow_system_table_mods = on;
CREATE SCHEMA pg_migrate_snapshots;
RESET allow_system_table_mods;
REVOKE ALL ON SCHEMA pg_migrate_snapshots FROM PUBLIC;
COMMENT ON SCHEMA pg_migrate_snapshots IS 'pg_migrate: snapshot tables (one per snapshot_create call)';

-- One row per snapshot. Snapshots are in-database safety copies: like the snapshot tables
-- (in a pg_ schema, which pg_dump skips), this catalog is not part of a user's pg_dump.
CREATE TABLE pg_migrate.snapshot (
    id                bigserial PRIMARY KEY,
    source_schema     name NOT NULL,
    source_table      name NOT NULL,
    source_oid        oid NOT NULL,
    snapshot_table    name NOT NULL UNIQUE,
    columns           jsonb NOT NULL,
    row_count         bigint NOT NULL,
    checksum          text NOT NULL,
    size_bytes        bigint NOT NULL,
    label             text,
    migration_version text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        name NOT NULL DEFAULT session_user,
    duration_ms       numeric(14, 3),
    verified_at       timestamptz,
    verify_ok         boolean,
    restored_at       timestamptz
);
CREATE INDEX ON pg_migrate.snapshot (source_schema, source_table, created_at);
COMMENT ON TABLE pg_migrate.snapshot IS
    'Table snapshots: source, row count, content checksum, size, label, migration, who and when';
REVOKE ALL ON pg_migrate.snapshot FROM PUBLIC;
REVOKE ALL ON SEQUENCE pg_migrate.snapshot_id_seq FROM PUBLIC;

CREATE FUNCTION snapshot_create(rel regclass, label text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pgm_snapshot_create'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION snapshot_create(regclass, text) IS
    'Copy a table''s rows into a snapshot table, with a content checksum taken in the same pass; returns the snapshot id';

CREATE FUNCTION snapshot_verify(id bigint)
RETURNS TABLE (snapshot_id bigint, ok boolean, expected_rows bigint, actual_rows bigint,
               expected_checksum text, actual_checksum text, message text)
AS 'MODULE_PATHNAME', 'pgm_snapshot_verify'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION snapshot_verify(bigint) IS
    'Recompute a snapshot''s checksum and compare it with the one taken at creation';

CREATE FUNCTION snapshot_restore(id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pgm_snapshot_restore'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION snapshot_restore(bigint) IS
    'Put the source table''s rows back exactly as snapshotted (verified first); returns the rows restored';

CREATE FUNCTION snapshot_list()
RETURNS TABLE (id bigint, source text, label text, row_count bigint, size_bytes bigint,
               checksum text, migration_version text, created_at timestamptz, created_by name,
               verified_at timestamptz, verify_ok boolean, restored_at timestamptz,
               snapshot_table text)
LANGUAGE sql STABLE
AS $$
    SELECT s.id, pg_catalog.format('%I.%I', s.source_schema, s.source_table), s.label,
           s.row_count, s.size_bytes, s.checksum, s.migration_version, s.created_at,
           s.created_by, s.verified_at, s.verify_ok, s.restored_at,
           pg_catalog.format('pg_migrate_snapshots.%I', s.snapshot_table)
      FROM pg_migrate.snapshot AS s
     ORDER BY s.id
$$;
COMMENT ON FUNCTION snapshot_list() IS 'Every snapshot, oldest first';

CREATE FUNCTION snapshot_drop(id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    dropped name;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'snapshot id must not be NULL' USING ERRCODE = '22004';
    END IF;
    DELETE FROM pg_migrate.snapshot AS s WHERE s.id = snapshot_drop.id RETURNING s.snapshot_table INTO dropped;
    IF dropped IS NULL THEN
        RAISE EXCEPTION 'snapshot % does not exist', id USING ERRCODE = '42704',
              HINT = 'snapshot_list() shows the snapshots there are.';
    END IF;
    EXECUTE format('DROP TABLE IF EXISTS pg_migrate_snapshots.%I', dropped);
    RETURN true;
END
$$;
COMMENT ON FUNCTION snapshot_drop(bigint) IS 'Drop a snapshot and its table';

CREATE FUNCTION snapshot_prune(keep_last integer DEFAULT NULL, older_than interval DEFAULT NULL,
                               rel regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    victim bigint;
    n integer := 0;
BEGIN
    IF keep_last IS NULL AND older_than IS NULL THEN
        RAISE EXCEPTION 'snapshot_prune needs keep_last, older_than or both' USING ERRCODE = '22023',
              HINT = 'snapshot_prune(keep_last => 3) keeps the 3 newest snapshots of each table; '
                     'snapshot_prune(older_than => ''7 days'') drops older ones.';
    END IF;
    IF keep_last < 0 THEN
        RAISE EXCEPTION 'keep_last must be 0 or more, got %', keep_last USING ERRCODE = '22023';
    END IF;
    -- A snapshot is pruned when it is beyond the newest keep_last of its table and (if given)
    -- older than older_than; with only one criterion, that one decides.
    FOR victim IN
        SELECT s.id FROM (
            SELECT x.id, x.created_at,
                   row_number() OVER (PARTITION BY x.source_schema, x.source_table
                                      ORDER BY x.created_at DESC, x.id DESC) AS newest_rank
              FROM pg_migrate.snapshot x
             WHERE rel IS NULL OR (x.source_schema, x.source_table) =
                   (SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.oid = rel)
        ) s
         WHERE (keep_last IS NULL OR s.newest_rank > keep_last)
           AND (older_than IS NULL OR s.created_at < now() - older_than)
         ORDER BY s.id
    LOOP
        PERFORM @extschema@.snapshot_drop(victim);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION snapshot_prune(integer, interval, regclass) IS
    'Drop old snapshots: beyond the newest keep_last per table and/or older than older_than';

REVOKE ALL ON FUNCTION snapshot_create(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION snapshot_verify(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION snapshot_restore(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION snapshot_list() FROM PUBLIC;
REVOKE ALL ON FUNCTION snapshot_drop(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION snapshot_prune(integer, interval, regclass) FROM PUBLIC;

-- Lint and lock analysis ------------------------------------------------------------------

CREATE FUNCTION migrate_lint(script text)
RETURNS TABLE (statement_number integer, statement text, rule text, severity text,
               message text, alternative text)
AS 'MODULE_PATHNAME', 'pgm_migrate_lint'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migrate_lint(text) IS
    'Unsafe patterns for a live database in a script, found with PostgreSQL''s parser: one row per finding';

CREATE FUNCTION migrate_statement_locks(script text)
RETURNS TABLE (statement_number integer, command text, table_name text, lock_mode text,
               table_exists boolean)
AS 'MODULE_PATHNAME', 'pgm_migrate_statement_locks'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migrate_statement_locks(text) IS
    'The tables each statement of a script touches and the lock it takes on them';

REVOKE ALL ON FUNCTION migrate_lint(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_statement_locks(text) FROM PUBLIC;
