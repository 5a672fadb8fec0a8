#!/usr/bin/env bash
# The holes a review of 0.5.0 found that 0.6.0's SQL closes:
# - a role with only the repair grants rewrote an applied migration's up script through
#   migrate_accept_checksum(), and a later rollback and re-apply ran it as the superuser;
# - migrate_backfill() on a table whose policies let the caller update only some rows
#   reported "completed" with the others untouched;
# - migrate_accept_checksum() and migrate_activity() broke under
#   standard_conforming_strings = off (a database owner can make that the default).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_review_050
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS pgm_rev_repair" -c "DROP ROLE IF EXISTS pgm_rev_bf" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup
createdb "$db" || exit 1
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
err() { psql -X -qtA -d "$db" "$@" 2>&1 | grep -E "^(psql:.*)?ERROR" | sed -E 's/^psql:[^E]*//' | head -1; }
q >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pg_migrate;
CREATE ROLE pgm_rev_repair LOGIN;
SELECT count(*) FROM migrate_grant('pgm_rev_repair', 'repair');
SELECT migrate_register('1', 'create t', E'-- pgmig:snapshot-free\nCREATE TABLE t (id int); -- the table\n', 'DROP TABLE t;');
SELECT count(*) FROM migrate_execute();
SQL

echo "== repairs change comments and whitespace, never statements"
check_eq "a statement added by the repair role is refused" \
    "ERROR:  the new text of migration 1 (create t) changes its statements or directives, not only comments or whitespace" \
    "$(err -c "SET ROLE pgm_rev_repair; SELECT migrate_accept_checksum('1', E'-- pgmig:snapshot-free\nCREATE TABLE t (id int); CREATE TABLE pwned AS SELECT current_user AS who;', 'comment-only edit')")"
check_eq "so is a changed literal or name" \
    "ERROR:  the new text of migration 1 (create t) changes its statements or directives, not only comments or whitespace" \
    "$(err -c "SET ROLE pgm_rev_repair; SELECT migrate_accept_checksum('1', E'-- pgmig:snapshot-free\nCREATE TABLE t2 (id int);', 'rename')")"
check_eq "and a directive added in a comment" \
    "ERROR:  the new text of migration 1 (create t) changes its statements or directives, not only comments or whitespace" \
    "$(err -c "SET ROLE pgm_rev_repair; SELECT migrate_accept_checksum('1', E'-- pgmig:snapshot-free\n-- pgmig:no-transaction\nCREATE TABLE t (id int);', 'directive')")"
check_eq "the registry still has the applied text" "t" \
    "$(q -c "SELECT up_sql LIKE '%-- the table%' AND up_sql NOT LIKE '%pwned%' FROM pg_migrate.migration WHERE version = '1'")"
check_eq "comments, case and whitespace are accepted" "accepted" \
    "$(q -c "SET ROLE pgm_rev_repair; SELECT migrate_accept_checksum('1', E'-- pgmig:snapshot-free\n/* reviewed */\ncreate   table T\n  (id INT);\n', 'formatting')")"
check_eq "the status is clean and nothing else ran" "applied " \
    "$(q -c "SELECT state || ' ' || coalesce(to_regclass('pwned')::text, '') FROM migrate_status() WHERE version = '1'")"

echo "== standard_conforming_strings off"
q -c "ALTER DATABASE $db SET standard_conforming_strings = off" >/dev/null
check_eq "migrate_accept_checksum compiles and runs" "accepted" \
    "$(q -c "SET ROLE pgm_rev_repair; SELECT migrate_accept_checksum('1', E'-- pgmig:snapshot-free\ncreate table t (id int); -- again\n', 'formatting again')" 2>&1 | grep -v WARNING)"
check_eq "a leading byte order mark is still removed" "t" \
    "$(q -c "SELECT migrate_accept_checksum('1', E'\\xEF\\xBB\\xBF-- pgmig:snapshot-free\ncreate table t (id int);', 'bom') IN ('accepted', 'unchanged') AND left(up_sql, 2) = '--' FROM pg_migrate.migration WHERE version = '1'" 2>&1 | grep -v WARNING | tail -1)"
psql -X -q -d "$db" -c "SELECT pg_sleep(3) /* migrate_execute ( */" >/dev/null 2>&1 &
sleeper=$!
sleep 0.5
check_eq "migrate_activity() runs and still sees a session calling migrate_execute(" "1" \
    "$(q -c "SELECT jsonb_array_length(migrate_activity()->'sessions')" 2>&1 | grep -v WARNING)"
wait $sleeper
# Found by the second review: the same text lexes differently under the two settings. A
# script applied with it on, "SELECT 'x\' -- ', 1;", is one statement; with it off, the
# literal ends after -- and the rest is a comment. A "comment-only" edit with it on adds a
# statement that a session with it off runs.
q >/dev/null <<'SQL'
SET standard_conforming_strings = on; SET client_min_messages = error;
CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);
SELECT migrate_register('2', 'legacy', E'SELECT \'x\\\' -- \', 1;\n', 'SELECT 1;');
SELECT count(*) FROM migrate_execute();
SQL
check_eq "an edit that is a comment under one setting and a statement under the other is refused" \
    "ERROR:  the new text of migration 2 (legacy) changes its statements or directives, not only comments or whitespace" \
    "$(err -c "SET ROLE pgm_rev_repair; SELECT migrate_accept_checksum('2', E'SELECT \\'x\\\\\\' -- \\', 1; DROP TABLE victim; --\\n', 'fix comment typo')")"
check_eq "the same edit with a real comment only is accepted" "accepted" \
    "$(q -c "SET ROLE pgm_rev_repair; SELECT migrate_accept_checksum('2', E'-- legacy\\nSELECT \\'x\\\\\\' -- \\', 1;\\n', 'comment')" 2>/dev/null | tail -1)"
q -c "ALTER DATABASE $db RESET standard_conforming_strings" >/dev/null

echo "== a backfill under row-level security"
q >/dev/null <<'SQL'
CREATE ROLE pgm_rev_bf LOGIN;
SELECT count(*) FROM migrate_grant('pgm_rev_bf', 'backfill');
CREATE TABLE acct (id int PRIMARY KEY, owner name, flag int);
INSERT INTO acct SELECT g, CASE WHEN g % 2 = 0 THEN 'pgm_rev_bf' ELSE 'someone' END, 0 FROM generate_series(1, 10) g;
ALTER TABLE acct ENABLE ROW LEVEL SECURITY;
CREATE POLICY sel ON acct FOR SELECT USING (true);
CREATE POLICY upd ON acct FOR UPDATE USING (owner = current_user);
GRANT SELECT, UPDATE ON acct TO pgm_rev_bf;
SQL
check_eq "it is refused before a batch runs" \
    "ERROR:  cannot backfill public.acct: row-level security applies to you on it" \
    "$(err -c "SET ROLE pgm_rev_bf" -c "CALL migrate_backfill('acct', 'flag = 1', NULL, 3)")"
check_eq "no row changed, no progress recorded as completed" "0 0" \
    "$(q -c "SELECT (SELECT count(*) FROM acct WHERE flag = 1) || ' ' || (SELECT count(*) FROM pg_migrate.backfill_progress WHERE status = 'completed')")"
q -c "CALL migrate_backfill('acct', 'flag = 1', NULL, 3)" >/dev/null
check_eq "the table's owner (policies do not apply) backfills every row" "10" "$(q -c "SELECT count(*) FROM acct WHERE flag = 1")"
finish_checks
