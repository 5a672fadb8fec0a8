-- Verify scripts run after the up script, in the same subtransaction.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE user_profiles (id int PRIMARY KEY, role text NOT NULL);
INSERT INTO user_profiles SELECT g, CASE WHEN g % 3 = 0 THEN 'admin' ELSE 'user' END FROM generate_series(1, 30) g;

-- A verify that returns true: applied.
SELECT migrate_register('1', 'add_previous_role',
    E'ALTER TABLE user_profiles ADD COLUMN previous_role text;\nUPDATE user_profiles SET previous_role = role;',
    'ALTER TABLE user_profiles DROP COLUMN previous_role;',
    E'SELECT count(*) = 30 FROM user_profiles WHERE previous_role = role;\nSELECT bool_and(previous_role IS NOT NULL) FROM user_profiles;');
SELECT version, status FROM migrate_execute();

-- A verify that returns false: the migration is rolled back like any failure.
SELECT migrate_register('2', 'map_roles',
    E'UPDATE user_profiles SET role = ''member'' WHERE role = ''user'';',
    NULL,
    E'SELECT count(*) = 0 FROM user_profiles WHERE role = ''user'';\nSELECT count(*) = 30 FROM user_profiles WHERE role = ''member'';');
SELECT version, status, message FROM migrate_execute();
SELECT role, count(*) FROM user_profiles GROUP BY role ORDER BY role;
SELECT phase, sqlstate, message, detail, statement_number, failed_statement
  FROM pg_migrate.execution_log WHERE version = '2';

-- A verify that returns NULL fails too.
SELECT migrate_register('2', 'map_roles',
    E'UPDATE user_profiles SET role = ''member'' WHERE role = ''user'';',
    NULL, 'SELECT NULL::boolean');
SELECT version, status, message FROM migrate_execute();

-- A verify that raises an error (here an ASSERT in a DO block) fails too.
SELECT migrate_register('2', 'map_roles',
    E'UPDATE user_profiles SET role = ''member'' WHERE role = ''user'';',
    NULL,
    E'DO $$ BEGIN ASSERT (SELECT count(*) FROM user_profiles WHERE role = ''admin'') = 99, ''admin count changed''; END $$;');
SELECT version, status, message FROM migrate_execute();
SELECT role, count(*) FROM user_profiles GROUP BY role ORDER BY role;

-- A verify that passes.
SELECT migrate_register('2', 'map_roles',
    E'UPDATE user_profiles SET role = ''member'' WHERE role = ''user'';',
    NULL, 'SELECT count(*) = 20 FROM user_profiles WHERE role = ''member''');
SELECT version, status FROM migrate_execute();

DROP TABLE user_profiles;
DROP EXTENSION pg_migrate;
