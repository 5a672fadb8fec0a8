-- The README's getting-started walk-through, statement for statement, so the README's
-- examples are checked by the test suite (keep the two in step).
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;

CREATE TABLE user_profiles (id int PRIMARY KEY, role text NOT NULL);
INSERT INTO user_profiles
SELECT g, CASE WHEN g % 3 = 0 THEN 'admin' ELSE 'user' END FROM generate_series(1, 30) g;

SELECT migrate_register(
    '20261122090000', 'add_previous_role',
    up_sql     => $$ALTER TABLE user_profiles ADD COLUMN previous_role text;
UPDATE user_profiles SET previous_role = role;$$,
    down_sql   => 'ALTER TABLE user_profiles DROP COLUMN previous_role;',
    verify_sql => $$SELECT count(*) = 30 FROM user_profiles WHERE previous_role = role;
SELECT bool_and(previous_role IS NOT NULL) FROM user_profiles;$$);

SELECT migrate_register(
    '20261122091500', 'map_roles',
    up_sql   => $$UPDATE user_profiles SET role = 'member' WHERE role = 'user';$$,
    down_sql => $$UPDATE user_profiles SET role = 'user' WHERE role = 'member';$$);

SELECT version, name, status, message FROM migrate_execute(dry_run => true);

SELECT version, name, status FROM migrate_execute();

SELECT version, name, state, applied_by FROM migrate_status();

SELECT migrate_register('20261122093000', 'add_seniority_level',
$$ALTER TABLE user_profiles ADD COLUMN seniority_level int;
ALTER TABLE user_profiles ALTER COLUMN seniority_level SET NOT NULL;$$);

SELECT version, name, status, message FROM migrate_execute();

SELECT column_name FROM information_schema.columns
 WHERE table_name = 'user_profiles' ORDER BY ordinal_position;

SELECT version, phase, sqlstate, statement_number, statement_position, failed_statement
  FROM pg_migrate.execution_log WHERE status = 'failed';

SELECT version, reason, sqlstate, message FROM pg_migrate.rollback_log;

SELECT version, state, last_error FROM migrate_status();

SELECT migrate_register('20261122093000', 'add_seniority_level',
$$ALTER TABLE user_profiles ADD COLUMN seniority_level int;
UPDATE user_profiles SET seniority_level = 1;
ALTER TABLE user_profiles ALTER COLUMN seniority_level SET NOT NULL;$$,
    'ALTER TABLE user_profiles DROP COLUMN seniority_level;');   -- returns 'updated'

SELECT version, name, status FROM migrate_execute();

SELECT version, name, status FROM migrate_rollback(dry_run => true);  -- status would_roll_back
SELECT version, name, status FROM migrate_rollback();

SELECT version, name, status FROM migrate_rollback(target => '0');

DROP TABLE IF EXISTS user_profiles;
DROP EXTENSION pg_migrate;
