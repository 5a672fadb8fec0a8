#!/usr/bin/env bash
# Hostile text reaching pg_migrate: migrations that call the executor, change their role or
# search_path; pending migrations and validation checks whose text tries to run a second
# statement. Each case failed before 0.4.0 (issue 9) and must stay closed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_hostile_scripts
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q -c "CREATE EXTENSION pg_migrate" >/dev/null
# A sequence no statement of ours may ever advance: the payloads below try to.
q -c "CREATE SEQUENCE pwned; CREATE ROLE pgm_hostile_other NOLOGIN" >/dev/null 2>&1 || true
pwned() { q -c "SELECT is_called FROM pwned"; }

echo "== a migration that calls the executor from inside itself"
q >/dev/null <<'SQL'
CREATE TABLE reentry (i int);
SELECT migrate_register('1', 'reentrant', 'INSERT INTO reentry VALUES (1); SELECT migrate_execute();');
SQL
out=$(q -c "SELECT status || ': ' || message FROM migrate_execute()" 2>&1)
check_eq "the reentrant migration fails with 0A000" "failed: 0A000: migrate_execute() cannot be called from inside a running migration (up statement 2)" "$out"
check_eq "and inserted nothing" "0" "$(q -c "SELECT count(*) FROM reentry")"
check_eq "its attempt is logged as failed" "failed" "$(q -c "SELECT status FROM pg_migrate.execution_log WHERE version = '1' ORDER BY id DESC LIMIT 1")"
q -c "SELECT migrate_register('1', 'reentrant', 'INSERT INTO reentry VALUES (1); SELECT migrate_rollback();')" >/dev/null
out=$(q -c "SELECT status FROM migrate_execute()" 2>&1)
check_eq "migrate_rollback() from inside a migration is refused too" "failed" "$out"
q -c "SELECT migrate_register('1', 'reentrant', 'CALL migrate_backfill(''reentry'', ''i = 2'')')" >/dev/null
out=$(q -c "SELECT message FROM migrate_execute()" 2>&1)
check_eq "migrate_backfill() from inside a migration is refused" "0A000: migrate_backfill() cannot be called from inside a running migration (up statement 1)" "$out"
q -c "SELECT migrate_register('1', 'reentrant', 'SELECT 1')" >/dev/null
q -c "SELECT * FROM migrate_execute()" >/dev/null

echo "== a migration that changes its role"
q -c "SELECT migrate_register('2', 'set_role', 'SET ROLE pgm_hostile_other; CREATE TABLE owned_by_other (i int);')" >/dev/null
out=$(q -c "SELECT status || ': ' || message FROM migrate_execute()" 2>&1)
check_eq "SET ROLE in a migration fails the migration" "failed: 42501: a migration may not change the role it runs as (up statement 1)" "$out"
check_eq "the session's role is unchanged afterwards" "postgres" "$(q -c "SELECT migrate_execute() IS NULL; SELECT current_user" | tail -1)"
check_eq "the failure was logged by the caller" "postgres" "$(q -c "SELECT current_user_name FROM pg_migrate.execution_log WHERE version = '2' ORDER BY id DESC LIMIT 1")"
q -c "SELECT migrate_register('2', 'set_role', \$\$SELECT pg_catalog.set_config('role', 'pgm_hostile_other', false)\$\$)" >/dev/null
out=$(q -c "SELECT status FROM migrate_execute()" 2>&1)
check_eq "set_config('role') is caught the same way" "failed" "$out"
q -c "SELECT migrate_register('2', 'set_role', 'SELECT 1')" >/dev/null

echo "== a migration's SET search_path ends with the migration"
q -c "SELECT migrate_register('3', 'set_path', 'CREATE SCHEMA s3; SET search_path = s3; CREATE TABLE t3 (i int);')" >/dev/null
out=$(q -c "SELECT string_agg(status, ',') FROM migrate_execute(); SHOW search_path;" 2>&1 | tr '\n' '|')
check_eq "applied, and the session's search_path is the caller's again" 'applied,applied|"$user", public|' "$out"
check_eq "the statements after the SET saw it" "s3" "$(q -c "SELECT relnamespace::regnamespace FROM pg_class WHERE relname = 't3'")"

echo "== a migration that changes pg_migrate's own objects"
q -c "SELECT migrate_register('5', 'alter_log', 'ALTER TABLE pg_migrate.execution_log ADD COLUMN x int')" >/dev/null
out=$(q -c "SELECT status || ': ' || message FROM migrate_execute()" 2>&1)
check_eq "altering the execution log is refused clearly" "failed: 55006: a migration may not change pg_migrate's own objects (up statement 1)" "$out"
check_eq "and logged" "failed" "$(q -c "SELECT status FROM pg_migrate.execution_log WHERE version = '5' ORDER BY id DESC LIMIT 1")"
q -c "SELECT migrate_register('5', 'alter_log', 'DROP EXTENSION pg_migrate CASCADE')" >/dev/null
out=$(q -c "SELECT status || ': ' || message FROM migrate_execute()" 2>&1)
check_eq "dropping the extension is refused clearly" "failed: 55006: a migration may not change pg_migrate's own objects (up statement 1)" "$out"
q -c "SELECT migrate_register('5', 'alter_log', 'CREATE TABLE pg_migrate.intruder (i int)')" >/dev/null
out=$(q -c "SELECT status FROM migrate_execute()" 2>&1)
check_eq "creating objects in the pg_migrate schema is refused" "failed" "$out"
check_eq "outside migrations DDL is not affected" "ok" "$(q -c "CREATE TABLE ddl_outside (i int); DROP TABLE ddl_outside; SELECT 'ok'")"
q -c "DELETE FROM pg_migrate.migration WHERE version = '5'" >/dev/null

echo "== a pending migration's CHECK is read from the parse tree, not cut from text"
q >/dev/null <<'SQL'
CREATE TABLE accounts (id int PRIMARY KEY, bal int);
INSERT INTO accounts VALUES (1, 500), (2, 2000);
SELECT migrate_register('4', 'check_in_comment',
  $m$ALTER TABLE accounts /* check (true)); SELECT pg_catalog.nextval('pwned'); SELECT ((true */
      ADD CONSTRAINT rich CHECK (bal > 1000);$m$);
SQL
out=$(q -c "SELECT status || ' ' || coalesce(violations::text, '-') || ' ' || coalesce(sample::text, '') FROM migrate_validate('integrity') WHERE check_name LIKE 'pending_check.4.%'")
check_eq "the real expression is validated (account 1 has 500)" 'fail 1 [{"id": 1}]' "$out"
check_eq "the text in the comment never ran" "f" "$(pwned)"
q >/dev/null <<'SQL'
SELECT migrate_register('4', 'check_in_comment',
  $m$ALTER TABLE accounts ADD CONSTRAINT rich CHECK (bal > 0 OR $x$ ) ; SELECT pg_catalog.nextval('pwned') ; SELECT ( $x$ = '');$m$);
SQL
out=$(q -c "SELECT status FROM migrate_validate('integrity') WHERE check_name LIKE 'pending_check.4.%'")
check_eq "a dollar-quoted parenthesis is a string, not the end of the expression" "pass" "$out"
check_eq "nothing in the dollar quote ran" "f" "$(pwned)"
q -c "SELECT migrate_register('4', 'check_in_comment', \$m\$ALTER TABLE accounts ADD CONSTRAINT e CHECK (bal <> length(E'\\\\') OR bal > 0);\$m\$)" >/dev/null
out=$(q -c "SELECT status FROM migrate_validate('integrity') WHERE check_name LIKE 'pending_check.4.%'")
check_eq "an E'' escape does not end the literal early" "pass" "$out"
q -c "DELETE FROM pg_migrate.migration WHERE version = '4'" >/dev/null

echo "== validation checks run as exactly one SELECT, with the running session's settings"
q >/dev/null <<'SQL'
INSERT INTO pg_migrate.validation_check (name, category, check_sql)
VALUES ('business.two_statements', 'business', $c$SELECT 1 WHERE false; SELECT pg_catalog.nextval('pwned')$c$);
SQL
out=$(q -c "SELECT status || ': ' || message FROM migrate_validate('business') WHERE check_name = 'business.two_statements'")
check_eq "a check written into the table directly with two statements is an error" "error: the check failed to run: the check is not exactly one SELECT (2 statement(s), the first is SELECT) (SQLSTATE 42601)" "$out"
check_eq "its second statement never ran" "f" "$(pwned)"
q -c "DELETE FROM pg_migrate.validation_check" >/dev/null
# Added with standard_conforming_strings off: one string literal then, three statements later.
q >/dev/null <<'SQL'
SET standard_conforming_strings = off;
SELECT validation_check_add('business.backslash', 'business',
  $c$SELECT 'x\' ; SELECT pg_catalog.nextval($$pwned$$) ; SELECT '-- '$c$);
SQL
out=$(q -c "SELECT status FROM migrate_validate('business') WHERE check_name = 'business.backslash'")
check_eq "a check that is one SELECT only under other settings is refused when it runs" "error" "$out"
check_eq "and its hidden statement never ran" "f" "$(pwned)"
q -c "DELETE FROM pg_migrate.validation_check" >/dev/null
q -c "INSERT INTO pg_migrate.validation_check (name, category, check_sql) VALUES ('business.breakout', 'business', 'SELECT 1) SELECT 1; SELECT pg_catalog.nextval(''pwned''); WITH offending AS (SELECT 1')" >/dev/null
out=$(q -c "SELECT status FROM migrate_validate('business') WHERE check_name = 'business.breakout'")
check_eq "a check that tries to close the wrapper's parenthesis is an error" "error" "$out"
check_eq "and ran nothing" "f" "$(pwned)"

q -c "DROP ROLE IF EXISTS pgm_hostile_other" >/dev/null 2>&1
dropdb "$db"
finish_checks
