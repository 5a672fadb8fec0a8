-- migrate_rollback(): down scripts newest first, to a target, refusals and failures.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
SELECT migrate_register('1', 'create_items', 'CREATE TABLE items (id int PRIMARY KEY);', 'DROP TABLE items;');
SELECT migrate_register('2', 'add_price', 'ALTER TABLE items ADD COLUMN price numeric;', 'ALTER TABLE items DROP COLUMN price;');
SELECT migrate_register('3', 'add_sku', 'ALTER TABLE items ADD COLUMN sku text;', 'ALTER TABLE items DROP COLUMN sku;');
SELECT migrate_register('4', 'no_way_back', 'ALTER TABLE items ADD COLUMN legacy text;');
SELECT version, status FROM migrate_execute(target => '3');

-- Nothing given: one step back. The dry run first changes nothing.
SELECT version, status FROM migrate_rollback(dry_run => true);
SELECT version, status FROM migrate_rollback();
SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position;
SELECT version, state FROM migrate_status();
SELECT version, operation, status, phase FROM pg_migrate.execution_log WHERE operation = 'rollback';
SELECT version, reason FROM pg_migrate.rollback_log;

-- Back to a target: everything newer, newest first.
SELECT version, status FROM migrate_execute(target => '3');
SELECT version, status FROM migrate_rollback(target => '1');
SELECT version, state FROM migrate_status();

-- A migration without a down script refuses the whole rollback, naming it.
SELECT version, status FROM migrate_execute();
SELECT version, status, message FROM migrate_rollback(target => '1', dry_run => true);
SELECT migrate_rollback(target => '1');
SELECT version, state FROM migrate_status() WHERE state = 'applied';

-- Unknown and invalid targets.
SELECT migrate_rollback(target => '42');
SELECT migrate_rollback(target => 'one');

-- A failing down script: nothing is undone, the migration stays applied, the log says why.
SELECT migrate_register('4', 'no_way_back', 'ALTER TABLE items ADD COLUMN legacy text;', 'ALTER TABLE items DROP COLUMN legacy_typo;');
SELECT version, status, message FROM migrate_rollback();
SELECT version, state, last_error FROM migrate_status() WHERE version = '4';
SELECT version, status, phase, sqlstate, failed_statement FROM pg_migrate.execution_log
 WHERE operation = 'rollback' AND status = 'failed';

-- Target 0 reverts everything that has a working down script.
SELECT migrate_register('4', 'no_way_back', 'ALTER TABLE items ADD COLUMN legacy text;', 'ALTER TABLE items DROP COLUMN legacy;');
SELECT version, status FROM migrate_rollback(target => '0');
SELECT to_regclass('items') IS NULL AS items_gone;
SELECT version, status FROM migrate_rollback();  -- nothing applied: nothing to do

DROP EXTENSION pg_migrate;
