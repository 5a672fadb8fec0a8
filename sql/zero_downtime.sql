-- A zero-downtime role change on user_profiles (docs/zero-downtime.md): expand, backfill
-- with CALL migrate_backfill, validate, contract. Each migration is linted before it runs;
-- the contract is lint-clean (no error-severity finding).
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE user_profiles (id bigint PRIMARY KEY, email text NOT NULL, role text NOT NULL);
INSERT INTO user_profiles
SELECT g, 'user' || g || '@example.com', (ARRAY['admin', 'user', 'guest'])[1 + g % 3]
  FROM generate_series(1, 2000) g;
ANALYZE user_profiles;

-- 1. Expand: new nullable columns, the mapping, and a trigger that keeps role_v2 in step
--    for every row written while the change is under way.
SELECT migrate_register('20261201090000', 'expand_user_roles',
    up_sql => $up$
ALTER TABLE user_profiles
    ADD COLUMN previous_role text,
    ADD COLUMN role_v2 text,
    ALTER COLUMN role DROP NOT NULL;

CREATE FUNCTION user_role_v2(old_role text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $fn$
    SELECT CASE old_role WHEN 'admin' THEN 'administrator'
                         WHEN 'user' THEN 'member'
                         ELSE old_role END
$fn$;

CREATE FUNCTION user_profiles_sync_role() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
    IF NEW.role IS NULL THEN
        RETURN NEW;  -- a writer that sets role_v2 itself
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.role IS NOT DISTINCT FROM OLD.role AND NEW.role_v2 IS NOT NULL THEN
            RETURN NEW;  -- role unchanged and already mapped
        END IF;
    END IF;
    NEW.previous_role := NEW.role;
    NEW.role_v2 := user_role_v2(NEW.role);
    RETURN NEW;
END
$fn$;

CREATE TRIGGER user_profiles_sync_role
    BEFORE INSERT OR UPDATE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION user_profiles_sync_role();
$up$,
    down_sql => $down$
DROP TRIGGER user_profiles_sync_role ON user_profiles;
DROP FUNCTION user_profiles_sync_role();
DROP FUNCTION user_role_v2(text);
ALTER TABLE user_profiles
    DROP COLUMN previous_role,
    DROP COLUMN role_v2,
    ALTER COLUMN role SET NOT NULL;
$down$);

-- 4a-4c. The contract, registered now and applied later, one target at a time.
SELECT migrate_register('20261201090100', 'add_role_v2_not_null_check',
    up_sql => $up$
ALTER TABLE user_profiles
    ADD CONSTRAINT user_profiles_role_v2_not_null CHECK (role_v2 IS NOT NULL) NOT VALID;
$up$,
    down_sql => 'ALTER TABLE user_profiles DROP CONSTRAINT user_profiles_role_v2_not_null;');
SELECT migrate_register('20261201090200', 'validate_role_v2_not_null',
    up_sql => 'ALTER TABLE user_profiles VALIDATE CONSTRAINT user_profiles_role_v2_not_null;',
    verify_sql => $verify$
SELECT count(*) = 0 FROM user_profiles
 WHERE role IS NOT NULL AND role_v2 IS DISTINCT FROM user_role_v2(role);
SELECT count(*) = 0 FROM user_profiles
 WHERE role IS NOT NULL AND previous_role IS DISTINCT FROM role;
$verify$);
SELECT migrate_register('20261201090300', 'contract_user_roles',
    up_sql => $up$
ALTER TABLE user_profiles ALTER COLUMN role_v2 SET NOT NULL;
ALTER TABLE user_profiles DROP CONSTRAINT user_profiles_role_v2_not_null;
DROP TRIGGER user_profiles_sync_role ON user_profiles;
DROP FUNCTION user_profiles_sync_role();
DROP FUNCTION user_role_v2(text);
ALTER TABLE user_profiles DROP COLUMN role;
$up$);

SELECT statement_number, rule, severity
  FROM migrate_lint((SELECT up_sql FROM pg_migrate.migration WHERE version = '20261201090000'));
SELECT version, name, status FROM migrate_execute(target => '20261201090000');

-- Writers that still use role: the trigger fills the new columns.
INSERT INTO user_profiles (id, email, role) VALUES (2001, 'user2001@example.com', 'user');
UPDATE user_profiles SET role = 'admin' WHERE id = 7;
SELECT id, role, previous_role, role_v2 FROM user_profiles WHERE id IN (1, 7, 2001) ORDER BY id;

-- Before the backfill, validation finds the rows that would make the contract fail.
SELECT validation_check_add('business.role_v2_mapped', 'business',
    $$SELECT id, role, role_v2 FROM user_profiles WHERE role IS NOT NULL AND role_v2 IS DISTINCT FROM user_role_v2(role)$$,
    description => 'role_v2 holds the mapped role');
SELECT check_name, status, violations, sample FROM migrate_validate('integrity');
SELECT check_name, status, violations FROM migrate_validate('business');

-- 2. Backfill, between two migrate_execute() calls: batches of 500 on the primary key,
--    a commit after each.
CALL migrate_backfill('user_profiles',
    'previous_role = role, role_v2 = user_role_v2(role)',
    'role_v2 IS NULL',
    batch_size => 500);
SELECT table_name, status, rows_done, rows_estimated > 0 AS has_estimate, percent, batches,
       retries, last_key, rows_per_second > 0 AS has_rate, eta, error
  FROM migrate_backfill_progress();

-- 3. Validate: every check passes now.
SELECT check_name, status, violations FROM migrate_validate('integrity');
SELECT check_name, status, violations FROM migrate_validate('business');
SELECT role_v2, count(*) FROM user_profiles GROUP BY role_v2 ORDER BY role_v2;

-- 4a. A NOT VALID CHECK: a short ACCESS EXCLUSIVE lock, no scan.
SELECT statement_number, rule, severity
  FROM migrate_lint((SELECT up_sql FROM pg_migrate.migration WHERE version = '20261201090100'));
SELECT version, name, status FROM migrate_execute(target => '20261201090100');

-- 4b. VALIDATE in its own call: it scans under SHARE UPDATE EXCLUSIVE, which lets reads
--     and writes go on; the verify script checks the mapping on every row.
SELECT statement_number, command, table_name, lock_mode
  FROM migrate_statement_locks((SELECT up_sql FROM pg_migrate.migration WHERE version = '20261201090200'));
SELECT count(*) AS findings
  FROM migrate_lint((SELECT up_sql FROM pg_migrate.migration WHERE version = '20261201090200'));
SELECT version, name, status, message FROM migrate_execute(target => '20261201090200');

-- 4c. The contract proper, linted after 4b is applied: SET NOT NULL is safe because a
--     validated CHECK (role_v2 IS NOT NULL) exists. Only warnings remain.
SELECT validation_check_drop('business.role_v2_mapped');  -- it reads role, which 4c drops
SELECT statement_number, rule, severity
  FROM migrate_lint((SELECT up_sql FROM pg_migrate.migration WHERE version = '20261201090300'));
SELECT count(*) FILTER (WHERE severity = 'error') AS lint_errors
  FROM migrate_lint((SELECT up_sql FROM pg_migrate.migration WHERE version = '20261201090300'));
SELECT version, name, status FROM migrate_execute(target => '20261201090300');

-- The result.
SELECT column_name, is_nullable FROM information_schema.columns
 WHERE table_schema = 'public' AND table_name = 'user_profiles' ORDER BY ordinal_position;
SELECT conname FROM pg_constraint WHERE conrelid = 'user_profiles'::regclass ORDER BY conname;
SELECT count(*) AS user_triggers FROM pg_trigger WHERE tgrelid = 'user_profiles'::regclass AND NOT tgisinternal;
SELECT role_v2, previous_role, count(*) FROM user_profiles GROUP BY role_v2, previous_role ORDER BY role_v2;
INSERT INTO user_profiles (id, email, role_v2) VALUES (2002, 'user2002@example.com', 'member');
INSERT INTO user_profiles (id, email) VALUES (2003, 'user2003@example.com');
SELECT version, name, state FROM migrate_status();

DROP TABLE user_profiles;
DROP EXTENSION pg_migrate;
