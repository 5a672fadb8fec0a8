-- pg_migrate 0.5.0 -> 0.6.0: the holes a review of 0.5.0 found that the SQL surface closes
-- (issue 9): a repair role could rewrite an applied migration's statements, a backfill under
-- row-level security reported completed with rows its policies hid left untouched, and two
-- functions broke with standard_conforming_strings off. (The rest of that review, in the
-- library and in pgmig, needs no SQL change; see docs/security.md.)
\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.6.0'" to load this file. \quit

-- Repairs change comments, never statements -----------------------------------------------
-- migrate_accept_checksum() recorded any text that parsed as an applied migration's up
-- script, so a role with only the repair grants could put statements there that a later
-- rollback and re-apply ran as the deployer. The new text must now have the same tokens
-- (PostgreSQL's lexer, comments and whitespace left out) and the same directives.
CREATE FUNCTION pg_migrate.script_edit_is_cosmetic(before_sql text, after_sql text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pgm_script_edit_is_cosmetic'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION pg_migrate.script_edit_is_cosmetic(text, text) FROM PUBLIC;
COMMENT ON FUNCTION pg_migrate.script_edit_is_cosmetic(text, text) IS
    'Whether two scripts differ only in comments and whitespace (same tokens, same directives)';

-- Its body had a U&'' literal, which does not compile with standard_conforming_strings off
-- (a database owner can make that the default); it now runs with the setting on.
CREATE OR REPLACE FUNCTION migrate_accept_checksum(version text, up_sql text, reason text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET standard_conforming_strings = on
AS $$
DECLARE
    m record;
    new_checksum text;
    n integer;
BEGIN
    PERFORM pg_migrate.repair_reason_check(reason);
    IF up_sql IS NULL THEN
        RAISE EXCEPTION 'up_sql must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pg_advisory_xact_lock(1885826409, 1735549300);  -- the migration lock
    SELECT g.version, g.name, g.state, g.checksum, g.applied_checksum, g.up_sql INTO m
      FROM pg_migrate.migration g WHERE g.version = migrate_accept_checksum.version FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'migration % is not registered', left(version, 64) USING ERRCODE = '42704';
    END IF;
    IF m.state <> 'applied' THEN
        RAISE EXCEPTION 'migration % (%) is %, not applied: register the file again instead', m.version, m.name, m.state
              USING ERRCODE = '55000', HINT = 'pgmig up registers changed files of migrations that are not applied.';
    END IF;
    IF pg_catalog.convert_to(pg_catalog.left(up_sql, 1), 'UTF8') = pg_catalog.decode('efbbbf', 'hex') THEN
        up_sql := substr(up_sql, 2);  -- as migrate_register stores a script
    END IF;
    new_checksum := @extschema@.migrate_checksum(up_sql);
    IF new_checksum = m.applied_checksum THEN
        RETURN 'unchanged';
    END IF;
    SELECT count(*) INTO n FROM @extschema@.migrate_statements(up_sql);  -- also: it must parse
    -- Only comments and whitespace may change (and not the directives): the script runs
    -- again after a rollback, as whoever deploys then, so a repair that could change its
    -- statements would let a role with the repair grants choose what they run.
    IF NOT pg_migrate.script_edit_is_cosmetic(m.up_sql, up_sql) THEN
        RAISE EXCEPTION 'the new text of migration % (%) changes its statements or directives, not only comments or whitespace', m.version, m.name
              USING ERRCODE = '55000',
                    DETAIL = 'An applied migration''s script runs again after a rollback; a repair may not change what it would run.',
                    HINT = 'Put the file back as it was applied, and add the change as a new migration (pgmig new).';
    END IF;
    UPDATE pg_migrate.migration g
       SET up_sql = migrate_accept_checksum.up_sql, checksum = new_checksum,
           applied_checksum = new_checksum, statement_count = n, updated_at = now()
     WHERE g.version = m.version;
    INSERT INTO pg_migrate.repair_log (operation, version, name, state, old_checksum, new_checksum, reason, performed_by)
    VALUES ('accept_checksum', m.version, m.name, m.state, m.applied_checksum, new_checksum, reason, session_user);
    RETURN 'accepted';
END
$$;

-- Backfills refuse tables whose row-level security applies to the caller -----------------
CREATE OR REPLACE PROCEDURE migrate_backfill(rel regclass, set_clause text, where_clause text DEFAULT NULL,
                                             batch_size integer DEFAULT 1000, sleep_ms integer DEFAULT 0)
LANGUAGE plpgsql
AS $$
DECLARE
    caller_path pg_catalog.text := pg_catalog.current_setting('search_path');
    key_col pg_catalog.name;
    key_type pg_catalog.text;
    key_typid pg_catalog.oid;
    gt_op pg_catalog.text;
    eq_op pg_catalog.text;
    progress_id pg_catalog.int8;
    resume_key pg_catalog.text;
    resumed_rows pg_catalog.int8 := 0;
    batch_sql pg_catalog.text;
    selected pg_catalog.int8;
    n pg_catalog.int8;
    new_last pg_catalog.text;
    t0 pg_catalog.timestamptz;
    batch_ms pg_catalog.numeric;
    attempt pg_catalog.int4;
    max_retries pg_catalog.int4;
    base_delay_ms pg_catalog.int4;
    max_delay_ms pg_catalog.int4;
    delay_ms pg_catalog.numeric;
    other_pid pg_catalog.int4;
    failure pg_catalog.text;
    failure_state pg_catalog.text;
    run_started pg_catalog.timestamptz := pg_catalog.clock_timestamp();
    estimate pg_catalog.int8;
    plan pg_catalog.jsonb;
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
    -- Policies that apply to the caller would hide rows from the batches' UPDATE: they would
    -- be left as they are and the run reported completed.
    IF pg_catalog.row_security_active(rel::pg_catalog.oid) THEN
        RAISE EXCEPTION 'cannot backfill %: row-level security applies to you on it', rel USING ERRCODE = '42501',
              DETAIL = 'Its policies would hide rows from the backfill''s UPDATE: they would be left untouched and the run reported completed.',
              HINT = 'Run the backfill as the table''s owner or as a role with BYPASSRLS.';
    END IF;
    SELECT a.attname, format('%I.%I', tn.nspname, t.typname), a.atttypid INTO key_col, key_type, key_typid
      FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
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

-- migrate_activity(): its pattern no longer depends on standard_conforming_strings ---------
CREATE OR REPLACE FUNCTION migrate_activity()
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
WITH work AS (
    SELECT a.pid, a.usename, a.application_name, a.state, a.wait_event_type, a.wait_event,
           a.xact_start, a.query_start, a.query, pg_blocking_pids(a.pid) AS blocked_by
      FROM pg_stat_activity a
     WHERE a.pid <> pg_backend_pid()
       AND a.backend_type = 'client backend'
       AND a.state IS DISTINCT FROM 'idle'
       AND (a.query LIKE 'pg_migrate: %'
            OR a.query ~* '(migrate_execute|migrate_rollback|migrate_backfill)[[:space:]]*[(]'
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
