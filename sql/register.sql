-- migrate_register(): checksums, idempotence, and every way a registration is refused.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_migrate;

-- A first registration, then the same body again: a no-op.
SELECT migrate_register('20260101000000', 'create_accounts',
    'CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL);',
    'DROP TABLE accounts;');
SELECT migrate_register('20260101000000', 'create_accounts',
    'CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL);',
    'DROP TABLE accounts;');

-- The checksum ignores a BOM and Windows line endings, so a CRLF checkout is "unchanged".
SELECT migrate_checksum(E'SELECT 1;\nSELECT 2;\n') = migrate_checksum(E'\uFEFFSELECT 1;\r\nSELECT 2;\r\n') AS crlf_and_bom_ignored;
SELECT migrate_checksum('SELECT 1;') <> migrate_checksum('SELECT 2;') AS content_matters;
SELECT migrate_register('20260101000001', 'windows_file', E'CREATE TABLE w (i int);\r\n');
SELECT migrate_register('20260101000001', 'windows_file', E'CREATE TABLE w (i int);\n');
SELECT checksum = migrate_checksum(E'CREATE TABLE w (i int);\n') AS stored_checksum_matches
  FROM pg_migrate.migration WHERE version = '20260101000001';

-- An applied migration is immutable.
SELECT status FROM migrate_execute(target => '20260101000000');
SELECT migrate_register('20260101000000', 'create_accounts',
    'CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL, name text);',
    'DROP TABLE accounts;');
-- ...but its down script may still be fixed.
SELECT migrate_register('20260101000000', 'create_accounts',
    'CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL);',
    'DROP TABLE IF EXISTS accounts;');

-- A pending migration may be edited; down, verify and options may change at any time.
SELECT migrate_register('20260101000001', 'windows_file', E'CREATE TABLE w (i bigint);\n');
SELECT migrate_register('20260101000001', 'windows_file', E'CREATE TABLE w (i bigint);\n', 'DROP TABLE w;');

-- Bad versions.
SELECT migrate_register('', 'x', 'SELECT 1');
SELECT migrate_register('1a', 'x', 'SELECT 1');
SELECT migrate_register('-1', 'x', 'SELECT 1');
SELECT migrate_register('1.2', 'x', 'SELECT 1');
SELECT migrate_register(repeat('9', 33), 'x', 'SELECT 1');
SELECT migrate_register(NULL, 'x', 'SELECT 1');

-- Bad names and bodies.
SELECT migrate_register('2', '   ', 'SELECT 1');
SELECT migrate_register('2', 'x', NULL);
SELECT migrate_register('2', 'typo', E'CREATE TABLE ok (i int);\nCREAT TABLE oops (i int);');
-- Empty and comment-only scripts, and down or verify scripts that do not parse here, are
-- registered (sql/odd_scripts.sql runs them).

-- Options are validated and normalized.
SELECT migrate_register('2', 'opts', 'SELECT 1', NULL, NULL, '{"lock_timeout": "5s", "lock_retries": 3}');
SELECT options FROM pg_migrate.migration WHERE version = '2';
SELECT migrate_register('3', 'opts', 'SELECT 1', NULL, NULL, '{"lock_timeout": "soon"}');
SELECT migrate_register('3', 'opts', 'SELECT 1', NULL, NULL, '{"retries": 3}');
SELECT migrate_register('3', 'opts', 'SELECT 1', NULL, NULL, '{"lock_retries": -1}');
SELECT migrate_register('3', 'opts', 'SELECT 1', NULL, NULL, '[1, 2]');

-- Duplicate versions: another name for a registered version, or the same number spelled
-- with leading zeros.
SELECT migrate_register('2', 'another_migration', 'SELECT 1');
SELECT migrate_register('0002', 'opts', 'SELECT 1');

-- Transaction control inside a script is refused: every migration has its own subtransaction.
SELECT migrate_register('3', 'with_commit', E'BEGIN;\nCREATE TABLE c (i int);\nCOMMIT;');
SELECT migrate_register('3', 'with_savepoint', 'SELECT 1', E'SAVEPOINT s;\nSELECT 2;');

-- Statements that cannot run in a transaction are found by PostgreSQL's parser.
SELECT migrate_register('4', 'concurrent_index', E'-- a comment first\nCREATE INDEX CONCURRENTLY accounts_email ON accounts (email);');
SELECT migrate_register('5', 'directive', E'-- pgmig:no-transaction\nUPDATE accounts SET email = lower(email);');
SELECT migrate_register('6', 'option', 'ANALYZE accounts;', NULL, NULL, '{"no_transaction": true}');
SELECT migrate_register('7', 'plain', 'ANALYZE accounts;');
SELECT version, requires_no_transaction, no_transaction_reason
  FROM pg_migrate.migration WHERE version IN ('4', '5', '6', '7') ORDER BY version_order;
SELECT statement_number, statement, start_position, command, requires_no_transaction
  FROM migrate_statements(E'VACUUM accounts;\n-- two\nREINDEX TABLE CONCURRENTLY accounts;\nBEGIN;\nSELECT 1;\nDROP INDEX CONCURRENTLY x;\nALTER TABLE p DETACH PARTITION c CONCURRENTLY;\nALTER DATABASE d SET TABLESPACE t;\nALTER DATABASE d SET work_mem = 1;');

DROP TABLE accounts;
DROP EXTENSION pg_migrate;
