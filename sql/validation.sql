-- Validation: built-in checks from the catalog and from pending migrations, user checks,
-- results stored and returned with violation counts and samples.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE users (id int PRIMARY KEY, email text, age int, status text);
CREATE TABLE orders (id int PRIMARY KEY, user_id int, total numeric);
CREATE TABLE order_lines (order_id int, line int, sku text, PRIMARY KEY (order_id, line));
CREATE TABLE events (at timestamptz, payload jsonb);  -- no primary key
INSERT INTO users VALUES (1, 'a@example.com', 30, 'active'), (2, 'a@example.com', NULL, 'active'),
                         (3, 'b@example.com', -5, 'gone'), (4, NULL, 40, 'active');
INSERT INTO orders VALUES (1, 1, 10), (2, 99, 5), (3, NULL, 7), (4, 98, -1);
INSERT INTO order_lines VALUES (1, 1, 'x'), (7, 1, 'y');
-- Foreign keys added NOT VALID over existing bad rows: their orphans are found too.
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE order_lines ADD CONSTRAINT order_lines_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;

-- A pending migration that would make email unique, age NOT NULL, add a CHECK and a
-- composite primary key: validation finds the rows that would make it fail, before it runs.
SELECT migrate_register('20260101000000', 'harden_users', $$
ALTER TABLE users ADD CONSTRAINT users_email_unique UNIQUE (email);
ALTER TABLE users ALTER COLUMN age SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_age_positive CHECK (age > 0 AND status IN ('active', 'gone'));
CREATE UNIQUE INDEX users_lower_email ON users (lower(email));
$$);
-- And one that turns accounts.plan into an enum created in the same script: values outside
-- its labels would make the cast fail.
CREATE TABLE accounts (id int PRIMARY KEY, plan text);
INSERT INTO accounts VALUES (1, 'free'), (2, 'pro'), (3, 'legacy');
SELECT migrate_register('20260101000001', 'plan_enum', $$
CREATE TYPE plan_kind AS ENUM ('free', 'pro');
ALTER TABLE accounts ALTER COLUMN plan TYPE plan_kind USING plan::plan_kind;
$$);
SELECT m.version, e.* FROM pg_migrate.migration m, migrate_data_expectations(m.up_sql) e ORDER BY 1, 2;

-- A user check.
SELECT validation_check_add('business.negative_totals', 'business',
    'SELECT id, total FROM orders WHERE total < 0', 'warning', 'order totals are never negative');
SELECT validation_check_add('business.negative_totals', 'business',
    'SELECT id, total FROM orders WHERE total < 0 ORDER BY id', 'error', 'order totals are never negative');
SELECT validation_check_add('business.broken', 'business', 'SELECT no_such_column FROM orders');

SELECT check_name, category, severity, status, violations, sample, message FROM migrate_validate();
-- One category only.
SELECT check_name, status, violations FROM migrate_validate('relationships');
-- Stored, one run id per call.
SELECT count(DISTINCT run_id) AS runs, count(*) AS results,
       count(*) FILTER (WHERE status = 'error') AS errors FROM pg_migrate.validation_result;
SELECT check_name, status, message FROM pg_migrate.validation_result WHERE status = 'error';
SELECT check_name, category, left(check_sql, 60) AS check_sql FROM migrate_validation_checks('relationships');

-- Fix the data and the checks pass.
DELETE FROM orders WHERE user_id IN (98, 99);
UPDATE users SET email = 'c@example.com', age = 20 WHERE id = 2;
UPDATE users SET age = 5 WHERE id = 3;
UPDATE users SET age = 50 WHERE id = 4;
UPDATE orders SET total = 1 WHERE total < 0;
UPDATE accounts SET plan = 'free' WHERE plan = 'legacy';
INSERT INTO orders VALUES (7, 1, 3);
ALTER TABLE events ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
SELECT validation_check_drop('business.broken');
SELECT check_name, status, violations FROM migrate_validate() ORDER BY check_name;
SELECT version, status FROM migrate_execute();

-- Bad input.
SELECT migrate_validate('nonsense');
SELECT validation_check_add('bad name!', 'business', 'SELECT 1');
SELECT validation_check_add('x', 'money', 'SELECT 1');
SELECT validation_check_add('x', 'business', 'SELECT 1', 'fatal');
SELECT validation_check_add('x', 'business', 'DELETE FROM orders');
SELECT validation_check_add('x', 'business', 'SELECT 1; SELECT 2');
SELECT validation_check_add('x', 'business', NULL);
SELECT validation_check_drop('nope');

DROP TABLE order_lines, orders, users, events, accounts;
DROP TYPE plan_kind;
DROP EXTENSION pg_migrate;
