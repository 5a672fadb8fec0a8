-- Pre-flight safety checks with a score, and the health report.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE user_profiles (id int PRIMARY KEY, role text);
INSERT INTO user_profiles VALUES (1, 'admin'), (2, 'user');

-- Nothing pending: everything passes.
SELECT check_name, status, critical FROM migrate_preflight();
SELECT detail FROM migrate_preflight() WHERE check_name IN ('safety_score', 'blocking_locks', 'pending_migrations');

-- Pending migrations: one touching user_profiles without a snapshot, one with lint errors,
-- one that must run outside a transaction.
SELECT migrate_register('1', 'add_column', 'ALTER TABLE user_profiles ADD COLUMN seniority int;');
SELECT migrate_register('2', 'index', 'CREATE INDEX ON user_profiles (role);');
SELECT migrate_register('3', 'concurrent', 'CREATE INDEX CONCURRENTLY ON user_profiles (seniority);');
SELECT check_name, status, critical, detail FROM migrate_preflight()
 WHERE check_name IN ('blocking_locks', 'snapshot_freshness', 'non_transactional_migrations', 'lint',
                      'pending_migrations', 'safety_score');
-- Up to a target, only what runs up to it counts.
SELECT check_name, status, detail FROM migrate_preflight(target => '1')
 WHERE check_name IN ('non_transactional_migrations', 'lint', 'pending_migrations', 'safety_score');
-- A snapshot makes the freshness check pass.
SELECT snapshot_create('user_profiles') > 0 AS snapshot_taken;
SELECT status FROM migrate_preflight('1') WHERE check_name = 'snapshot_freshness';

-- A modified applied migration is a critical failure, and with pg_migrate.require_preflight
-- migrate_execute() refuses to run.
SELECT version, status FROM migrate_execute(target => '1');
UPDATE pg_migrate.migration SET up_sql = 'SELECT 1' WHERE version = '1';
SELECT check_name, status, critical, detail FROM migrate_preflight('2') WHERE status = 'fail' OR check_name = 'safety_score';
SET pg_migrate.require_preflight = on;
SELECT migrate_execute(target => '2');
RESET pg_migrate.require_preflight;
SELECT version, status FROM migrate_execute(target => '2');

-- Lock modes.
SELECT migrate_locks_conflict('AccessShareLock', 'AccessExclusiveLock') AS read_blocks_ddl,
       migrate_locks_conflict('RowExclusiveLock', 'ShareLock') AS write_blocks_index,
       migrate_locks_conflict('RowExclusiveLock', 'ShareUpdateExclusiveLock') AS write_vs_concurrent,
       migrate_locks_conflict('AccessShareLock', 'RowExclusiveLock') AS read_vs_write;

-- Health: jsonb with overall, checks and the safety score.
SELECT jsonb_typeof(h->'checks') AS checks_type, h->>'overall' AS overall,
       (h->>'safety_score')::int BETWEEN 0 AND 100 AS score_in_range
  FROM migrate_health() h;
SELECT c->>'name' AS name, c->>'status' AS status, c->>'message' AS message
  FROM jsonb_array_elements(migrate_health()->'checks') c
 WHERE c->>'name' NOT IN ('log_growth', 'snapshots', 'last_failure');
-- Repaired registry, a failure on record, a failing validation.
SELECT migrate_register('1', 'add_column', 'ALTER TABLE user_profiles ADD COLUMN seniority int;');
SELECT migrate_register('3', 'concurrent', 'CREATE INDEX ON user_profiles (seniority);');
SELECT migrate_register('4', 'broken', 'SELECT 1/0;');
SELECT version, status FROM migrate_execute(target => '4');
SELECT c->>'name' AS name, c->>'status' AS status
  FROM jsonb_array_elements(migrate_health()->'checks') c
 WHERE c->>'name' IN ('failed_migrations', 'last_failure', 'checksums');
SELECT migrate_health()->'checks'->1->'details'->0->>'version' AS failed_version;
SELECT validation_check_add('business.no_admins', 'business', $$SELECT id FROM user_profiles WHERE role = 'admin'$$);
SELECT count(*) FROM migrate_validate();
SELECT c->>'status' AS validation_status, c->>'message' AS message
  FROM jsonb_array_elements(migrate_health()->'checks') c WHERE c->>'name' = 'validation';
SELECT migrate_health()->>'overall' AS overall;

-- Bad input.
SELECT migrate_preflight('abc');

-- Snapshot tables are not part of the extension: DROP EXTENSION refuses while they exist.
DROP EXTENSION pg_migrate;
SELECT snapshot_prune(keep_last => 0);
DROP TABLE user_profiles;
DROP EXTENSION pg_migrate;
