-- pg_migrate 0.4.0 -> 0.5.0: closes the holes an adversarial review of 0.4.0 confirmed
-- (issue 9): forgeable snapshot rows, an unqualified backfill key type, squatted
-- statement_progress rows. (The rollback's restore call and the trigger modes a restore
-- re-enables are fixed in the library; see docs/security.md.)
\echo Use "ALTER EXTENSION pg_migrate UPDATE TO '0.5.0'" to load this file. \quit

-- Snapshot rows are written only by the snapshot functions --------------------------------
-- A restore trusts a snapshot's row: which table it copied (source_oid), into which table
-- (snapshot_oid), with which checksum and columns. Roles with the documented snapshot grants
-- could edit those and point a restore (run by a superuser through migrate_rollback()) at a
-- table of theirs. The trigger refuses every INSERT and UPDATE not made by snapshot_create(),
-- snapshot_verify() or snapshot_restore() in this backend; it fires in every
-- session_replication_role (ENABLE ALWAYS), and only the table's owner can disable it.
-- Deleting a row stays allowed: a vanished snapshot is refused, never trusted.
CREATE FUNCTION pg_migrate.snapshot_row_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgm_snapshot_row_guard'
LANGUAGE C;
REVOKE ALL ON FUNCTION pg_migrate.snapshot_row_guard() FROM PUBLIC;
CREATE TRIGGER snapshot_row_guard BEFORE INSERT OR UPDATE ON pg_migrate.snapshot
    FOR EACH ROW EXECUTE FUNCTION pg_migrate.snapshot_row_guard();
ALTER TABLE pg_migrate.snapshot ENABLE ALWAYS TRIGGER snapshot_row_guard;

-- statement_progress: one role's rows never collide with another's -------------------------
-- Another role could insert rows for run ids not yet handed out; the run that later got such
-- an id collided with them (ON CONFLICT on a row its policy could not update). The role that
-- recorded a row is now part of its key.
ALTER TABLE pg_migrate.statement_progress DROP CONSTRAINT statement_progress_pkey;
ALTER TABLE pg_migrate.statement_progress
    ADD PRIMARY KEY (version, run_id, statement_number, recorded_by);

CREATE OR REPLACE FUNCTION migrate_external_statement(version text, run_id bigint, statement_number integer,
                                                      succeeded boolean, sqlstate text DEFAULT NULL,
                                                      message text DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO pg_migrate.statement_progress (version, run_id, checksum, statement_number, status, sqlstate,
                                               message, recorded_by)
    SELECT m.version, run_id, m.checksum, statement_number,
           CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END, sqlstate, message, current_user
      FROM pg_migrate.migration m WHERE m.version = migrate_external_statement.version
    ON CONFLICT (version, run_id, statement_number, recorded_by) DO UPDATE
       SET status = EXCLUDED.status, sqlstate = EXCLUDED.sqlstate, message = EXCLUDED.message,
           finished_at = EXCLUDED.finished_at
$$;

-- Batched backfill: the key's type schema-qualified ------------------------------------------
-- The batch statement runs with the caller's search_path (for the caller's clauses); the key
-- type in it was format_type()'s text, which a schema on that path could shadow with a
-- domain. It is now the type's schema-qualified name. So are the types of its variables:
-- PL/pgSQL resolves those with the search_path of the session's first call (the procedure
-- commits, so it cannot carry a SET clause), and a domain named "text" on that path ran its
-- check on every assignment.
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

-- Scripts written for another server ------------------------------------------------------
-- A down script that does not parse on the server it was registered on no longer stops the
-- registration (it runs only on a revert, maybe after an upgrade of the server): the reason
-- is recorded here for status and lint, and migrate_rollback() checks the script again, on
-- the server it runs on, before anything changes. Empty and comment-only scripts are
-- accepted as no-ops.
ALTER TABLE pg_migrate.migration ADD COLUMN down_problem text;
COMMENT ON COLUMN pg_migrate.migration.down_problem IS
    'Why the down script did not parse on the server it was registered on (NULL: it did)';

-- Pre-flight: blocking_locks fails only for a lock the retries could not outlast ------------
CREATE OR REPLACE FUNCTION pg_migrate.preflight_checks(target text, caller_path text)
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
    n_short bigint;
    txt_short text;
    lt_ms numeric;
    retries integer;
    delay_ms numeric;
    max_delay_ms numeric;
    budget_ms numeric;
    budget interval;
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

    -- A conflicting lock fails pre-flight only when the migration's lock timeout and retries
    -- could not outlast it: its holder is idle in a transaction, or a prepared transaction,
    -- or in a transaction already open longer than the retries would wait. A lock held by a
    -- short query is waited for (and retried), so it only warns: failing on it made a deploy
    -- on a busy table a coin toss.
    lt_ms := coalesce(extract(epoch FROM current_setting('pg_migrate.lock_timeout', true)::interval) * 1000, 1000);
    retries := coalesce(current_setting('pg_migrate.lock_retries', true)::int, 5);
    delay_ms := coalesce(extract(epoch FROM current_setting('pg_migrate.retry_delay', true)::interval) * 1000, 100);
    max_delay_ms := coalesce(extract(epoch FROM current_setting('pg_migrate.retry_max_delay', true)::interval) * 1000, 10000);
    IF lt_ms > 0 THEN
        budget_ms := (retries + 1) * lt_ms;
        FOR k IN 0 .. retries - 1 LOOP
            budget_ms := budget_ms + least(max_delay_ms, delay_ms * 2 ^ k);
        END LOOP;
    END IF;
    budget := make_interval(secs => coalesce(budget_ms, 0) / 1000.0);
    SELECT count(*) FILTER (WHERE b.outlasts), count(*) FILTER (WHERE NOT b.outlasts),
           string_agg(DISTINCT b.what, '; ') FILTER (WHERE b.outlasts),
           string_agg(DISTINCT b.what, '; ') FILTER (WHERE NOT b.outlasts)
      INTO n, n_short, txt, txt_short
      FROM (SELECT format('%s holds %s on %s (needed: %s by migration %s): %s',
                          coalesce(l.pid::text, 'a prepared transaction'), l.mode, l.relation::regclass,
                          t.lock_mode, t.version,
                          CASE WHEN l.pid IS NULL THEN 'prepared, held until committed'
                               WHEN lt_ms = 0 THEN 'pg_migrate.lock_timeout is 0, so the migration would wait behind it with no limit'
                               WHEN a.state IS NULL THEN 'its state is not visible to you (grant pg_read_all_stats)'
                               WHEN a.state LIKE 'idle in transaction%' THEN
                                   format('idle in transaction for %s', date_trunc('second', now() - a.state_change))
                               WHEN now() - a.xact_start > budget THEN
                                   format('in a transaction open for %s, longer than the lock timeout and retries wait (%s)',
                                          date_trunc('second', now() - a.xact_start), budget)
                               ELSE format('%s for %s; the lock timeout and %s retries wait up to %s',
                                           coalesce(a.state, '?'), date_trunc('second', now() - a.xact_start), retries, budget)
                          END) AS what,
                   (l.pid IS NULL OR lt_ms = 0 OR a.state LIKE 'idle in transaction%'
                    OR coalesce(now() - a.xact_start > budget, false)) AS outlasts
              FROM pg_locks l
              JOIN unnest(t_version, t_relid, t_mode) AS t(version, relid, lock_mode) ON t.relid = l.relation
              LEFT JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.granted AND l.pid IS DISTINCT FROM pg_backend_pid() AND l.locktype = 'relation'
               AND @extschema@.migrate_locks_conflict(l.mode, t.lock_mode)) b;
    check_name := 'blocking_locks'; critical := true;
    status := CASE WHEN n > 0 THEN 'fail' WHEN n_short > 0 THEN 'warn' ELSE 'pass' END;
    detail := CASE WHEN n > 0 THEN 'sessions hold locks the pending migrations could not outlast: ' || txt
                   WHEN n_short > 0 THEN 'sessions hold locks the pending migrations will wait for (and retry): ' || txt_short
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

-- Grants for a role, by what it does ------------------------------------------------------
-- The one list of what each kind of role needs (docs/security.md shows it and a test compares
-- it with running every documented command as such a role). Each row: a purpose and one GRANT
-- with %1$I for the grantee. The extension's own functions are named in its schema.
CREATE FUNCTION pg_migrate.grant_statements()
RETURNS TABLE (purpose text, statement text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH g(purpose, statement) AS (VALUES
    -- Migrations: register, apply, roll back, status (pgmig up, down, status, run-all).
    ('deploy', 'GRANT USAGE ON SCHEMA pg_migrate TO %1$I'),
    ('deploy', 'GRANT SELECT, INSERT, UPDATE ON pg_migrate.migration TO %1$I'),
    ('deploy', 'GRANT SELECT, INSERT ON pg_migrate.execution_log, pg_migrate.rollback_log TO %1$I'),
    ('deploy', 'GRANT USAGE ON SEQUENCE pg_migrate.run_id_seq, pg_migrate.execution_log_id_seq, pg_migrate.rollback_log_id_seq TO %1$I'),
    ('deploy', 'GRANT EXECUTE ON FUNCTION @extschema@.migrate_register(text, text, text, text, text, jsonb), @extschema@.migrate_execute(text, boolean, boolean), @extschema@.migrate_rollback(text, boolean), @extschema@.migrate_status(), @extschema@.migrate_checksum(text), @extschema@.migrate_statements(text) TO %1$I'),
    -- Lint.
    ('deploy', 'GRANT EXECUTE ON FUNCTION @extschema@.migrate_lint(text), @extschema@.migrate_statement_locks(text), @extschema@.migrate_data_expectations(text) TO %1$I'),
    -- Validation (running the checks; managing them is "validation").
    ('deploy', 'GRANT SELECT ON pg_migrate.validation_check TO %1$I'),
    ('deploy', 'GRANT INSERT ON pg_migrate.validation_result TO %1$I'),
    ('deploy', 'GRANT USAGE ON SEQUENCE pg_migrate.validation_result_id_seq TO %1$I'),
    ('deploy', 'GRANT EXECUTE ON FUNCTION @extschema@.migrate_validate(text), pg_migrate.validate_run(text, text), @extschema@.migrate_validation_checks(text), pg_migrate.validation_checks(text, text), pg_migrate.data_expectations_in_path(text, text), pg_migrate.relation_name_in_path(oid, text) TO %1$I'),
    -- Pre-flight and health.
    ('deploy', 'GRANT SELECT ON pg_migrate.snapshot, pg_migrate.validation_result TO %1$I'),
    ('deploy', 'GRANT EXECUTE ON FUNCTION @extschema@.migrate_preflight(text), pg_migrate.preflight_report(text, text), pg_migrate.preflight_checks(text, text), pg_migrate.statement_locks_in_path(text, text), pg_migrate.lint_in_path(text, text), @extschema@.migrate_health(), pg_migrate.health_report(text), @extschema@.migrate_locks_conflict(text, text) TO %1$I'),
    -- pgmig: migrations run outside a transaction, their progress, seeds.
    ('deploy', 'GRANT EXECUTE ON FUNCTION @extschema@.migrate_external_begin(text), @extschema@.migrate_external_statement(text, bigint, integer, boolean, text, text), @extschema@.migrate_external_finish(text, bigint, boolean, numeric, text, text, text, integer, text) TO %1$I'),
    ('deploy', 'GRANT SELECT, INSERT, UPDATE ON pg_migrate.statement_progress TO %1$I'),
    ('deploy', 'GRANT SELECT, INSERT, UPDATE ON pg_migrate.seed TO %1$I'),
    -- Schema fingerprints (recorded after each deploy) and pgmig drift.
    ('deploy', 'GRANT SELECT, INSERT ON pg_migrate.schema_fingerprint TO %1$I'),
    ('deploy', 'GRANT USAGE ON SEQUENCE pg_migrate.schema_fingerprint_id_seq TO %1$I'),
    ('deploy', 'GRANT EXECUTE ON FUNCTION pg_migrate.record_schema_fingerprint(bigint), @extschema@.migrate_schema_fingerprint(), @extschema@.migrate_drift() TO %1$I'),

    -- Snapshots (also declared ones, taken by migrate_execute and restored by migrate_rollback).
    ('snapshot', 'GRANT USAGE ON SCHEMA pg_migrate TO %1$I'),
    ('snapshot', 'GRANT USAGE, CREATE ON SCHEMA pg_migrate_snapshots TO %1$I'),
    ('snapshot', 'GRANT SELECT, INSERT, UPDATE, DELETE ON pg_migrate.snapshot TO %1$I'),
    ('snapshot', 'GRANT USAGE ON SEQUENCE pg_migrate.snapshot_id_seq TO %1$I'),
    ('snapshot', 'GRANT EXECUTE ON FUNCTION @extschema@.snapshot_create(regclass, text), @extschema@.snapshot_list(), @extschema@.snapshot_verify(bigint), @extschema@.snapshot_restore(bigint), @extschema@.snapshot_drop(bigint), @extschema@.snapshot_prune(integer, interval, regclass) TO %1$I'),

    -- Batched backfills.
    ('backfill', 'GRANT USAGE ON SCHEMA pg_migrate TO %1$I'),
    ('backfill', 'GRANT SELECT, INSERT, UPDATE ON pg_migrate.backfill_progress TO %1$I'),
    ('backfill', 'GRANT USAGE ON SEQUENCE pg_migrate.backfill_progress_id_seq TO %1$I'),
    ('backfill', 'GRANT EXECUTE ON PROCEDURE @extschema@.migrate_backfill(regclass, text, text, integer, integer) TO %1$I'),
    ('backfill', 'GRANT EXECUTE ON FUNCTION pg_migrate.backfill_clauses_check(text, text), pg_migrate.backfill_require_no_transaction_block(), pg_migrate.backfill_set_columns(text), pg_migrate.backfill_key_text(anyelement), pg_migrate.backfill_key_value(text, anyelement), pg_migrate.relation_name_in_path(oid, text), @extschema@.migrate_checksum(text), @extschema@.migrate_backfill_progress() TO %1$I'),

    -- Managing validation checks.
    ('validation', 'GRANT USAGE ON SCHEMA pg_migrate TO %1$I'),
    ('validation', 'GRANT SELECT, INSERT, UPDATE, DELETE ON pg_migrate.validation_check TO %1$I'),
    ('validation', 'GRANT EXECUTE ON FUNCTION @extschema@.validation_check_add(text, text, text, text, text), @extschema@.validation_check_drop(text), @extschema@.migrate_statements(text) TO %1$I'),

    -- Watching: status, logs, health, activity and backfill progress (pgmig status, monitor, health).
    ('monitor', 'GRANT USAGE ON SCHEMA pg_migrate TO %1$I'),
    ('monitor', 'GRANT SELECT ON pg_migrate.migration, pg_migrate.execution_log, pg_migrate.rollback_log, pg_migrate.snapshot, pg_migrate.validation_result, pg_migrate.backfill_progress TO %1$I'),
    ('monitor', 'GRANT EXECUTE ON FUNCTION @extschema@.migrate_status(), @extschema@.migrate_checksum(text), @extschema@.migrate_activity(), @extschema@.migrate_backfill_progress(), @extschema@.migrate_health(), pg_migrate.health_report(text) TO %1$I'),
    -- (pgmig health also shows pre-flight, which only reads.)
    ('monitor', 'GRANT EXECUTE ON FUNCTION @extschema@.migrate_preflight(text), pg_migrate.preflight_report(text, text), pg_migrate.preflight_checks(text, text), pg_migrate.statement_locks_in_path(text, text), pg_migrate.lint_in_path(text, text), @extschema@.migrate_locks_conflict(text, text), @extschema@.migrate_statement_locks(text), @extschema@.migrate_lint(text) TO %1$I'),

    -- pgmig testdata (development and staging only).
    ('testdata', 'GRANT USAGE ON SCHEMA pg_migrate TO %1$I'),
    ('testdata', 'GRANT SELECT, INSERT, UPDATE, DELETE ON pg_migrate.testdata_batch, pg_migrate.testdata_row TO %1$I'),
    ('testdata', 'GRANT USAGE ON SEQUENCE pg_migrate.testdata_batch_id_seq TO %1$I'),

    -- pgmig repair: forgetting migrations that never applied, accepting an edited applied file.
    -- Only the two functions (SECURITY DEFINER) write the registry: no table writes, so a
    -- repair role can do exactly what they allow, logged, and nothing else.
    ('repair', 'GRANT USAGE ON SCHEMA pg_migrate TO %1$I'),
    ('repair', 'GRANT SELECT ON pg_migrate.migration, pg_migrate.repair_log TO %1$I'),
    ('repair', 'GRANT EXECUTE ON FUNCTION @extschema@.migrate_forget(text, text), @extschema@.migrate_accept_checksum(text, text, text), @extschema@.migrate_checksum(text), @extschema@.migrate_statements(text), @extschema@.migrate_status() TO %1$I'),

    -- pgmig backup: the schema version a backup records (SELECT on the tables backed up is
    -- the table owners' to grant).
    ('backup', 'GRANT USAGE ON SCHEMA pg_migrate TO %1$I'),
    ('backup', 'GRANT SELECT ON pg_migrate.migration TO %1$I')
    )
    SELECT g.purpose, g.statement FROM g
    UNION ALL
    -- A deploy takes and restores declared snapshots: it gets the snapshot grants too.
    SELECT 'deploy', g.statement FROM g WHERE g.purpose = 'snapshot'
$$;
REVOKE ALL ON FUNCTION pg_migrate.grant_statements() FROM PUBLIC;

-- Grants a role what one kind of work needs, in one call: SELECT migrate_grant('deployer',
-- 'deploy'). Returns the statements, run (or only listed, with dry_run). The caller needs the
-- right to grant them (the extension's owner, or a superuser).
CREATE FUNCTION migrate_grant(grantee name, purpose text, dry_run boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    known text := (SELECT string_agg(DISTINCT g.purpose, ', ') FROM pg_migrate.grant_statements() g);
    stmt text;
BEGIN
    IF grantee IS NULL OR purpose IS NULL THEN
        RAISE EXCEPTION 'grantee and purpose must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = grantee) THEN
        RAISE EXCEPTION 'role "%" does not exist', grantee USING ERRCODE = '42704',
              HINT = 'Create it first: CREATE ROLE ... LOGIN.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_migrate.grant_statements() g WHERE g.purpose = migrate_grant.purpose) THEN
        RAISE EXCEPTION 'unknown purpose "%"', left(purpose, 64) USING ERRCODE = '22023',
              HINT = 'The purposes are: ' || known || '.';
    END IF;
    FOR stmt IN SELECT format(g.statement, grantee) FROM pg_migrate.grant_statements() g
                 WHERE g.purpose = migrate_grant.purpose LOOP
        IF NOT dry_run THEN
            EXECUTE stmt;
        END IF;
        RETURN NEXT stmt;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION migrate_grant(name, text, boolean) FROM PUBLIC;
COMMENT ON FUNCTION migrate_grant(name, text, boolean) IS
    'Grant a role what one kind of work needs (deploy, snapshot, backfill, validation, monitor, testdata, backup)';

-- Ways out of dead ends: repairs, each logged with who, when and why -----------------------
-- A failed migration whose file was deleted blocked every later deploy; a comment-only edit
-- of an applied file blocked `up` for good. pgmig repair calls these.
CREATE TABLE pg_migrate.repair_log (
    id           bigserial PRIMARY KEY,
    operation    text NOT NULL CHECK (operation IN ('forget', 'accept_checksum')),
    version      text NOT NULL,
    name         text NOT NULL,
    state        text NOT NULL,          -- the migration's state when repaired
    old_checksum text NOT NULL,
    new_checksum text,                   -- accept_checksum: the checksum recorded instead
    reason       text NOT NULL,
    performed_by name NOT NULL DEFAULT current_user,
    session_user_name name NOT NULL DEFAULT session_user,
    performed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE pg_migrate.repair_log IS
    'Every repair of the registry (migrate_forget, migrate_accept_checksum): who, when and why';
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.repair_log', '');
SELECT pg_catalog.pg_extension_config_dump('pg_migrate.repair_log_id_seq', '');
REVOKE ALL ON pg_migrate.repair_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE pg_migrate.repair_log_id_seq FROM PUBLIC;

CREATE FUNCTION pg_migrate.repair_reason_check(reason text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF reason IS NULL OR length(btrim(reason)) = 0 OR length(reason) > 1000 THEN
        RAISE EXCEPTION 'a repair needs a reason (1 to 1000 characters)' USING ERRCODE = '22023',
              HINT = 'Say why, for the log: pgmig repair ... --reason "file deleted after a failed deploy".';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION pg_migrate.repair_reason_check(text) FROM PUBLIC;

-- Forgets a registered migration that never applied (pending or failed): its row goes, the
-- logs of its attempts stay.
CREATE FUNCTION migrate_forget(version text, reason text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m record;
BEGIN
    PERFORM pg_migrate.repair_reason_check(reason);
    PERFORM pg_advisory_xact_lock(1885826409, 1735549300);  -- the migration lock
    SELECT g.version, g.name, g.state, g.checksum INTO m
      FROM pg_migrate.migration g WHERE g.version = migrate_forget.version FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'migration % is not registered', left(version, 64) USING ERRCODE = '42704';
    END IF;
    IF m.state NOT IN ('pending', 'failed') THEN
        RAISE EXCEPTION 'migration % (%) is %: only a migration that never applied can be forgotten', m.version, m.name, m.state
              USING ERRCODE = '55000',
              HINT = CASE WHEN m.state = 'applied' THEN 'Revert it first (pgmig down --to ...), or keep it.'
                          ELSE 'It applied once; its record is kept.' END;
    END IF;
    DELETE FROM pg_migrate.migration g WHERE g.version = m.version;
    INSERT INTO pg_migrate.repair_log (operation, version, name, state, old_checksum, reason, performed_by)
    VALUES ('forget', m.version, m.name, m.state, m.checksum, reason, session_user);
    RETURN 'forgotten';
END
$$;
REVOKE ALL ON FUNCTION migrate_forget(text, text) FROM PUBLIC;
COMMENT ON FUNCTION migrate_forget(text, text) IS
    'Repair: forget a registered migration that never applied (logged in pg_migrate.repair_log)';

-- Records the new text (and checksum) of an applied migration's up script, deliberately: for
-- an edit that changes nothing the database needs (a comment, formatting). Nothing runs.
CREATE FUNCTION migrate_accept_checksum(version text, up_sql text, reason text)
RETURNS text
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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
    SELECT g.version, g.name, g.state, g.checksum, g.applied_checksum INTO m
      FROM pg_migrate.migration g WHERE g.version = migrate_accept_checksum.version FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'migration % is not registered', left(version, 64) USING ERRCODE = '42704';
    END IF;
    IF m.state <> 'applied' THEN
        RAISE EXCEPTION 'migration % (%) is %, not applied: register the file again instead', m.version, m.name, m.state
              USING ERRCODE = '55000', HINT = 'pgmig up registers changed files of migrations that are not applied.';
    END IF;
    IF left(up_sql, 1) = U&'\FEFF' THEN
        up_sql := substr(up_sql, 2);  -- as migrate_register stores a script
    END IF;
    new_checksum := @extschema@.migrate_checksum(up_sql);
    IF new_checksum = m.applied_checksum THEN
        RETURN 'unchanged';
    END IF;
    SELECT count(*) INTO n FROM @extschema@.migrate_statements(up_sql);  -- also: it must parse
    UPDATE pg_migrate.migration g
       SET up_sql = migrate_accept_checksum.up_sql, checksum = new_checksum,
           applied_checksum = new_checksum, statement_count = n, updated_at = now()
     WHERE g.version = m.version;
    INSERT INTO pg_migrate.repair_log (operation, version, name, state, old_checksum, new_checksum, reason, performed_by)
    VALUES ('accept_checksum', m.version, m.name, m.state, m.applied_checksum, new_checksum, reason, session_user);
    RETURN 'accepted';
END
$$;
REVOKE ALL ON FUNCTION migrate_accept_checksum(text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION migrate_accept_checksum(text, text, text) IS
    'Repair: record the edited up script of an applied migration (logged in pg_migrate.repair_log)';
