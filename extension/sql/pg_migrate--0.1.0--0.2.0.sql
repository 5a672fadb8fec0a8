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

CREATE FUNCTION migrate_data_expectations(script text)
RETURNS TABLE (statement_number integer, kind text, table_name text, columns text[],
               expression text, constraint_desc text)
AS 'MODULE_PATHNAME', 'pgm_migrate_data_expectations'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migrate_data_expectations(text) IS
    'What a script will require of existing data: columns becoming unique or NOT NULL, CHECK constraints being added';
REVOKE ALL ON FUNCTION migrate_data_expectations(text) FROM PUBLIC;

-- Validation ---------------------------------------------------------------------------------

CREATE TABLE pg_migrate.validation_check (
    name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    category    text NOT NULL CHECK (category IN ('schema', 'integrity', 'relationships', 'business', 'performance')),
    severity    text NOT NULL DEFAULT 'error' CHECK (severity IN ('error', 'warning', 'info')),
    check_sql   text NOT NULL,
    description text,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  name NOT NULL DEFAULT session_user
);
COMMENT ON TABLE pg_migrate.validation_check IS
    'User-defined validation checks: check_sql returns the offending rows (none = pass)';

CREATE TABLE pg_migrate.validation_result (
    id          bigserial PRIMARY KEY,
    run_id      bigint NOT NULL,
    check_name  text NOT NULL,
    category    text NOT NULL,
    severity    text NOT NULL,
    status      text NOT NULL CHECK (status IN ('pass', 'fail', 'error')),
    violations  bigint,
    sample      jsonb,
    message     text,
    duration_ms numeric(14, 3),
    checked_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    checked_by  name NOT NULL DEFAULT session_user
);
CREATE INDEX ON pg_migrate.validation_result (run_id);
COMMENT ON TABLE pg_migrate.validation_result IS 'Results of migrate_validate() runs';

SELECT pg_catalog.pg_extension_config_dump('pg_migrate.validation_check', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.validation_result', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.validation_result_id_seq', '');
REVOKE ALL ON pg_migrate.validation_check, pg_migrate.validation_result FROM PUBLIC;
REVOKE ALL ON SEQUENCE pg_migrate.validation_result_id_seq FROM PUBLIC;

CREATE FUNCTION validation_check_add(name text, category text, check_sql text,
                                     severity text DEFAULT 'error', description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    n integer;
    cmd text;
    normalized text;  -- the statement as the parser delimits it: no trailing semicolon
    existed boolean;
BEGIN
    IF name IS NULL OR category IS NULL OR check_sql IS NULL THEN
        RAISE EXCEPTION 'name, category and check_sql must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF name !~ '^[A-Za-z0-9_.:-]{1,100}$' THEN
        RAISE EXCEPTION 'invalid check name "%"', left(name, 120) USING ERRCODE = '22023',
              HINT = 'Use 1 to 100 letters, digits, and _ . : -';
    END IF;
    IF category NOT IN ('schema', 'integrity', 'relationships', 'business', 'performance') THEN
        RAISE EXCEPTION 'invalid category "%"', left(category, 64) USING ERRCODE = '22023',
              HINT = 'Categories: schema, integrity, relationships, business, performance.';
    END IF;
    IF severity IS NULL OR severity NOT IN ('error', 'warning', 'info') THEN
        RAISE EXCEPTION 'invalid severity "%"', left(severity, 64) USING ERRCODE = '22023',
              HINT = 'Severities: error, warning, info.';
    END IF;
    SELECT count(*), (array_agg(s.command ORDER BY s.statement_number))[1],
           (array_agg(s.statement ORDER BY s.statement_number))[1]
      INTO n, cmd, normalized
      FROM @extschema@.migrate_statements(check_sql) s;
    IF n <> 1 OR cmd <> 'SELECT' THEN
        RAISE EXCEPTION 'check_sql must be one SELECT that returns the offending rows'
              USING ERRCODE = '22023', DETAIL = format('it has %s statement(s), the first is %s', n, coalesce(cmd, 'none')),
                    HINT = 'For example: SELECT id FROM orders WHERE total < 0';
    END IF;
    SELECT EXISTS (SELECT 1 FROM pg_migrate.validation_check c WHERE c.name = validation_check_add.name) INTO existed;
    INSERT INTO pg_migrate.validation_check AS c (name, category, severity, check_sql, description)
    VALUES (validation_check_add.name, validation_check_add.category, validation_check_add.severity,
            normalized, validation_check_add.description)
    ON CONFLICT ON CONSTRAINT validation_check_pkey DO UPDATE
       SET category = EXCLUDED.category, severity = EXCLUDED.severity,
           check_sql = EXCLUDED.check_sql, description = EXCLUDED.description;
    RETURN CASE WHEN existed THEN 'updated' ELSE 'added' END;
END
$$;
COMMENT ON FUNCTION validation_check_add(text, text, text, text, text) IS
    'Add or replace a validation check: a SELECT returning the offending rows';

CREATE FUNCTION validation_check_drop(name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
BEGIN
    DELETE FROM pg_migrate.validation_check c WHERE c.name = validation_check_drop.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'validation check "%" does not exist', name USING ERRCODE = '42704';
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION validation_check_drop(text) IS 'Remove a user-defined validation check';

-- The checks migrate_validate() runs: the built-in ones, generated from the catalog and from
-- the pending migrations, then the enabled user-defined ones.
CREATE FUNCTION migrate_validation_checks(category text DEFAULT NULL)
RETURNS TABLE (check_name text, category text, severity text, check_sql text, description text)
LANGUAGE sql STABLE
AS $$
WITH user_tables AS (
    SELECT c.oid, c.relname, n.nspname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_migrate', 'pg_migrate_snapshots')
       AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'
), fks AS (
    SELECT con.conname, con.conrelid, con.confrelid, con.convalidated,
           string_agg(format('c.%I', a.attname), ', ' ORDER BY k.ord) AS cols,
           string_agg(format('c.%I IS NOT NULL', a.attname), ' AND ' ORDER BY k.ord) AS not_null,
           string_agg(format('p.%I = c.%I', pa.attname, a.attname), ' AND ' ORDER BY k.ord) AS join_on
      FROM pg_constraint con
      JOIN user_tables t ON t.oid = con.conrelid
     CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(ck, pk, ord)
      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.ck
      JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.pk
     WHERE con.contype = 'f' AND con.conparentid = 0
     GROUP BY con.oid, con.conname, con.conrelid, con.confrelid, con.convalidated
), pending AS (
    SELECT m.version, e.kind, e.table_name, e.columns, e.expression, e.constraint_desc
      FROM pg_migrate.migration m
     CROSS JOIN LATERAL @extschema@.migrate_data_expectations(m.up_sql) e
     WHERE m.state <> 'applied' AND to_regclass(e.table_name) IS NOT NULL
), builtin AS (
    SELECT format('orphaned_rows.%s.%s', f.conrelid::regclass, f.conname), 'relationships', 'error',
           format('SELECT %s FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
                  f.cols, f.conrelid::regclass, f.not_null, f.confrelid::regclass, f.join_on),
           format('rows of %s whose %s has no match in %s%s', f.conrelid::regclass, f.conname,
                  f.confrelid::regclass, CASE WHEN f.convalidated THEN '' ELSE ' (constraint is NOT VALID)' END)
      FROM fks f
    UNION ALL
    SELECT 'invalid_indexes', 'performance', 'warning',
           $q$SELECT indexrelid::regclass AS index, indrelid::regclass AS "table" FROM pg_catalog.pg_index WHERE NOT indisvalid$q$,
           'indexes left invalid, e.g. by a failed CREATE INDEX CONCURRENTLY'
    UNION ALL
    SELECT 'tables_without_primary_key', 'schema', 'warning',
           $q$SELECT c.oid::regclass AS "table" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_migrate', 'pg_migrate_snapshots')
                 AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')$q$,
           'tables without a primary key (logical replication, batched backfills and many tools need one)'
    UNION ALL
    SELECT format('pending_%s.%s.%s.%s', p.kind, p.version, to_regclass(p.table_name),
                  coalesce(nullif(array_to_string(p.columns, '_'), ''),
                           nullif(regexp_replace(p.constraint_desc, '^CHECK ?', ''), ''), 'check')),
           'integrity', 'error',
           CASE p.kind
             WHEN 'unique' THEN format('SELECT %s, count(*) AS copies FROM %s WHERE %s GROUP BY %s HAVING count(*) > 1',
                                       cols.list, to_regclass(p.table_name), cols.none_null, cols.list)
             WHEN 'not_null' THEN format('SELECT %s FROM %s WHERE %s', pk.list, to_regclass(p.table_name), cols.any_null)
             WHEN 'enum' THEN format('SELECT %s FROM %s WHERE %I IS NOT NULL AND %I::text NOT IN (%s)', pk.list,
                                     to_regclass(p.table_name), p.columns[1], p.columns[1], p.expression)
             ELSE format('SELECT %s FROM %s WHERE NOT (%s)', pk.list, to_regclass(p.table_name), p.expression)
           END,
           format('migration %s adds %s on %s: existing rows that would make it fail',
                  p.version, p.constraint_desc, to_regclass(p.table_name))
      FROM pending p
     CROSS JOIN LATERAL (SELECT string_agg(format('%I', c), ', ') AS list,
                                string_agg(format('%I IS NULL', c), ' OR ') AS any_null,
                                string_agg(format('%I IS NOT NULL', c), ' AND ') AS none_null
                           FROM unnest(p.columns) AS c) cols
     -- Offending rows are identified by their primary key, or by ctid without one.
     CROSS JOIN LATERAL (SELECT coalesce(string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum), 'ctid') AS list
                           FROM pg_index i
                           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                          WHERE i.indrelid = to_regclass(p.table_name) AND i.indisprimary) pk
     WHERE p.kind <> 'check' OR p.expression IS NOT NULL
)
SELECT b.* FROM builtin b(check_name, category, severity, check_sql, description)
 WHERE migrate_validation_checks.category IS NULL OR b.category = migrate_validation_checks.category
UNION ALL
SELECT v.name, v.category, v.severity, v.check_sql, v.description
  FROM pg_migrate.validation_check v
 WHERE v.enabled AND (migrate_validation_checks.category IS NULL OR v.category = migrate_validation_checks.category)
$$;
COMMENT ON FUNCTION migrate_validation_checks(text) IS
    'The checks migrate_validate() runs, built-in and user-defined, with their SQL';

-- The worker behind migrate_validate() (a plpgsql function cannot have an input parameter
-- and an output column both named "category"). Runs with the caller's search_path, so the
-- checks' table names resolve as the migrations' do.
CREATE FUNCTION pg_migrate.validate_run(only_category text)
RETURNS TABLE (check_name text, category text, severity text, status text, violations bigint,
               sample jsonb, message text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    chk record;
    run bigint;
    started timestamptz;
    n bigint;
    rows_sample jsonb;
    msg text;
    st text;
BEGIN
    IF only_category IS NOT NULL AND only_category NOT IN ('schema', 'integrity', 'relationships', 'business', 'performance') THEN
        RAISE EXCEPTION 'invalid category "%"', left(only_category, 64) USING ERRCODE = '22023',
              HINT = 'Categories: schema, integrity, relationships, business, performance.';
    END IF;
    run := nextval('pg_migrate.run_id_seq');
    FOR chk IN SELECT * FROM @extschema@.migrate_validation_checks(only_category) c ORDER BY c.category, c.check_name LOOP
        started := clock_timestamp();
        n := NULL; rows_sample := NULL; msg := NULL; st := NULL;
        BEGIN
            -- The check's rows are counted once and the first five kept as a sample. The
            -- subtransaction is then always rolled back (the variables keep the results), so
            -- a check can never change data, whatever its SQL calls.
            EXECUTE format(E'WITH offending AS MATERIALIZED (%s\n) '
                           'SELECT (SELECT count(*) FROM offending), '
                           '       (SELECT jsonb_agg(to_jsonb(o)) FROM (SELECT * FROM offending LIMIT 5) o)',
                           chk.check_sql)
               INTO n, rows_sample;
            st := CASE WHEN n = 0 THEN 'pass' ELSE 'fail' END;
            msg := CASE WHEN n = 0 THEN coalesce(chk.description, 'no violations')
                        ELSE format('%s violation(s): %s', n, coalesce(chk.description, chk.check_name)) END;
            RAISE EXCEPTION USING ERRCODE = 'PMV00';
        EXCEPTION WHEN SQLSTATE 'PMV00' THEN
            NULL;
        WHEN OTHERS THEN
            st := 'error';
            msg := format('the check failed to run: %s (SQLSTATE %s)', SQLERRM, SQLSTATE);
        END;
        INSERT INTO pg_migrate.validation_result (run_id, check_name, category, severity, status,
                                                  violations, sample, message, duration_ms)
        VALUES (run, chk.check_name, chk.category, chk.severity, st, n, rows_sample, msg,
                round((extract(epoch FROM clock_timestamp() - started) * 1000)::numeric, 3));
        check_name := chk.check_name; category := chk.category; severity := chk.severity;
        status := st; violations := n; sample := rows_sample; message := msg;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION pg_migrate.validate_run(text) FROM PUBLIC;

CREATE FUNCTION migrate_validate(category text DEFAULT NULL)
RETURNS TABLE (check_name text, category text, severity text, status text, violations bigint,
               sample jsonb, message text)
LANGUAGE sql VOLATILE
AS $$ SELECT * FROM pg_migrate.validate_run(category) $$;
COMMENT ON FUNCTION migrate_validate(text) IS
    'Run the validation checks (optionally of one category), store and return their results';

-- Pre-flight --------------------------------------------------------------------------------

-- Whether two table lock modes conflict (PostgreSQL's conflict table).
CREATE FUNCTION migrate_locks_conflict(held text, wanted text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
    WITH levels(mode, lvl) AS (VALUES ('AccessShareLock', 1), ('RowShareLock', 2), ('RowExclusiveLock', 3),
        ('ShareUpdateExclusiveLock', 4), ('ShareLock', 5), ('ShareRowExclusiveLock', 6),
        ('ExclusiveLock', 7), ('AccessExclusiveLock', 8)),
    conflicts(lvl, with_lvls) AS (VALUES (1, ARRAY[8]), (2, ARRAY[7, 8]), (3, ARRAY[5, 6, 7, 8]),
        (4, ARRAY[4, 5, 6, 7, 8]), (5, ARRAY[3, 4, 6, 7, 8]), (6, ARRAY[3, 4, 5, 6, 7, 8]),
        (7, ARRAY[2, 3, 4, 5, 6, 7, 8]), (8, ARRAY[1, 2, 3, 4, 5, 6, 7, 8]))
    SELECT coalesce((SELECT w.lvl = ANY (c.with_lvls)
                       FROM levels h JOIN conflicts c ON c.lvl = h.lvl, levels w
                      WHERE h.mode = held AND w.mode = wanted), false)
$$;
COMMENT ON FUNCTION migrate_locks_conflict(text, text) IS 'Whether two table lock modes conflict';

-- The checks, one row each. A separate function, so that migrate_preflight() can add the
-- score row over them without a temporary table.
CREATE FUNCTION pg_migrate.preflight_checks(target text)
RETURNS TABLE (check_name text, status text, critical boolean, detail text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    score integer := 100;
    critical_failures integer := 0;
    -- The tables the pending migrations (up to target) touch, and the lock each needs.
    -- Kept in arrays rather than a temporary table, so that pre-flight also runs on a
    -- read-only standby and twice in one transaction.
    t_version text[];
    t_relid oid[];
    t_mode text[];
    can_see_all boolean := pg_has_role('pg_read_all_stats', 'MEMBER');
    n bigint;
    txt text;
    used integer;
    avail integer;
BEGIN
    IF target IS NOT NULL AND target !~ '^[0-9]{1,32}$' THEN
        RAISE EXCEPTION 'invalid target version "%"', left(target, 64) USING ERRCODE = '22023',
              HINT = 'A target is a registered version: digits only, at most 32.';
    END IF;
    SELECT array_agg(m.version), array_agg(to_regclass(l.table_name)::oid), array_agg(l.lock_mode)
      INTO t_version, t_relid, t_mode
      FROM pg_migrate.migration m
     CROSS JOIN LATERAL @extschema@.migrate_statement_locks(m.up_sql) l
     WHERE m.state <> 'applied' AND (target IS NULL OR m.version_order <= target::numeric)
       AND to_regclass(l.table_name) IS NOT NULL;

    check_name := 'server_version'; critical := true;
    status := CASE WHEN current_setting('server_version_num')::int >= 150000 THEN 'pass' ELSE 'fail' END;
    detail := 'PostgreSQL ' || current_setting('server_version');
    RETURN NEXT;

    SELECT count(*) INTO used FROM pg_stat_activity WHERE backend_type = 'client backend';
    avail := current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int;
    check_name := 'connections'; critical := false;
    status := CASE WHEN used > avail * 0.95 THEN 'fail' WHEN used > avail * 0.8 THEN 'warn' ELSE 'pass' END;
    detail := format('%s of %s connections in use', used, avail);
    RETURN NEXT;

    SELECT count(*), string_agg(format('pid %s (%s for %s): %s', a.pid, a.state,
                                       date_trunc('second', now() - a.xact_start), left(a.query, 60)), '; ')
      INTO n, txt
      FROM pg_stat_activity a
     WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend' AND a.xact_start IS NOT NULL
       AND ((a.state = 'idle in transaction' AND now() - a.state_change > interval '1 minute')
            OR now() - a.xact_start > interval '5 minutes');
    check_name := 'long_transactions'; critical := false;
    status := CASE WHEN n > 0 OR NOT can_see_all THEN 'warn' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN format('%s long-running or idle-in-transaction session(s), which hold locks and block DDL: %s', n, txt)
                   WHEN NOT can_see_all THEN 'cannot see other users'' sessions: grant pg_read_all_stats to the role running pre-flight'
                   ELSE 'no transaction older than 5 minutes, none idle in transaction for over 1 minute' END;
    RETURN NEXT;

    SELECT count(*), string_agg(DISTINCT format('%s holds %s on %s (needed: %s by migration %s)', l.pid, l.mode,
                                                l.relation::regclass, t.lock_mode, t.version), '; ')
      INTO n, txt
      FROM pg_locks l
      JOIN unnest(t_version, t_relid, t_mode) AS t(version, relid, lock_mode) ON t.relid = l.relation
     WHERE l.granted AND l.pid <> pg_backend_pid() AND l.locktype = 'relation'
       AND @extschema@.migrate_locks_conflict(l.mode, t.lock_mode);
    check_name := 'blocking_locks'; critical := true;
    status := CASE WHEN n > 0 THEN 'fail' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN 'sessions hold locks the pending migrations would wait for: ' || txt
                   ELSE format('no session holds a conflicting lock on the %s table(s) the pending migrations touch',
                               (SELECT count(DISTINCT r) FROM unnest(t_relid) r)) END;
    RETURN NEXT;

    SELECT count(*), string_agg(format('%s (prepared %s)', gid, date_trunc('second', prepared)), ', ') INTO n, txt
      FROM pg_prepared_xacts;
    check_name := 'prepared_transactions'; critical := false;
    status := CASE WHEN n > 0 THEN 'warn' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN format('%s prepared transaction(s) hold their locks until committed: %s', n, txt)
                   ELSE 'no prepared transactions' END;
    RETURN NEXT;

    SELECT count(*), max(replay_lag)::text INTO n, txt FROM pg_stat_replication;
    check_name := 'replication_lag'; critical := false;
    status := CASE WHEN n = 0 OR txt IS NULL THEN 'pass' WHEN txt::interval > interval '5 minutes' THEN 'fail'
                   WHEN txt::interval > interval '30 seconds' THEN 'warn' ELSE 'pass' END;
    detail := CASE WHEN n = 0 THEN 'no streaming replicas'
                   ELSE format('%s replica(s), largest replay lag %s', n, coalesce(txt, '0')) END;
    RETURN NEXT;

    SELECT count(*), string_agg(indexrelid::regclass::text, ', ') INTO n, txt FROM pg_index WHERE NOT indisvalid;
    check_name := 'invalid_indexes'; critical := false;
    status := CASE WHEN n > 0 THEN 'warn' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN format('%s invalid index(es): %s', n, txt) ELSE 'no invalid indexes' END;
    RETURN NEXT;

    SELECT count(*), string_agg(s.version, ', ') INTO n, txt FROM @extschema@.migrate_status() s WHERE s.state = 'modified';
    check_name := 'checksums'; critical := true;
    status := CASE WHEN n > 0 THEN 'fail' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN format('applied migration(s) changed in the registry since they ran: %s', txt)
                   ELSE 'every applied migration matches its checksum' END;
    RETURN NEXT;

    SELECT count(*), string_agg(x.relid::regclass || ': ' || coalesce('newest snapshot ' || date_trunc('second', x.age) || ' old', 'no snapshot'), '; ')
      INTO n, txt
      FROM (SELECT t.relid,
                   (SELECT now() - max(s.created_at) FROM pg_migrate.snapshot s
                     WHERE (s.source_schema, s.source_table) =
                           (SELECT nn.nspname, cc.relname FROM pg_class cc JOIN pg_namespace nn ON nn.oid = cc.relnamespace
                             WHERE cc.oid = t.relid)) AS age
              FROM (SELECT DISTINCT u.relid FROM unnest(t_relid, t_mode) AS u(relid, lock_mode)
                     WHERE u.lock_mode NOT IN ('AccessShareLock', 'ShareUpdateExclusiveLock')) t) x
     WHERE x.age IS NULL OR x.age > interval '24 hours';
    check_name := 'snapshot_freshness'; critical := false;
    status := CASE WHEN n > 0 THEN 'warn' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN 'tables the pending migrations change without a snapshot from the last 24 hours: ' || txt
                   ELSE 'every table the pending migrations change has a snapshot from the last 24 hours' END;
    RETURN NEXT;

    SELECT count(*), string_agg(m.version || ' (' || m.name || ')', ', ') INTO n, txt
      FROM pg_migrate.migration m
     WHERE m.state <> 'applied' AND m.requires_no_transaction AND (target IS NULL OR m.version_order <= target::numeric);
    check_name := 'non_transactional_migrations'; critical := false;
    status := CASE WHEN n > 0 THEN 'fail' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN 'pending migrations that must run outside a transaction (pgmig up): ' || txt
                   ELSE 'every pending migration can run in a transaction' END;
    RETURN NEXT;

    SELECT count(*), string_agg(DISTINCT m.version || ': ' || f.rule, ', ') INTO n, txt
      FROM pg_migrate.migration m CROSS JOIN LATERAL @extschema@.migrate_lint(m.up_sql) f
     WHERE m.state <> 'applied' AND (target IS NULL OR m.version_order <= target::numeric) AND f.severity = 'error';
    check_name := 'lint'; critical := false;
    status := CASE WHEN n > 0 THEN 'warn' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN format('%s lint error(s) in pending migrations (migrate_lint): %s', n, txt)
                   ELSE 'no lint errors in pending migrations' END;
    RETURN NEXT;

    SELECT count(*) INTO n FROM pg_migrate.migration m
     WHERE m.state <> 'applied' AND (target IS NULL OR m.version_order <= target::numeric);
    check_name := 'pending_migrations'; critical := false; status := 'pass';
    detail := format('%s migration(s) pending%s', n, CASE WHEN target IS NULL THEN '' ELSE ' up to ' || target END);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION pg_migrate.preflight_checks(text) IS
    'The pre-flight checks, without the score (migrate_preflight adds it)';
REVOKE ALL ON FUNCTION pg_migrate.preflight_checks(text) FROM PUBLIC;

CREATE FUNCTION migrate_preflight(target text DEFAULT NULL)
RETURNS TABLE (check_name text, status text, critical boolean, detail text)
LANGUAGE sql VOLATILE
AS $$
    WITH checks AS MATERIALIZED (
        SELECT row_number() OVER () AS ord, c.* FROM pg_migrate.preflight_checks(target) c
    ), scored AS (
        SELECT greatest(100 - sum(CASE WHEN c.status = 'warn' THEN 5
                                       WHEN c.status = 'fail' AND c.critical THEN 40
                                       WHEN c.status = 'fail' THEN 15 ELSE 0 END), 0)::int AS score,
               count(*) FILTER (WHERE c.status = 'fail' AND c.critical) AS critical_failures
          FROM checks c
    )
    SELECT r.check_name, r.status, r.critical, r.detail
      FROM (SELECT c.ord, c.check_name, c.status, c.critical, c.detail FROM checks c
            UNION ALL
            SELECT (SELECT count(*) FROM checks) + 1, 'safety_score',
                   CASE WHEN s.critical_failures > 0 THEN 'fail' WHEN s.score < 80 THEN 'warn' ELSE 'pass' END,
                   s.critical_failures > 0,
                   format('%s/100; %s critical failure(s)', s.score, s.critical_failures)
              FROM scored s) r
     ORDER BY r.ord
$$;
COMMENT ON FUNCTION migrate_preflight(text) IS
    'Is it safe to migrate now? One row per check (pass/warn/fail), then the safety score';

-- Health --------------------------------------------------------------------------------------

CREATE FUNCTION migrate_health()
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    checks jsonb := '[]';
    n bigint;
    m bigint;
    r record;
    score integer;
    log_bytes bigint;
    newest timestamptz;
BEGIN
    SELECT count(*) FILTER (WHERE state IN ('pending', 'rolled_back')), count(*) FILTER (WHERE state = 'failed')
      INTO n, m FROM pg_migrate.migration;
    checks := checks || jsonb_build_object('name', 'pending_migrations',
        'status', CASE WHEN n > 0 THEN 'warn' ELSE 'pass' END,
        'message', format('%s migration(s) pending', n), 'details', jsonb_build_object('pending', n));
    checks := checks || jsonb_build_object('name', 'failed_migrations',
        'status', CASE WHEN m > 0 THEN 'fail' ELSE 'pass' END,
        'message', format('%s migration(s) failed and not applied', m),
        'details', (SELECT coalesce(jsonb_agg(jsonb_build_object('version', version, 'name', name, 'error', last_error)
                                              ORDER BY version_order), '[]')
                      FROM pg_migrate.migration WHERE state = 'failed'));

    SELECT count(*) INTO n FROM @extschema@.migrate_status() s WHERE s.state = 'modified';
    checks := checks || jsonb_build_object('name', 'checksums', 'status', CASE WHEN n > 0 THEN 'fail' ELSE 'pass' END,
        'message', format('%s applied migration(s) changed since they ran', n), 'details', jsonb_build_object('modified', n));

    SELECT * INTO r FROM pg_migrate.execution_log WHERE status = 'failed' ORDER BY id DESC LIMIT 1;
    checks := checks || jsonb_build_object('name', 'last_failure',
        'status', CASE WHEN r.id IS NULL THEN 'pass' WHEN r.finished_at > now() - interval '24 hours' THEN 'warn' ELSE 'pass' END,
        'message', CASE WHEN r.id IS NULL THEN 'no failed attempt on record'
                        ELSE format('migration %s failed %s ago: %s', r.version, date_trunc('second', now() - r.finished_at), r.message) END,
        'details', CASE WHEN r.id IS NULL THEN '{}'::jsonb
                        ELSE jsonb_build_object('version', r.version, 'sqlstate', r.sqlstate, 'at', r.finished_at,
                                                'statement', r.failed_statement) END);

    -- The latest result of every check (a run may have covered one category only).
    SELECT count(*) FILTER (WHERE v.status IN ('fail', 'error') AND v.severity = 'error'),
           count(*) FILTER (WHERE v.status IN ('fail', 'error') AND v.severity <> 'error'), max(v.checked_at)
      INTO n, m, newest
      FROM (SELECT DISTINCT ON (check_name) * FROM pg_migrate.validation_result ORDER BY check_name, id DESC) v;
    checks := checks || jsonb_build_object('name', 'validation',
        'status', CASE WHEN n > 0 THEN 'fail' WHEN m > 0 THEN 'warn'
                       WHEN NOT EXISTS (SELECT 1 FROM pg_migrate.validation_result) THEN 'warn' ELSE 'pass' END,
        'message', CASE WHEN NOT EXISTS (SELECT 1 FROM pg_migrate.validation_result) THEN 'migrate_validate() has never run'
                        ELSE format('last validation: %s failing error check(s), %s failing warning check(s)', n, m) END,
        'details', (SELECT coalesce(jsonb_agg(jsonb_build_object('check', v.check_name, 'status', v.status,
                                                                 'violations', v.violations)
                                              ORDER BY v.check_name), '[]')
                      FROM (SELECT DISTINCT ON (check_name) * FROM pg_migrate.validation_result
                             ORDER BY check_name, id DESC) v
                     WHERE v.status <> 'pass'));

    SELECT count(*) FILTER (WHERE verify_ok = false), count(*), max(created_at) INTO n, m, newest FROM pg_migrate.snapshot;
    checks := checks || jsonb_build_object('name', 'snapshots',
        'status', CASE WHEN n > 0 THEN 'fail'
                       WHEN m > 0 AND (SELECT max(created_at) FROM pg_migrate.snapshot) < now() - interval '7 days' THEN 'warn'
                       ELSE 'pass' END,
        'message', CASE WHEN m = 0 THEN 'no snapshots'
                        ELSE format('%s snapshot(s), %s failed verification, newest %s old', m, n,
                                    date_trunc('second', now() - (SELECT max(created_at) FROM pg_migrate.snapshot))) END,
        'details', jsonb_build_object('snapshots', m, 'failed_verification', n));

    SELECT pg_total_relation_size('pg_migrate.execution_log') + pg_total_relation_size('pg_migrate.rollback_log'),
           (SELECT count(*) FROM pg_migrate.execution_log) INTO log_bytes, n;
    checks := checks || jsonb_build_object('name', 'log_growth',
        'status', CASE WHEN log_bytes > 1024 * 1024 * 1024 THEN 'warn' ELSE 'pass' END,
        'message', format('execution and rollback logs: %s in %s execution row(s)', pg_size_pretty(log_bytes), n),
        'details', jsonb_build_object('bytes', log_bytes, 'execution_rows', n));

    SELECT split_part(p.detail, '/', 1)::int INTO score FROM @extschema@.migrate_preflight() p WHERE p.check_name = 'safety_score';
    RETURN jsonb_build_object(
        'overall', CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(checks) c WHERE c->>'status' = 'fail') THEN 'critical'
                        WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(checks) c WHERE c->>'status' = 'warn') THEN 'warning'
                        ELSE 'healthy' END,
        'checks', checks,
        'safety_score', score);
END
$$;
COMMENT ON FUNCTION migrate_health() IS
    'Health report as jsonb: overall, checks (pending/failed migrations, last failure, validation, snapshots, log growth), safety_score';

REVOKE ALL ON FUNCTION validation_check_add(text, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION validation_check_drop(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_validation_checks(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_validate(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_locks_conflict(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_preflight(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_health() FROM PUBLIC;

-- Batched backfill ------------------------------------------------------------------------

CREATE TABLE pg_migrate.backfill_progress (
    id              bigserial PRIMARY KEY,
    table_oid       oid NOT NULL,
    table_name      text NOT NULL,
    key_column      name NOT NULL,
    set_clause      text NOT NULL,
    where_clause    text,
    batch_size      integer NOT NULL,
    sleep_ms        integer NOT NULL,
    status          text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    rows_done       bigint NOT NULL DEFAULT 0,
    rows_estimated  bigint,
    batches         bigint NOT NULL DEFAULT 0,
    retries         integer NOT NULL DEFAULT 0,
    last_key        text,
    rows_per_second numeric(14, 1),
    max_batch_ms    numeric(14, 3),
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    pid             integer NOT NULL DEFAULT pg_backend_pid(),
    started_by      name NOT NULL DEFAULT session_user,
    error           text
);
CREATE INDEX ON pg_migrate.backfill_progress (table_oid, status);
COMMENT ON TABLE pg_migrate.backfill_progress IS
    'Progress of migrate_backfill() runs, committed after every batch so other sessions can watch';
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.backfill_progress', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.backfill_progress_id_seq', '');
REVOKE ALL ON pg_migrate.backfill_progress FROM PUBLIC;
REVOKE ALL ON SEQUENCE pg_migrate.backfill_progress_id_seq FROM PUBLIC;

CREATE FUNCTION pg_migrate.backfill_clauses_check(set_clause text, where_clause text)
RETURNS void
AS 'MODULE_PATHNAME', 'pgm_backfill_clauses_check'
LANGUAGE C IMMUTABLE;
REVOKE ALL ON FUNCTION pg_migrate.backfill_clauses_check(text, text) FROM PUBLIC;

CREATE FUNCTION pg_migrate.backfill_require_no_transaction_block()
RETURNS void
AS 'MODULE_PATHNAME', 'pgm_backfill_require_no_transaction_block'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION pg_migrate.backfill_require_no_transaction_block() FROM PUBLIC;

-- No SET clause: a procedure that commits cannot have one.
CREATE PROCEDURE migrate_backfill(rel regclass, set_clause text, where_clause text DEFAULT NULL,
                                  batch_size integer DEFAULT 1000, sleep_ms integer DEFAULT 0)
LANGUAGE plpgsql
AS $$
DECLARE
    key_col name;
    key_type text;
    progress_id bigint;
    resume_key text;
    resumed_rows bigint := 0;
    batch_sql text;
    n bigint;
    new_last text;
    t0 timestamptz;
    batch_ms numeric;
    attempt integer;
    max_retries integer;
    base_delay_ms integer;
    max_delay_ms integer;
    delay_ms numeric;
    other_pid integer;
    failure text;
    failure_state text;
    run_started timestamptz := pg_catalog.clock_timestamp();
    estimate bigint;
    plan jsonb;
BEGIN
    IF rel IS NULL OR set_clause IS NULL THEN
        RAISE EXCEPTION 'rel and set_clause must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pg_migrate.backfill_require_no_transaction_block();
    IF batch_size IS NULL OR batch_size < 1 OR batch_size > 1000000 THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 1000000, got %', batch_size USING ERRCODE = '22023';
    END IF;
    IF sleep_ms IS NULL OR sleep_ms < 0 OR sleep_ms > 3600000 THEN
        RAISE EXCEPTION 'sleep_ms must be between 0 and 3600000, got %', sleep_ms USING ERRCODE = '22023';
    END IF;
    IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = rel) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', rel USING ERRCODE = '42809';
    END IF;
    SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) INTO key_col, key_type
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = rel AND i.indisprimary AND i.indnatts = 1;
    IF key_col IS NULL THEN
        RAISE EXCEPTION 'migrate_backfill needs a single-column primary key on %', rel USING ERRCODE = '55000',
              HINT = 'Batches are keyset-paginated on the primary key.';
    END IF;
    -- Each clause must stay one clause, checked with PostgreSQL's parser: nothing may end the
    -- statement it is placed in or change its structure.
    PERFORM pg_migrate.backfill_clauses_check(set_clause, where_clause);
    -- Reject clauses that do not plan before touching anything.
    BEGIN
        EXECUTE pg_catalog.format(E'EXPLAIN UPDATE %s SET %s\n WHERE false', rel, set_clause);
        IF where_clause IS NOT NULL THEN
            EXECUTE pg_catalog.format(E'EXPLAIN SELECT 1 FROM %s WHERE (%s\n)', rel, where_clause);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'invalid backfill clause for %: %', rel, SQLERRM USING ERRCODE = SQLSTATE,
              HINT = 'set_clause is what follows SET in an UPDATE (e.g. ''new_role = old_role''); where_clause a condition.';
    END;

    PERFORM @extschema@.migrate_checksum('');  -- loads the library, so its settings exist
    max_retries := pg_catalog.current_setting('pg_migrate.lock_retries')::int;
    base_delay_ms := extract(epoch FROM pg_catalog.current_setting('pg_migrate.retry_delay')::interval) * 1000;
    max_delay_ms := extract(epoch FROM pg_catalog.current_setting('pg_migrate.retry_max_delay')::interval) * 1000;

    -- Resume an earlier run of the same backfill that did not finish; refuse to run twice.
    -- Finding or creating the progress row is serialized per table; the run itself holds a
    -- session advisory lock on its progress row, which a second session cannot get.
    PERFORM pg_catalog.pg_advisory_xact_lock(1885826410, rel::oid::int);
    SELECT p.id, p.last_key, p.rows_done, p.pid INTO progress_id, resume_key, resumed_rows, other_pid
      FROM pg_migrate.backfill_progress p
     WHERE p.table_oid = rel AND p.set_clause = migrate_backfill.set_clause
       AND p.where_clause IS NOT DISTINCT FROM migrate_backfill.where_clause AND p.status <> 'completed'
     ORDER BY p.id DESC LIMIT 1
       FOR UPDATE;
    resumed_rows := coalesce(resumed_rows, 0);
    IF progress_id IS NOT NULL AND NOT pg_catalog.pg_try_advisory_lock(1885826411, progress_id::int) THEN
        RAISE EXCEPTION 'this backfill of % is already running (backend %)', rel, other_pid USING ERRCODE = '55006',
              HINT = 'migrate_backfill_progress() shows its progress.';
    END IF;
    IF progress_id IS NULL THEN
        -- What the WHERE clause selects, as the planner estimates it.
        EXECUTE pg_catalog.format(E'EXPLAIN (FORMAT JSON) SELECT 1 FROM %s WHERE (%s\n)', rel,
                                  coalesce(where_clause, 'true')) INTO plan;
        estimate := greatest((plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric, 0)::bigint;
        INSERT INTO pg_migrate.backfill_progress (table_oid, table_name, key_column, set_clause, where_clause,
                                                  batch_size, sleep_ms, status, rows_estimated)
        VALUES (rel, rel::text, key_col, migrate_backfill.set_clause, migrate_backfill.where_clause,
                migrate_backfill.batch_size, migrate_backfill.sleep_ms, 'running', estimate)
        RETURNING id INTO progress_id;
        PERFORM pg_catalog.pg_advisory_lock(1885826411, progress_id::int);
    ELSE
        UPDATE pg_migrate.backfill_progress
           SET status = 'running', pid = pg_catalog.pg_backend_pid(), error = NULL, finished_at = NULL,
               batch_size = migrate_backfill.batch_size, sleep_ms = migrate_backfill.sleep_ms,
               updated_at = pg_catalog.clock_timestamp()
         WHERE id = progress_id;
        RAISE NOTICE 'resuming backfill % of % after key % (% rows already done)', progress_id, rel,
                     coalesce(resume_key, '(start)'), resumed_rows;
    END IF;
    COMMIT;

    batch_sql := pg_catalog.format(
        E'WITH done AS (UPDATE %2$s SET %3$s\n WHERE %1$I = ANY (ARRAY(SELECT %1$I FROM %2$s '
        'WHERE ($1::text IS NULL OR %1$I > $1::%4$s)%5$s ORDER BY %1$I LIMIT %6$s)) RETURNING %1$I) '
        'SELECT count(*), max(%1$I)::text FROM done',
        key_col, rel, set_clause, key_type,
        CASE WHEN where_clause IS NULL THEN '' ELSE pg_catalog.format(E' AND (%s\n)', where_clause) END,
        batch_size);
    LOOP
        attempt := 0;
        failure := NULL;
        LOOP
            BEGIN
                PERFORM pg_catalog.set_config('lock_timeout',
                                              pg_catalog.current_setting('pg_migrate.lock_timeout'), true);
                t0 := pg_catalog.clock_timestamp();
                EXECUTE batch_sql USING resume_key INTO n, new_last;
                batch_ms := extract(epoch FROM pg_catalog.clock_timestamp() - t0) * 1000;
                EXIT;
            EXCEPTION
                WHEN lock_not_available OR deadlock_detected THEN
                    attempt := attempt + 1;
                    IF attempt > max_retries THEN
                        failure := pg_catalog.format('%s (after %s retries)', SQLERRM, max_retries);
                        failure_state := SQLSTATE;
                        EXIT;
                    END IF;
                    UPDATE pg_migrate.backfill_progress SET retries = retries + 1 WHERE id = progress_id;
                    delay_ms := least(max_delay_ms, base_delay_ms * 2 ^ (attempt - 1));
                    PERFORM pg_catalog.pg_sleep((delay_ms / 2 + random() * delay_ms / 2) / 1000.0);
                WHEN OTHERS THEN
                    failure := SQLERRM;
                    failure_state := SQLSTATE;
                    EXIT;
            END;
        END LOOP;
        IF failure IS NOT NULL THEN
            UPDATE pg_migrate.backfill_progress
               SET status = 'failed', error = failure, updated_at = pg_catalog.clock_timestamp()
             WHERE id = progress_id;
            COMMIT;
            PERFORM pg_catalog.pg_advisory_unlock(1885826411, progress_id::int);
            RAISE EXCEPTION 'backfill % of % failed after % rows: %', progress_id, rel,
                  (SELECT rows_done FROM pg_migrate.backfill_progress WHERE id = progress_id), failure
                  USING ERRCODE = failure_state,
                        HINT = 'Fix the cause and CALL migrate_backfill again with the same arguments: it resumes after the last committed batch.';
        END IF;
        IF n > 0 THEN
            resume_key := new_last;
        END IF;
        UPDATE pg_migrate.backfill_progress
           SET rows_done = rows_done + n, batches = batches + CASE WHEN n > 0 THEN 1 ELSE 0 END,
               last_key = resume_key, updated_at = pg_catalog.clock_timestamp(),
               max_batch_ms = greatest(coalesce(max_batch_ms, 0), batch_ms),
               rows_per_second = (rows_done + n - resumed_rows)
                                 / greatest(extract(epoch FROM pg_catalog.clock_timestamp() - run_started), 0.001),
               status = CASE WHEN n < migrate_backfill.batch_size THEN 'completed' ELSE 'running' END,
               finished_at = CASE WHEN n < migrate_backfill.batch_size THEN pg_catalog.clock_timestamp() END
         WHERE id = progress_id;
        COMMIT;
        IF n < batch_size THEN
            PERFORM pg_catalog.pg_advisory_unlock(1885826411, progress_id::int);
            EXIT;
        END IF;
        IF sleep_ms > 0 THEN
            PERFORM pg_catalog.pg_sleep(sleep_ms / 1000.0);
        END IF;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE migrate_backfill(regclass, text, text, integer, integer) IS
    'UPDATE a table in keyset-paginated batches on its primary key, committing after each batch, resumable';

CREATE FUNCTION migrate_backfill_progress()
RETURNS TABLE (id bigint, table_name text, status text, rows_done bigint, rows_estimated bigint,
               percent numeric, batches bigint, retries integer, rows_per_second numeric,
               max_batch_ms numeric, last_key text, started_at timestamptz, updated_at timestamptz,
               finished_at timestamptz, eta interval, error text)
LANGUAGE sql STABLE
AS $$
    SELECT p.id, p.table_name, p.status, p.rows_done, p.rows_estimated,
           CASE WHEN p.status = 'completed' THEN 100
                WHEN p.rows_estimated > 0 THEN least(round(100.0 * p.rows_done / p.rows_estimated, 1), 99.9) END,
           p.batches, p.retries, p.rows_per_second, p.max_batch_ms, p.last_key, p.started_at, p.updated_at,
           p.finished_at,
           CASE WHEN p.status = 'running' AND p.rows_per_second > 0 AND p.rows_estimated > p.rows_done
                THEN (p.rows_estimated - p.rows_done) / p.rows_per_second * interval '1 second' END,
           p.error
      FROM pg_migrate.backfill_progress p
     ORDER BY p.id
$$;
COMMENT ON FUNCTION migrate_backfill_progress() IS 'Progress of every backfill, with percent and ETA';

REVOKE ALL ON PROCEDURE migrate_backfill(regclass, text, text, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_backfill_progress() FROM PUBLIC;

-- Snapshots declared by migrations ---------------------------------------------------------

-- The snapshots taken before a migration ran (its "snapshot" option or -- pgmig:snapshot
-- directive), recorded beside each attempt; a rollback can restore from them.
ALTER TABLE pg_migrate.execution_log ADD COLUMN snapshot_ids bigint[];
ALTER TABLE pg_migrate.execution_log DROP CONSTRAINT execution_log_phase_check,
    ADD CONSTRAINT execution_log_phase_check CHECK (phase IN ('up', 'verify', 'down', 'snapshot', 'restore'));

-- Migrations run outside a transaction, statement by statement, by pgmig ----------------------

-- Progress of a no-transaction migration run by pgmig: one row per statement that finished,
-- so that after a crash or a failure the next `pgmig up` resumes at the first unfinished one.
CREATE TABLE pg_migrate.statement_progress (
    version          text NOT NULL,
    run_id           bigint NOT NULL,
    checksum         text NOT NULL,
    statement_number integer NOT NULL,
    status           text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    sqlstate         text,
    message          text,
    finished_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (version, run_id, statement_number)
);
COMMENT ON TABLE pg_migrate.statement_progress IS
    'Statements of no-transaction migrations run by pgmig, for resuming after a failure';
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.statement_progress', '');
REVOKE ALL ON pg_migrate.statement_progress FROM PUBLIC;

-- Starts or resumes the run of a no-transaction migration: the run id to report progress
-- under, and the first statement still to run (1 for a new run).
CREATE FUNCTION migrate_external_begin(version text)
RETURNS TABLE (run_id bigint, resume_from integer, statement_count integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    m record;
    last_run bigint;
BEGIN
    SELECT * INTO m FROM pg_migrate.migration g WHERE g.version = migrate_external_begin.version;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'migration % is not registered', left(version, 64) USING ERRCODE = '22023';
    END IF;
    IF m.state = 'applied' THEN
        RAISE EXCEPTION 'migration % (%) is already applied', m.version, m.name USING ERRCODE = '55000';
    END IF;
    IF NOT m.requires_no_transaction THEN
        RAISE EXCEPTION 'migration % (%) runs in a transaction; apply it with migrate_execute()', m.version, m.name
              USING ERRCODE = '55000';
    END IF;
    -- The latest run of the same script that did not finish resumes; an edited script starts over.
    SELECT p.run_id INTO last_run
      FROM pg_migrate.statement_progress p
     WHERE p.version = m.version AND p.checksum = m.checksum
       AND NOT EXISTS (SELECT 1 FROM pg_migrate.execution_log l
                        WHERE l.run_id = p.run_id AND l.version = m.version AND l.status = 'succeeded')
     ORDER BY p.run_id DESC LIMIT 1;
    run_id := coalesce(last_run, nextval('pg_migrate.run_id_seq'));
    resume_from := coalesce((SELECT max(p.statement_number) FROM pg_migrate.statement_progress p
                              WHERE p.version = m.version AND p.run_id = migrate_external_begin.run_id
                                AND p.status = 'succeeded'), 0) + 1;
    statement_count := m.statement_count;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION migrate_external_begin(text) IS
    'pgmig: start or resume running a no-transaction migration statement by statement';

CREATE FUNCTION migrate_external_statement(version text, run_id bigint, statement_number integer,
                                           succeeded boolean, sqlstate text DEFAULT NULL,
                                           message text DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO pg_migrate.statement_progress (version, run_id, checksum, statement_number, status, sqlstate, message)
    SELECT m.version, run_id, m.checksum, statement_number,
           CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END, sqlstate, message
      FROM pg_migrate.migration m WHERE m.version = migrate_external_statement.version
    ON CONFLICT (version, run_id, statement_number) DO UPDATE
       SET status = EXCLUDED.status, sqlstate = EXCLUDED.sqlstate, message = EXCLUDED.message,
           finished_at = EXCLUDED.finished_at
$$;
COMMENT ON FUNCTION migrate_external_statement(text, bigint, integer, boolean, text, text) IS
    'pgmig: record that one statement of a no-transaction migration finished';

CREATE FUNCTION migrate_external_finish(version text, run_id bigint, succeeded boolean,
                                        duration_ms numeric, sqlstate text DEFAULT NULL,
                                        message text DEFAULT NULL, failed_statement text DEFAULT NULL,
                                        statement_number integer DEFAULT NULL,
                                        operation text DEFAULT 'execute')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    m record;
    log_id bigint;
    run bigint := coalesce(run_id, nextval('pg_migrate.run_id_seq'));
BEGIN
    SELECT * INTO m FROM pg_migrate.migration g WHERE g.version = migrate_external_finish.version FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'migration % is not registered', left(version, 64) USING ERRCODE = '22023';
    END IF;
    IF operation NOT IN ('execute', 'rollback') THEN
        RAISE EXCEPTION 'operation must be execute or rollback, got %', left(operation, 20) USING ERRCODE = '22023';
    END IF;
    IF operation = 'rollback' AND succeeded THEN
        UPDATE pg_migrate.migration g
           SET state = 'rolled_back', applied_at = NULL, applied_by = NULL, applied_checksum = NULL,
               duration_ms = NULL, last_error = NULL
         WHERE g.version = m.version;
    ELSIF operation = 'rollback' THEN
        UPDATE pg_migrate.migration g
           SET last_error = format('rollback failed: %s: %s (down statement %s)', migrate_external_finish.sqlstate,
                                   migrate_external_finish.message, migrate_external_finish.statement_number)
         WHERE g.version = m.version;
    ELSIF succeeded THEN
        UPDATE pg_migrate.migration g
           SET state = 'applied', applied_at = now(), applied_by = session_user, applied_checksum = g.checksum,
               duration_ms = migrate_external_finish.duration_ms, last_error = NULL
         WHERE g.version = m.version;
    ELSE
        UPDATE pg_migrate.migration g
           SET state = 'failed',
               last_error = format('%s: %s (up statement %s)', migrate_external_finish.sqlstate,
                                   migrate_external_finish.message, migrate_external_finish.statement_number)
         WHERE g.version = m.version;
    END IF;
    INSERT INTO pg_migrate.execution_log (run_id, version, name, operation, status, attempt, atomic, phase,
        started_at, finished_at, duration_ms, checksum, sqlstate, message, failed_statement, statement_number,
        lock_timeout_ms, extension_version)
    VALUES (run, m.version, m.name, operation, CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END, 1, false,
            CASE WHEN operation = 'execute' THEN 'up' ELSE 'down' END,
            clock_timestamp() - migrate_external_finish.duration_ms * interval '1 millisecond',
            clock_timestamp(), migrate_external_finish.duration_ms, m.checksum, migrate_external_finish.sqlstate,
            coalesce(migrate_external_finish.message,
                     CASE WHEN succeeded THEN 'run outside a transaction by pgmig' END),
            failed_statement, migrate_external_finish.statement_number,
            extract(epoch FROM current_setting('lock_timeout')::interval) * 1000,
            (SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'))
    RETURNING id INTO log_id;
    IF succeeded AND has_function_privilege('pg_migrate.record_schema_fingerprint(bigint)', 'EXECUTE')
       AND has_table_privilege('pg_migrate.schema_fingerprint', 'INSERT')
       AND has_sequence_privilege('pg_migrate.schema_fingerprint_id_seq', 'USAGE')
       AND has_function_privilege('@extschema@.migrate_schema_fingerprint()', 'EXECUTE') THEN
        PERFORM pg_migrate.record_schema_fingerprint(run);
    END IF;
    IF operation = 'rollback' AND succeeded THEN
        INSERT INTO pg_migrate.rollback_log (run_id, execution_log_id, version, name, reason, message, extension_version)
        VALUES (run, log_id, m.version, m.name, 'requested', 'down script run outside a transaction by pgmig',
                (SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'));
    END IF;
END
$$;
COMMENT ON FUNCTION migrate_external_finish(text, bigint, boolean, numeric, text, text, text, integer, text) IS
    'pgmig: record the outcome of a no-transaction migration run statement by statement';

REVOKE ALL ON FUNCTION migrate_external_begin(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_external_statement(text, bigint, integer, boolean, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_external_finish(text, bigint, boolean, numeric, text, text, text, integer, text) FROM PUBLIC;

-- Schema fingerprint and drift ------------------------------------------------------------

-- The user-visible schema as one jsonb object: a key per object (table, column, index,
-- constraint, view, sequence, function, type, trigger) and a canonical definition as its
-- value. pg_migrate's own objects, extension members and system schemas are left out.
CREATE FUNCTION migrate_schema_fingerprint()
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
WITH schemas AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_migrate', 'pg_migrate_snapshots')
       AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'
), ext_members AS (
    SELECT d.classid, d.objid FROM pg_depend d WHERE d.deptype = 'e'
), rels AS (
    SELECT c.oid, c.relkind, format('%I.%I', s.nspname, c.relname) AS name
      FROM pg_class c JOIN schemas s ON s.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND NOT EXISTS (SELECT 1 FROM ext_members e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
), objects(key, definition) AS (
    SELECT CASE r.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                          WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' ELSE 'foreign table' END
           || ' ' || r.name,
           CASE WHEN r.relkind IN ('v', 'm') THEN pg_get_viewdef(r.oid) ELSE r.relkind::text END
      FROM rels r
    UNION ALL
    SELECT format('column %s.%I', r.name, a.attname),
           format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
           || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE r.relkind IN ('r', 'p', 'f')
    UNION ALL
    SELECT format('index %I.%I', s.nspname, c.relname), pg_get_indexdef(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN schemas s ON s.oid = c.relnamespace
     WHERE i.indrelid IN (SELECT oid FROM rels)
    UNION ALL
    SELECT format('constraint %s.%I', r.name, con.conname), pg_get_constraintdef(con.oid)
      FROM pg_constraint con JOIN rels r ON r.oid = con.conrelid
    UNION ALL
    SELECT format('function %s', p.oid::regprocedure), md5(pg_get_functiondef(p.oid))
      FROM pg_proc p JOIN schemas s ON s.oid = p.pronamespace
     WHERE p.prokind IN ('f', 'p', 'w')
       AND NOT EXISTS (SELECT 1 FROM ext_members e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
    UNION ALL
    SELECT format('type %s', t.oid::regtype),
           CASE t.typtype WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                           FROM pg_enum e WHERE e.enumtypid = t.oid)
                          ELSE t.typtype::text END
      FROM pg_type t JOIN schemas s ON s.oid = t.typnamespace
     WHERE t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
    UNION ALL
    SELECT format('trigger %s.%I', r.name, tg.tgname), pg_get_triggerdef(tg.oid)
      FROM pg_trigger tg JOIN rels r ON r.oid = tg.tgrelid
     WHERE NOT tg.tgisinternal
)
SELECT coalesce(jsonb_object_agg(key, definition), '{}') FROM objects
$$;
COMMENT ON FUNCTION migrate_schema_fingerprint() IS
    'The user schema as jsonb: one key per object, its canonical definition as value';

-- The fingerprint after every migrate_execute / migrate_rollback call and pgmig run that
-- changed something: what `pgmig drift` compares the live schema with.
CREATE TABLE pg_migrate.schema_fingerprint (
    id           bigserial PRIMARY KEY,
    run_id       bigint,
    last_version text,
    taken_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    fingerprint  jsonb NOT NULL,
    hash         text NOT NULL
);
COMMENT ON TABLE pg_migrate.schema_fingerprint IS
    'Schema fingerprints recorded after migrations, for drift detection';
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.schema_fingerprint', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.schema_fingerprint_id_seq', '');
REVOKE ALL ON pg_migrate.schema_fingerprint FROM PUBLIC;
REVOKE ALL ON SEQUENCE pg_migrate.schema_fingerprint_id_seq FROM PUBLIC;

CREATE FUNCTION pg_migrate.record_schema_fingerprint(run_id bigint)
RETURNS void
LANGUAGE sql VOLATILE
AS $$
    INSERT INTO pg_migrate.schema_fingerprint (run_id, last_version, fingerprint, hash)
    SELECT record_schema_fingerprint.run_id,
           (SELECT version FROM pg_migrate.migration WHERE state = 'applied' ORDER BY version_order DESC LIMIT 1),
           f, md5(f::text)
      FROM (SELECT @extschema@.migrate_schema_fingerprint() AS f) x
$$;
REVOKE ALL ON FUNCTION pg_migrate.record_schema_fingerprint(bigint) FROM PUBLIC;

-- What changed in the schema since the last recorded fingerprint.
CREATE FUNCTION migrate_drift()
RETURNS TABLE (change text, object text, recorded text, live text)
LANGUAGE sql STABLE
AS $$
    WITH recorded AS (
        SELECT fingerprint FROM pg_migrate.schema_fingerprint ORDER BY id DESC LIMIT 1
    ), live AS (
        SELECT @extschema@.migrate_schema_fingerprint() AS fingerprint
    ), r AS (SELECT key, value #>> '{}' AS def FROM recorded, jsonb_each(recorded.fingerprint)),
       l AS (SELECT key, value #>> '{}' AS def FROM live, jsonb_each(live.fingerprint))
    SELECT CASE WHEN r.key IS NULL THEN 'added' WHEN l.key IS NULL THEN 'removed' ELSE 'changed' END,
           coalesce(l.key, r.key), r.def, l.def
      FROM r FULL JOIN l ON l.key = r.key
     WHERE EXISTS (SELECT 1 FROM recorded)
       AND (r.key IS NULL OR l.key IS NULL OR r.def IS DISTINCT FROM l.def)
     ORDER BY 2
$$;
COMMENT ON FUNCTION migrate_drift() IS
    'Objects added, removed or changed out of band since the schema fingerprint recorded after the last migration';

REVOKE ALL ON FUNCTION migrate_schema_fingerprint() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate_drift() FROM PUBLIC;

-- Seeds (pgmig seed) ------------------------------------------------------------------------

-- Seed files applied by pgmig seed, by checksum: like repeatable migrations, a seed runs
-- again when its file changed and is skipped when it did not.
CREATE TABLE pg_migrate.seed (
    file        text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  name NOT NULL DEFAULT session_user,
    duration_ms numeric(14, 3),
    runs        integer NOT NULL DEFAULT 1
);
COMMENT ON TABLE pg_migrate.seed IS 'Seed files applied by pgmig seed, with the checksum of what ran';
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.seed', '');
REVOKE ALL ON pg_migrate.seed FROM PUBLIC;

-- Adopting a history from another tool (pgmig adopt) ---------------------------------------

-- Marks a registered migration as applied without running it: its effects are already in
-- the database (applied by dbmate, golang-migrate or Flyway before the switch to pgmig).
CREATE FUNCTION migrate_baseline(version text, note text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
DECLARE
    m record;
BEGIN
    SELECT * INTO m FROM pg_migrate.migration g WHERE g.version = migrate_baseline.version FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'migration % is not registered', left(version, 64) USING ERRCODE = '22023';
    END IF;
    IF m.state = 'applied' THEN
        RETURN 'already applied';
    END IF;
    UPDATE pg_migrate.migration g
       SET state = 'applied', applied_at = now(), applied_by = session_user, applied_checksum = g.checksum,
           duration_ms = 0, last_error = NULL
     WHERE g.version = m.version;
    INSERT INTO pg_migrate.execution_log (run_id, version, name, operation, status, attempt, atomic, phase,
        started_at, finished_at, duration_ms, checksum, message, lock_timeout_ms, extension_version)
    VALUES (nextval('pg_migrate.run_id_seq'), m.version, m.name, 'execute', 'succeeded', 1, false, NULL,
            clock_timestamp(), clock_timestamp(), 0, m.checksum, left(coalesce(note, 'baselined'), 500), 0,
            (SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'));
    RETURN 'baselined';
END
$$;
COMMENT ON FUNCTION migrate_baseline(text, text) IS
    'Mark a registered migration applied without running it (history adopted from another tool)';
REVOKE ALL ON FUNCTION migrate_baseline(text, text) FROM PUBLIC;
