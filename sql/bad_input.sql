-- Wrong-typed, NULL, non-existent, hostile and oversized input to the 0.2.0 functions: each
-- gets a clear error (or a harmless answer) and nothing changes.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t VALUES (1, 'a');

-- Wrong types.
SELECT snapshot_create(42);
SELECT snapshot_verify('abc');
SELECT snapshot_restore(1.5);
SELECT snapshot_prune(keep_last => 'many');
SELECT snapshot_prune(older_than => 'soon');
SELECT migrate_validate(42);
CALL migrate_backfill('t', 'v = 1', batch_size => 'big');
SELECT migrate_lint(42);

-- Non-existent.
SELECT snapshot_verify(-1);
SELECT snapshot_drop(0);
SELECT snapshot_prune(keep_last => 1, rel => 'no_such_table');
SELECT validation_check_drop('');

-- Oversized.
SELECT snapshot_create('t', repeat('x', 100000)) > 0 AS long_label_accepted;
SELECT length(label) FROM snapshot_list();
SELECT migrate_preflight(repeat('9', 100));
SELECT migrate_validate(repeat('x', 10000));
SELECT validation_check_add(repeat('n', 101), 'business', 'SELECT 1');
SELECT count(*) FROM migrate_statement_locks(repeat('UPDATE t SET v = v; ', 5000));
SELECT count(*) FROM migrate_data_expectations(repeat('ALTER TABLE t ALTER COLUMN v SET NOT NULL; ', 2000));
CALL migrate_backfill('t', 'v = ' || quote_literal(repeat('x', 100000)));
SELECT length(v) FROM t;

-- Hostile.
SELECT migrate_lint(E'\\x00');
SELECT migrate_statement_locks('UPDATE "t; DROP TABLE t; --" SET v = 1');
SELECT validation_check_add('x', 'business', 'SELECT 1 FROM t; DROP TABLE t');
-- A check whose SQL would change data: a data-modifying WITH is refused by PostgreSQL inside
-- the check, and a function with side effects runs but its changes are rolled back.
SELECT validation_check_add('x', 'business', 'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d');
CREATE FUNCTION sneaky_delete() RETURNS SETOF int LANGUAGE sql AS 'DELETE FROM t RETURNING id';
SELECT validation_check_add('y', 'business', 'SELECT * FROM sneaky_delete()');
SELECT check_name, status, violations, left(message, 60) AS message FROM migrate_validate('business');
SELECT count(*) AS t_rows_intact FROM t;

SELECT snapshot_prune(keep_last => 0);
DROP FUNCTION sneaky_delete();
DROP TABLE t;
DROP EXTENSION pg_migrate;
