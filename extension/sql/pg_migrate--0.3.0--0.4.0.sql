-- pg_migrate 0.3.0 -> 0.4.0: closes the privilege-escalation and data-loss paths of issue 9.
\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.4.0'" to load this file. \quit

-- A hostile search_path ----------------------------------------------------------------------
-- Every SQL and PL/pgSQL function pins search_path = pg_catalog, pg_temp. Where a function must
-- resolve names the caller wrote (tables named in pending migrations, user check SQL), a thin
-- SQL wrapper without a SET clause passes the caller's search_path in, and the pinned worker
-- switches to it only for the statement that resolves or runs the user's text, whose own parts
-- are schema-qualified (docs/security.md).

ALTER FUNCTION migrate_status() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION snapshot_list() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION snapshot_drop(bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION snapshot_prune(integer, interval, regclass) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION validation_check_add(text, text, text, text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION validation_check_drop(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_locks_conflict(text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_backfill_progress() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_external_begin(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_external_statement(text, bigint, integer, boolean, text, text)
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_external_finish(text, bigint, boolean, numeric, text, text, text, integer, text)
    SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_schema_fingerprint() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION pg_migrate.record_schema_fingerprint(bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_drift() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_baseline(text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION migrate_activity() SET search_path = pg_catalog, pg_temp;

-- Resolves a table name the user wrote with the user's search_path (the SET clause restores
-- the pinned one when the function returns).
CREATE FUNCTION pg_migrate.regclass_in_path(relation_name text, caller_path text)
RETURNS regclass
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF relation_name IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM pg_catalog.set_config('search_path', coalesce(caller_path, ''), true);
    RETURN pg_catalog.to_regclass(relation_name);
END
$$;
REVOKE ALL ON FUNCTION pg_migrate.regclass_in_path(text, text) FROM PUBLIC;

-- A table's name as the caller writes it (schema-qualified only when not on the caller's
-- path): validation check names stay what they were before search_path was pinned.
CREATE FUNCTION pg_migrate.relation_name_in_path(rel oid, caller_path text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.set_config('search_path', coalesce(caller_path, ''), true);
    RETURN rel::pg_catalog.regclass::pg_catalog.text;
END
$$;
REVOKE ALL ON FUNCTION pg_migrate.relation_name_in_path(oid, text) FROM PUBLIC;

-- The analyses of a script as its migration would see it: with the caller's search_path.
CREATE FUNCTION pg_migrate.statement_locks_in_path(script text, caller_path text)
RETURNS TABLE (statement_number integer, command text, table_name text, lock_mode text, relid oid)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.set_config('search_path', coalesce(caller_path, ''), true);
    RETURN QUERY SELECT l.statement_number, l.command, l.table_name, l.lock_mode,
                        pg_catalog.to_regclass(l.table_name)::pg_catalog.oid
                   FROM @extschema@.migrate_statement_locks(script) l;
END
$$;
REVOKE ALL ON FUNCTION pg_migrate.statement_locks_in_path(text, text) FROM PUBLIC;

CREATE FUNCTION pg_migrate.lint_in_path(script text, caller_path text)
RETURNS TABLE (statement_number integer, statement text, rule text, severity text,
               message text, alternative text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.set_config('search_path', coalesce(caller_path, ''), true);
    RETURN QUERY SELECT f.statement_number, f.statement, f.rule, f.severity, f.message, f.alternative
                   FROM @extschema@.migrate_lint(script) f;
END
$$;
REVOKE ALL ON FUNCTION pg_migrate.lint_in_path(text, text) FROM PUBLIC;

CREATE FUNCTION pg_migrate.data_expectations_in_path(script text, caller_path text)
RETURNS TABLE (statement_number integer, kind text, table_name text, columns text[],
               expression text, constraint_desc text, relid oid)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.set_config('search_path', coalesce(caller_path, ''), true);
    RETURN QUERY SELECT e.statement_number, e.kind, e.table_name, e.columns, e.expression,
                        e.constraint_desc, pg_catalog.to_regclass(e.table_name)::pg_catalog.oid
                   FROM @extschema@.migrate_data_expectations(script) e;
END
$$;
REVOKE ALL ON FUNCTION pg_migrate.data_expectations_in_path(text, text) FROM PUBLIC;

-- Validation -------------------------------------------------------------------------------
-- Every generated check is safe under any search_path (schema-qualified functions, operators
-- and types; a foreign key's own equality operators), because checks run with the caller's
-- search_path: a pending migration's CHECK expression must mean what it will mean when the
-- migration runs.
CREATE FUNCTION pg_migrate.validation_checks(only_category text, caller_path text)
RETURNS TABLE (check_name text, category text, severity text, check_sql text, description text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
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
           string_agg(format('p.%I OPERATOR(%I.%s) c.%I', pa.attname, opn.nspname, op.oprname, a.attname),
                      ' AND ' ORDER BY k.ord) AS join_on
      FROM pg_constraint con
      JOIN user_tables t ON t.oid = con.conrelid
     CROSS JOIN LATERAL unnest(con.conkey, con.confkey, con.conpfeqop) WITH ORDINALITY AS k(ck, pk, eqop, ord)
      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.ck
      JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.pk
      JOIN pg_operator op ON op.oid = k.eqop
      JOIN pg_namespace opn ON opn.oid = op.oprnamespace
     WHERE con.contype = 'f' AND con.conparentid = 0
     GROUP BY con.oid, con.conname, con.conrelid, con.confrelid, con.convalidated
), pending AS (
    SELECT m.version, e.kind, e.relid::regclass AS rel, e.columns, e.expression, e.constraint_desc
      FROM pg_migrate.migration m
     CROSS JOIN LATERAL pg_migrate.data_expectations_in_path(m.up_sql, caller_path) e
     WHERE m.state <> 'applied' AND e.relid IS NOT NULL
), builtin AS (
    SELECT format('orphaned_rows.%s.%s', pg_migrate.relation_name_in_path(f.conrelid, caller_path), f.conname),
           'relationships', 'error',
           format('SELECT %s FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
                  f.cols, f.conrelid::regclass, f.not_null, f.confrelid::regclass, f.join_on),
           format('rows of %s whose %s has no match in %s%s', f.conrelid::regclass, f.conname,
                  f.confrelid::regclass, CASE WHEN f.convalidated THEN '' ELSE ' (constraint is NOT VALID)' END)
      FROM fks f
    UNION ALL
    SELECT 'invalid_indexes', 'performance', 'warning',
           $q$SELECT indexrelid::pg_catalog.regclass AS index, indrelid::pg_catalog.regclass AS "table" FROM pg_catalog.pg_index WHERE NOT indisvalid$q$,
           'indexes left invalid, e.g. by a failed CREATE INDEX CONCURRENTLY'
    UNION ALL
    SELECT 'tables_without_primary_key', 'schema', 'warning',
           $q$SELECT c.oid::pg_catalog.regclass AS "table" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
               WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog."char"[]) AND NOT c.relispartition
                 AND n.nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema,pg_migrate,pg_migrate_snapshots}'::pg_catalog.name[])
                 AND n.nspname OPERATOR(pg_catalog.!~) '^pg_toast'::pg_catalog.text AND n.nspname OPERATOR(pg_catalog.!~) '^pg_temp'::pg_catalog.text
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conrelid OPERATOR(pg_catalog.=) c.oid AND k.contype OPERATOR(pg_catalog.=) 'p'::pg_catalog."char")$q$,
           'tables without a primary key (logical replication, batched backfills and many tools need one)'
    UNION ALL
    SELECT format('pending_%s.%s.%s.%s', p.kind, p.version, pg_migrate.relation_name_in_path(p.rel, caller_path),
                  coalesce(nullif(array_to_string(p.columns, '_'), ''),
                           nullif(regexp_replace(p.constraint_desc, '^CHECK ?', ''), ''), 'check')),
           'integrity', 'error',
           CASE p.kind
             WHEN 'unique' THEN format('SELECT %s, pg_catalog.count(*) AS copies FROM %s WHERE %s GROUP BY %s HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1',
                                       cols.list, p.rel, cols.none_null, cols.list)
             WHEN 'not_null' THEN format('SELECT %s FROM %s WHERE %s', pk.list, p.rel, cols.any_null)
             WHEN 'enum' THEN format('SELECT %s FROM %s WHERE %I IS NOT NULL AND %I::pg_catalog.text OPERATOR(pg_catalog.<>) ALL (ARRAY[%s]::pg_catalog.text[])',
                                     pk.list, p.rel, p.columns[1], p.columns[1], p.expression)
             ELSE format(E'SELECT %s FROM %s WHERE NOT (%s\n)', pk.list, p.rel, p.expression)
           END,
           format('migration %s adds %s on %s: existing rows that would make it fail',
                  p.version, p.constraint_desc, p.rel)
      FROM pending p
     CROSS JOIN LATERAL (SELECT string_agg(format('%I', c), ', ') AS list,
                                string_agg(format('%I IS NULL', c), ' OR ') AS any_null,
                                string_agg(format('%I IS NOT NULL', c), ' AND ') AS none_null
                           FROM unnest(p.columns) AS c) cols
     -- Offending rows are identified by their primary key, or by ctid without one.
     CROSS JOIN LATERAL (SELECT coalesce(string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum), 'ctid') AS list
                           FROM pg_index i
                           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                          WHERE i.indrelid = p.rel AND i.indisprimary) pk
     WHERE p.kind <> 'check' OR p.expression IS NOT NULL
)
SELECT b.* FROM builtin b(check_name, category, severity, check_sql, description)
 WHERE only_category IS NULL OR b.category = only_category
UNION ALL
SELECT v.name, v.category, v.severity, v.check_sql, v.description
  FROM pg_migrate.validation_check v
 WHERE v.enabled AND (only_category IS NULL OR v.category = only_category)
$$;
REVOKE ALL ON FUNCTION pg_migrate.validation_checks(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION migrate_validation_checks(category text DEFAULT NULL)
RETURNS TABLE (check_name text, category text, severity text, check_sql text, description text)
LANGUAGE sql STABLE
AS $$ SELECT * FROM pg_migrate.validation_checks($1, pg_catalog.current_setting('search_path')) $$;

-- Runs every check as exactly one SELECT: the check's text is split by PostgreSQL's parser with
-- this session's settings, right before it runs, and opened as a cursor (which refuses more
-- than one statement). Each check runs in a subtransaction that is always rolled back.
CREATE FUNCTION pg_migrate.validate_run(only_category text, caller_path text)
RETURNS TABLE (check_name text, category text, severity text, status text, violations bigint,
               sample jsonb, message text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chk record;
    run bigint;
    started timestamptz;
    n bigint;
    rows_sample jsonb;
    msg text;
    st text;
    parts integer;
    cmd text;
    one_select text;
    cur refcursor;
BEGIN
    IF only_category IS NOT NULL AND only_category NOT IN ('schema', 'integrity', 'relationships', 'business', 'performance') THEN
        RAISE EXCEPTION 'invalid category "%"', left(only_category, 64) USING ERRCODE = '22023',
              HINT = 'Categories: schema, integrity, relationships, business, performance.';
    END IF;
    run := nextval('pg_migrate.run_id_seq');
    FOR chk IN SELECT * FROM pg_migrate.validation_checks(only_category, caller_path) c ORDER BY c.category, c.check_name LOOP
        started := clock_timestamp();
        n := NULL; rows_sample := NULL; msg := NULL; st := NULL;
        BEGIN
            SELECT count(*), (array_agg(s.command ORDER BY s.statement_number))[1],
                   (array_agg(s.statement ORDER BY s.statement_number))[1]
              INTO parts, cmd, one_select
              FROM @extschema@.migrate_statements(chk.check_sql) s;
            IF parts <> 1 OR cmd IS DISTINCT FROM 'SELECT' THEN
                RAISE EXCEPTION 'the check is not exactly one SELECT (% statement(s), the first is %)',
                      parts, coalesce(cmd, 'none') USING ERRCODE = '42601';
            END IF;
            -- The user's text runs with the caller's search_path; the wrapper around it is
            -- schema-qualified. The subtransaction's rollback restores the pinned path.
            PERFORM set_config('search_path', coalesce(caller_path, ''), true);
            OPEN cur NO SCROLL FOR EXECUTE
                pg_catalog.format(E'WITH offending AS MATERIALIZED (%s\n) '
                       'SELECT (SELECT pg_catalog.count(*) FROM offending), '
                       '       (SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(o)) FROM (SELECT * FROM offending LIMIT 5) o)',
                       one_select);
            FETCH cur INTO n, rows_sample;
            CLOSE cur;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
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
REVOKE ALL ON FUNCTION pg_migrate.validate_run(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION migrate_validate(category text DEFAULT NULL)
RETURNS TABLE (check_name text, category text, severity text, status text, violations bigint,
               sample jsonb, message text)
LANGUAGE sql VOLATILE
AS $$ SELECT * FROM pg_migrate.validate_run($1, pg_catalog.current_setting('search_path')) $$;

DROP FUNCTION pg_migrate.validate_run(text);

-- Pre-flight and health --------------------------------------------------------------------

CREATE FUNCTION pg_migrate.preflight_checks(target text, caller_path text)
RETURNS TABLE (check_name text, status text, critical boolean, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
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
    -- Table names resolve with the caller's search_path, as the migrations' own will.
    SELECT array_agg(m.version), array_agg(l.relid), array_agg(l.lock_mode)
      INTO t_version, t_relid, t_mode
      FROM pg_migrate.migration m
     CROSS JOIN LATERAL pg_migrate.statement_locks_in_path(m.up_sql, caller_path) l
     WHERE m.state <> 'applied' AND (target IS NULL OR m.version_order <= target::numeric)
       AND l.relid IS NOT NULL;

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
      FROM pg_migrate.migration m CROSS JOIN LATERAL pg_migrate.lint_in_path(m.up_sql, caller_path) f
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
COMMENT ON FUNCTION pg_migrate.preflight_checks(text, text) IS
    'The pre-flight checks, without the score (preflight_report adds it)';
REVOKE ALL ON FUNCTION pg_migrate.preflight_checks(text, text) FROM PUBLIC;

CREATE FUNCTION pg_migrate.preflight_report(target text, caller_path text)
RETURNS TABLE (check_name text, status text, critical boolean, detail text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH checks AS MATERIALIZED (
        SELECT row_number() OVER () AS ord, c.* FROM pg_migrate.preflight_checks(target, caller_path) c
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
REVOKE ALL ON FUNCTION pg_migrate.preflight_report(text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION migrate_preflight(target text DEFAULT NULL)
RETURNS TABLE (check_name text, status text, critical boolean, detail text)
LANGUAGE sql VOLATILE
AS $$ SELECT * FROM pg_migrate.preflight_report($1, pg_catalog.current_setting('search_path')) $$;

DROP FUNCTION pg_migrate.preflight_checks(text);

CREATE FUNCTION pg_migrate.health_report(caller_path text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
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

    SELECT split_part(p.detail, '/', 1)::int INTO score FROM pg_migrate.preflight_report(NULL, caller_path) p WHERE p.check_name = 'safety_score';
    RETURN jsonb_build_object(
        'overall', CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(checks) c WHERE c->>'status' = 'fail') THEN 'critical'
                        WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(checks) c WHERE c->>'status' = 'warn') THEN 'warning'
                        ELSE 'healthy' END,
        'checks', checks,
        'safety_score', score);
END
$$;
REVOKE ALL ON FUNCTION pg_migrate.health_report(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION migrate_health()
RETURNS jsonb
LANGUAGE sql VOLATILE
AS $$ SELECT pg_migrate.health_report(pg_catalog.current_setting('search_path')) $$;

-- Snapshots ----------------------------------------------------------------------------------
-- The identity of each snapshot's table, recorded when it is taken: a restore trusts the
-- table with that OID in pg_migrate_snapshots (and its owner's rights), never a name in an
-- editable catalog row. Snapshots taken before 0.4.0 get the OID their table has now.
ALTER TABLE pg_migrate.snapshot ADD COLUMN snapshot_oid oid;
UPDATE pg_migrate.snapshot s
   SET snapshot_oid = pg_catalog.to_regclass(pg_catalog.format('pg_migrate_snapshots.%I', s.snapshot_table))
 WHERE s.snapshot_oid IS NULL;

-- Parser-based functions depend on standard_conforming_strings: not IMMUTABLE.
ALTER FUNCTION migrate_statements(text) STABLE;
ALTER FUNCTION pg_migrate.backfill_clauses_check(text, text) STABLE;

-- Batched backfill --------------------------------------------------------------------------

CREATE FUNCTION pg_migrate.backfill_set_columns(set_clause text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'pgm_backfill_set_columns'
LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION pg_migrate.backfill_set_columns(text) FROM PUBLIC;

-- A key as text that reads back as the same value in any session (fixed DateStyle,
-- IntervalStyle, extra_float_digits, TimeZone, bytea_output), and back.
CREATE FUNCTION pg_migrate.backfill_key_text(anyelement)
RETURNS text
AS 'MODULE_PATHNAME', 'pgm_backfill_key_text'
LANGUAGE C STABLE STRICT;
REVOKE ALL ON FUNCTION pg_migrate.backfill_key_text(anyelement) FROM PUBLIC;

CREATE FUNCTION pg_migrate.backfill_key_value(text, anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'pgm_backfill_key_value'
LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION pg_migrate.backfill_key_value(text, anyelement) FROM PUBLIC;

-- The procedure commits after each batch, so it cannot carry a SET clause: it pins
-- search_path with SET LOCAL at the start of every transaction it runs in (the first thing
-- after BEGIN and after each COMMIT), and switches to the caller's search_path only around
-- the statements that contain the caller's clauses, whose own parts are schema-qualified
-- (operators of the key's default btree operator class). Each batch selects its keys first;
-- completion and the resume key come from those keys, not from the rows the UPDATE reached.
CREATE OR REPLACE PROCEDURE migrate_backfill(rel regclass, set_clause text, where_clause text DEFAULT NULL,
                                             batch_size integer DEFAULT 1000, sleep_ms integer DEFAULT 0)
LANGUAGE plpgsql
AS $$
DECLARE
    caller_path text := pg_catalog.current_setting('search_path');
    key_col name;
    key_type text;
    key_typid oid;
    gt_op text;
    eq_op text;
    progress_id bigint;
    resume_key text;
    resumed_rows bigint := 0;
    batch_sql text;
    selected bigint;
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
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
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
    IF (SELECT relkind FROM pg_class WHERE oid = rel) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', rel USING ERRCODE = '42809';
    END IF;
    SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid INTO key_col, key_type, key_typid
      FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = rel AND i.indisprimary AND i.indnatts = 1;
    IF key_col IS NULL THEN
        RAISE EXCEPTION 'migrate_backfill needs a single-column primary key on %', rel USING ERRCODE = '55000',
              HINT = 'Batches are keyset-paginated on the primary key.';
    END IF;
    -- The key's ordering: the > and = of the default btree operator class the primary key's
    -- index uses, schema-qualified, so ORDER BY and the resume condition agree.
    SELECT format('OPERATOR(%I.%s)', gn.nspname, gt.oprname), format('OPERATOR(%I.%s)', en.nspname, eq.oprname)
      INTO gt_op, eq_op
      FROM pg_index i
      JOIN pg_opclass oc ON oc.oid = i.indclass[0]
      JOIN pg_amop ga ON ga.amopfamily = oc.opcfamily AND ga.amopstrategy = 5
                     AND ga.amoplefttype = oc.opcintype AND ga.amoprighttype = oc.opcintype
      JOIN pg_operator gt ON gt.oid = ga.amopopr JOIN pg_namespace gn ON gn.oid = gt.oprnamespace
      JOIN pg_amop ea ON ea.amopfamily = oc.opcfamily AND ea.amopstrategy = 3
                     AND ea.amoplefttype = oc.opcintype AND ea.amoprighttype = oc.opcintype
      JOIN pg_operator eq ON eq.oid = ea.amopopr JOIN pg_namespace en ON en.oid = eq.oprnamespace
     WHERE i.indrelid = rel AND i.indisprimary;
    IF gt_op IS NULL THEN
        RAISE EXCEPTION 'the primary key of % is not a btree key with an ordering', rel USING ERRCODE = '55000';
    END IF;
    -- Each clause must stay one clause, checked with PostgreSQL's parser: nothing may end the
    -- statement it is placed in or change its structure.
    PERFORM pg_migrate.backfill_clauses_check(set_clause, where_clause);
    IF key_col::text = ANY (pg_migrate.backfill_set_columns(set_clause)) THEN
        RAISE EXCEPTION 'set_clause assigns the key column % of %', key_col, rel USING ERRCODE = '42601',
              DETAIL = 'Batches are paginated on that key; changing it would make the run skip or repeat rows.',
              HINT = 'Backfill into a new column, then switch the key in a migration.';
    END IF;
    -- Reject clauses that do not plan before touching anything (with the caller's names).
    BEGIN
        PERFORM set_config('search_path', caller_path, true);
        EXECUTE pg_catalog.format(E'EXPLAIN UPDATE %s SET %s\n WHERE false', rel, set_clause);
        IF where_clause IS NOT NULL THEN
            EXECUTE pg_catalog.format(E'EXPLAIN SELECT 1 FROM %s WHERE (%s\n)', rel, where_clause);
        END IF;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'invalid backfill clause for %: %', rel, SQLERRM USING ERRCODE = SQLSTATE,
              HINT = 'set_clause is what follows SET in an UPDATE (e.g. ''new_role = old_role''); where_clause a condition.';
    END;

    PERFORM @extschema@.migrate_checksum('');  -- loads the library, so its settings exist
    max_retries := current_setting('pg_migrate.lock_retries')::int;
    base_delay_ms := extract(epoch FROM current_setting('pg_migrate.retry_delay')::interval) * 1000;
    max_delay_ms := extract(epoch FROM current_setting('pg_migrate.retry_max_delay')::interval) * 1000;

    -- Resume an earlier run of the same backfill that did not finish; refuse to run twice.
    -- Finding or creating the progress row is serialized per table; the run itself holds a
    -- session advisory lock on its progress row, which a second session cannot get.
    PERFORM pg_advisory_xact_lock(1885826410, rel::oid::int);
    SELECT p.id, p.last_key, p.rows_done, p.pid INTO progress_id, resume_key, resumed_rows, other_pid
      FROM pg_migrate.backfill_progress p
     WHERE p.table_oid = rel AND p.set_clause = migrate_backfill.set_clause
       AND p.where_clause IS NOT DISTINCT FROM migrate_backfill.where_clause AND p.status <> 'completed'
       AND p.started_by = current_user  -- only a run this role recorded (others could forge a key)
     ORDER BY p.id DESC LIMIT 1
       FOR UPDATE;
    resumed_rows := coalesce(resumed_rows, 0);
    IF progress_id IS NOT NULL AND NOT pg_try_advisory_lock(1885826411, progress_id::int) THEN
        RAISE EXCEPTION 'this backfill of % is already running (backend %)', rel, other_pid USING ERRCODE = '55006',
              HINT = 'migrate_backfill_progress() shows its progress.';
    END IF;
    IF progress_id IS NULL THEN
        -- What the WHERE clause selects, as the planner estimates it.
        PERFORM set_config('search_path', caller_path, true);
        EXECUTE pg_catalog.format(E'EXPLAIN (FORMAT JSON) SELECT 1 FROM %s WHERE (%s\n)', rel,
                                  coalesce(where_clause, 'true')) INTO plan;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        estimate := greatest((plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric, 0)::bigint;
        INSERT INTO pg_migrate.backfill_progress (table_oid, table_name, key_column, set_clause, where_clause,
                                                  batch_size, sleep_ms, status, rows_estimated)
        VALUES (rel, pg_migrate.relation_name_in_path(rel, caller_path), key_col,
                migrate_backfill.set_clause, migrate_backfill.where_clause,
                migrate_backfill.batch_size, migrate_backfill.sleep_ms, 'running', estimate)
        RETURNING id INTO progress_id;
        PERFORM pg_advisory_lock(1885826411, progress_id::int);
    ELSE
        UPDATE pg_migrate.backfill_progress
           SET status = 'running', pid = pg_backend_pid(), error = NULL, finished_at = NULL,
               batch_size = migrate_backfill.batch_size, sleep_ms = migrate_backfill.sleep_ms,
               updated_at = clock_timestamp()
         WHERE id = progress_id;
        RAISE NOTICE 'resuming backfill % of % after key % (% rows already done)', progress_id, rel,
                     coalesce(resume_key, '(start)'), resumed_rows;
    END IF;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

    -- Runs with the caller's search_path (the clauses are the caller's); everything else in it
    -- is schema-qualified. %1 key, %2 table, %3 set clause, %4 key type, %5 where, %6 size,
    -- %7 the key's >, %8 its =.
    batch_sql := format($f$WITH batch AS MATERIALIZED (SELECT %1$I AS k FROM %2$s WHERE ($1::pg_catalog.text IS NULL OR %1$I %7$s pg_migrate.backfill_key_value($1::pg_catalog.text, NULL::%4$s))%5$s ORDER BY %1$I LIMIT %6$s),
done AS (UPDATE %2$s SET %3$s
 WHERE %1$I %8$s ANY (ARRAY(SELECT b.k FROM batch b))%5$s RETURNING 1)
SELECT (SELECT pg_catalog.count(*) FROM batch), (SELECT pg_catalog.count(*) FROM done), (SELECT pg_migrate.backfill_key_text(b.k) FROM batch b ORDER BY b.k DESC LIMIT 1)$f$,
        key_col, rel, set_clause, key_type,
        CASE WHEN where_clause IS NULL THEN '' ELSE format(E' AND (%s\n)', where_clause) END,
        batch_size, gt_op, eq_op);
    LOOP
        attempt := 0;
        failure := NULL;
        LOOP
            BEGIN
                PERFORM set_config('lock_timeout', current_setting('pg_migrate.lock_timeout'), true);
                t0 := clock_timestamp();
                PERFORM set_config('search_path', caller_path, true);
                EXECUTE batch_sql USING resume_key INTO selected, n, new_last;
                PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
                batch_ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
                EXIT;
            EXCEPTION
                WHEN lock_not_available OR deadlock_detected THEN
                    attempt := attempt + 1;
                    IF attempt > max_retries THEN
                        failure := format('%s (after %s retries)', SQLERRM, max_retries);
                        failure_state := SQLSTATE;
                        EXIT;
                    END IF;
                    UPDATE pg_migrate.backfill_progress SET retries = retries + 1 WHERE id = progress_id;
                    delay_ms := least(max_delay_ms, base_delay_ms * 2 ^ (attempt - 1));
                    PERFORM pg_sleep((delay_ms / 2 + random() * delay_ms / 2) / 1000.0);
                WHEN OTHERS THEN
                    failure := SQLERRM;
                    failure_state := SQLSTATE;
                    EXIT;
            END;
        END LOOP;
        IF failure IS NOT NULL THEN
            UPDATE pg_migrate.backfill_progress
               SET status = 'failed', error = failure, updated_at = clock_timestamp()
             WHERE id = progress_id;
            COMMIT;
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
            PERFORM pg_advisory_unlock(1885826411, progress_id::int);
            RAISE EXCEPTION 'backfill % of % failed after % rows: %', progress_id, rel,
                  (SELECT rows_done FROM pg_migrate.backfill_progress WHERE id = progress_id), failure
                  USING ERRCODE = failure_state,
                        HINT = 'Fix the cause and CALL migrate_backfill again with the same arguments: it resumes after the last committed batch.';
        END IF;
        IF selected > 0 THEN
            resume_key := new_last;
        END IF;
        UPDATE pg_migrate.backfill_progress
           SET rows_done = rows_done + n, batches = batches + CASE WHEN selected > 0 THEN 1 ELSE 0 END,
               last_key = resume_key, updated_at = clock_timestamp(),
               max_batch_ms = greatest(coalesce(max_batch_ms, 0), batch_ms),
               rows_per_second = (rows_done + n - resumed_rows)
                                 / greatest(extract(epoch FROM clock_timestamp() - run_started), 0.001),
               status = CASE WHEN selected < migrate_backfill.batch_size THEN 'completed' ELSE 'running' END,
               finished_at = CASE WHEN selected < migrate_backfill.batch_size THEN clock_timestamp() END
         WHERE id = progress_id;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        IF selected < batch_size THEN
            PERFORM pg_advisory_unlock(1885826411, progress_id::int);
            EXIT;
        END IF;
        IF sleep_ms > 0 THEN
            PERFORM pg_sleep(sleep_ms / 1000.0);
        END IF;
    END LOOP;
END
$$;

-- Rows other roles' runs trust --------------------------------------------------------------
-- A role with the documented grants may write progress and test-data rows, and a later run by
-- someone else used to trust them (resume after a forged key, skip statements, delete rows of
-- any table at cleanup). Each such row now carries the role that wrote it, enforced by
-- row-level security (roles other than the tables' owner may read every row but write only
-- their own), and the code that trusts a row checks that role.
ALTER TABLE pg_migrate.backfill_progress ALTER COLUMN started_by SET DEFAULT current_user;
ALTER TABLE pg_migrate.backfill_progress ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON pg_migrate.backfill_progress FOR SELECT USING (true);
CREATE POLICY insert_own ON pg_migrate.backfill_progress FOR INSERT WITH CHECK (started_by = current_user);
CREATE POLICY update_own ON pg_migrate.backfill_progress FOR UPDATE
    USING (started_by = current_user) WITH CHECK (started_by = current_user);
CREATE POLICY delete_own ON pg_migrate.backfill_progress FOR DELETE USING (started_by = current_user);

ALTER TABLE pg_migrate.statement_progress ADD COLUMN recorded_by name NOT NULL DEFAULT current_user;
ALTER TABLE pg_migrate.statement_progress ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON pg_migrate.statement_progress FOR SELECT USING (true);
CREATE POLICY insert_own ON pg_migrate.statement_progress FOR INSERT WITH CHECK (recorded_by = current_user);
CREATE POLICY update_own ON pg_migrate.statement_progress FOR UPDATE
    USING (recorded_by = current_user) WITH CHECK (recorded_by = current_user);
CREATE POLICY delete_own ON pg_migrate.statement_progress FOR DELETE USING (recorded_by = current_user);

ALTER TABLE pg_migrate.testdata_batch ALTER COLUMN created_by SET DEFAULT current_user;
ALTER TABLE pg_migrate.testdata_batch ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON pg_migrate.testdata_batch FOR SELECT USING (true);
CREATE POLICY insert_own ON pg_migrate.testdata_batch FOR INSERT WITH CHECK (created_by = current_user);
CREATE POLICY update_own ON pg_migrate.testdata_batch FOR UPDATE
    USING (created_by = current_user) WITH CHECK (created_by = current_user);
CREATE POLICY delete_own ON pg_migrate.testdata_batch FOR DELETE USING (created_by = current_user);
ALTER TABLE pg_migrate.testdata_row ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON pg_migrate.testdata_row FOR SELECT USING (true);
CREATE POLICY write_own ON pg_migrate.testdata_row FOR ALL
    USING (EXISTS (SELECT 1 FROM pg_migrate.testdata_batch b WHERE b.id = batch_id AND b.created_by = current_user))
    WITH CHECK (EXISTS (SELECT 1 FROM pg_migrate.testdata_batch b WHERE b.id = batch_id AND b.created_by = current_user));

CREATE OR REPLACE FUNCTION migrate_external_begin(version text)
RETURNS TABLE (run_id bigint, resume_from integer, statement_count integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
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
    -- Only a run this role recorded: another role's rows could claim statements succeeded.
    SELECT p.run_id INTO last_run
      FROM pg_migrate.statement_progress p
     WHERE p.version = m.version AND p.checksum = m.checksum AND p.recorded_by = current_user
       AND NOT EXISTS (SELECT 1 FROM pg_migrate.execution_log l
                        WHERE l.run_id = p.run_id AND l.version = m.version AND l.status = 'succeeded')
     ORDER BY p.run_id DESC LIMIT 1;
    run_id := coalesce(last_run, nextval('pg_migrate.run_id_seq'));
    resume_from := coalesce((SELECT max(p.statement_number) FROM pg_migrate.statement_progress p
                              WHERE p.version = m.version AND p.run_id = migrate_external_begin.run_id
                                AND p.status = 'succeeded' AND p.recorded_by = current_user), 0) + 1;
    statement_count := m.statement_count;
    RETURN NEXT;
END
$$;

-- pg_migrate's own objects -------------------------------------------------------------------
-- DDL on them from inside a running migration is refused (the executor is using them); the
-- trigger returns at once for everything else, in every session.
CREATE FUNCTION pg_migrate.guard_own_objects()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'pgm_guard_own_objects'
LANGUAGE C;
REVOKE ALL ON FUNCTION pg_migrate.guard_own_objects() FROM PUBLIC;
CREATE EVENT TRIGGER pg_migrate_guard_ddl ON ddl_command_end
    EXECUTE FUNCTION pg_migrate.guard_own_objects();
CREATE EVENT TRIGGER pg_migrate_guard_drop ON sql_drop
    EXECUTE FUNCTION pg_migrate.guard_own_objects();
CREATE EVENT TRIGGER pg_migrate_guard_drop_start ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION pg_migrate.guard_own_objects();
