-- migrate_lint() and migrate_statement_locks(): PostgreSQL's parser, rule by rule.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;
CREATE TABLE users (id int PRIMARY KEY, email text, name varchar(50), age int);
CREATE TABLE orders (id int PRIMARY KEY, user_id int);

-- Each rule fires on the unsafe form and stays quiet on the safe one. The scripts set
-- lock_timeout first, so only the rule under test shows.
SELECT statement_number, rule, severity, message, alternative FROM migrate_lint($$
SET lock_timeout = '2s';
CREATE INDEX ON users (email);
CREATE INDEX CONCURRENTLY ON users (name);
$$);
SELECT statement_number, rule, message FROM migrate_lint($$
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN uid uuid DEFAULT gen_random_uuid();
ALTER TABLE users ADD COLUMN seq bigserial;
ALTER TABLE users ADD COLUMN ident int GENERATED ALWAYS AS IDENTITY;
ALTER TABLE users ADD COLUMN doubled int GENERATED ALWAYS AS (age * 2) STORED;
ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();
ALTER TABLE users ADD COLUMN flag boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN req int NOT NULL;
$$);
SELECT statement_number, rule, message FROM migrate_lint($$
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN age TYPE bigint;
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);
ALTER TABLE users ALTER COLUMN name TYPE text;
ALTER TABLE users ALTER COLUMN name TYPE varchar(10);
ALTER TABLE users ALTER COLUMN email TYPE text USING lower(email);
CREATE TYPE mood AS ENUM ('ok', 'sad');
ALTER TABLE users ALTER COLUMN name TYPE mood USING name::mood;
$$);
SELECT statement_number, rule, message FROM migrate_lint($$
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE orders ADD CONSTRAINT orders_user_fk2 FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk2;
ALTER TABLE users ADD CONSTRAINT age_positive CHECK (age > 0);
ALTER TABLE users ADD CONSTRAINT age_positive2 CHECK (age > 0) NOT VALID;
ALTER TABLE users ADD CONSTRAINT email_unique UNIQUE (email);
ALTER TABLE users ADD CONSTRAINT email_unique2 UNIQUE USING INDEX users_email_idx;
$$);
-- SET NOT NULL: unsafe alone, safe after a validated CHECK (col IS NOT NULL).
SELECT statement_number, rule, message, alternative FROM migrate_lint($$
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT name_not_null CHECK (name IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT name_not_null;
ALTER TABLE users ALTER COLUMN name SET NOT NULL;
$$);
SELECT statement_number, rule, message FROM migrate_lint($$
SET lock_timeout = '2s';
ALTER TABLE users RENAME COLUMN email TO mail;
ALTER TABLE users RENAME TO people;
ALTER TABLE users DROP COLUMN age;
DROP TABLE orders;
DROP INDEX users_pkey;
DROP INDEX CONCURRENTLY users_pkey;
VACUUM FULL users;
VACUUM users;
CLUSTER users USING users_pkey;
$$);
-- CONCURRENTLY inside an explicit transaction block, and a missing lock_timeout (reported
-- once, at the first statement that takes a lock blocking writes on an existing table).
SELECT statement_number, rule, severity FROM migrate_lint(
    'BEGIN; CREATE INDEX CONCURRENTLY ON users (email); COMMIT; CREATE INDEX CONCURRENTLY ON users (age);');
SELECT statement_number, rule FROM migrate_lint(
    'ALTER TABLE users ADD COLUMN a int; ALTER TABLE users ADD COLUMN b int;');
SELECT statement_number, rule FROM migrate_lint(
    'SET lock_timeout = 0; ALTER TABLE users ADD COLUMN a int;');
-- VALIDATE in the same transaction as its ADD ... NOT VALID (however the table is named), but
-- not after a COMMIT, nor in a -- pgmig:no-transaction script where each statement commits.
SELECT statement_number, rule FROM migrate_lint($$SET lock_timeout = '2s';
ALTER TABLE public.users ADD CONSTRAINT c1 CHECK (age > 0) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT c1;$$);
SELECT count(*) AS after_commit FROM migrate_lint($$SET lock_timeout = '2s'; BEGIN;
ALTER TABLE users ADD CONSTRAINT c1 CHECK (age > 0) NOT VALID; COMMIT;
ALTER TABLE users VALIDATE CONSTRAINT c1;$$);
SELECT count(*) AS no_transaction FROM migrate_lint($$-- pgmig:no-transaction
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT c1 CHECK (age > 0) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT c1;$$);
-- Tables created earlier in the same script are new: nothing to protect yet.
SELECT count(*) AS findings_on_new_table FROM migrate_lint($$
SET lock_timeout = '2s';
CREATE TABLE fresh (id int, email text);
CREATE INDEX ON fresh (email);
ALTER TABLE fresh ADD COLUMN uid uuid DEFAULT gen_random_uuid();
ALTER TABLE fresh ADD CONSTRAINT fresh_pk PRIMARY KEY (id);
ALTER TABLE fresh ALTER COLUMN email SET NOT NULL;
$$);
-- A clean script.
SELECT count(*) AS findings FROM migrate_lint(
    'SET lock_timeout = ''2s''; ALTER TABLE users ADD COLUMN nickname text; CREATE INDEX CONCURRENTLY ON users (nickname);');

-- The lock each statement takes, on which table.
SELECT * FROM migrate_statement_locks($$
ALTER TABLE users ADD COLUMN z int;
ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
CREATE INDEX CONCURRENTLY ON users (z);
CREATE INDEX ON public.users (z);
UPDATE orders SET user_id = 1;
DELETE FROM orders;
INSERT INTO orders VALUES (1, 1);
LOCK TABLE orders IN SHARE MODE;
TRUNCATE orders;
DROP INDEX CONCURRENTLY users_pkey;
DROP TRIGGER no_such_trigger ON orders;
VACUUM users;
CREATE TABLE n (i int);
INSERT INTO n VALUES (1);
SELECT 1;
$$);

-- Bad input.
SELECT * FROM migrate_lint(NULL);
SELECT * FROM migrate_lint('ALTER TABLE users ADD COLUM x int');
SELECT * FROM migrate_lint('');
SELECT count(*) FROM migrate_lint(repeat('SELECT 1; ', 10000));
SELECT * FROM migrate_lint('ALTER TABLE "users; DROP TABLE orders" ADD COLUMN x int');
SELECT to_regclass('orders') IS NOT NULL AS orders_still_there;

DROP TABLE users, orders;
DROP EXTENSION pg_migrate;
