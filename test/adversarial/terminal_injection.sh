#!/usr/bin/env bash
# Text that other roles write into the database (a backfill's table name, a test data batch's,
# a snapshot label) never reaches the terminal raw: pgmig's tables, monitor view and error
# messages escape control characters (found by review: a role with the backfill grants could
# retitle the administrator's terminal and clear it through pgmig monitor).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_term_inject
role=pgm_term_writer
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
}
trap cleanup EXIT
cleanup
createdb "$db" || exit 1
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
q "CREATE ROLE $role LOGIN; CREATE EXTENSION pg_migrate;
   SELECT count(*) FROM migrate_grant('$role', 'backfill'); SELECT count(*) FROM migrate_grant('$role', 'testdata');
   SELECT count(*) FROM migrate_grant('$role', 'snapshot');
   CREATE TABLE public.t (id int PRIMARY KEY); GRANT SELECT ON public.t TO $role" >/dev/null || exit 1
PGUSER=$role psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || exit 1
INSERT INTO pg_migrate.backfill_progress (table_oid, table_name, key_column, set_clause, batch_size, sleep_ms, status)
VALUES ('public.t'::regclass, E'evil\x1b]0;PWNED\x07\x1b[2J', 'id', 'x = 1', 10, 0, 'running');
INSERT INTO pg_migrate.testdata_batch (table_oid, table_name, key_columns, rows)
VALUES (4294967000, E'gone\x1b[2J\x1b[31m', ARRAY['id']::name[], 1);
SELECT snapshot_create('public.t', E'label\x1b[2J');
SQL
raw() { grep -c $'\x1b' <<<"$1"; }
out=$(NO_COLOR=1 "$pgmig" --db "dbname=$db" monitor --once 2>&1)
check_contains "monitor shows the backfill" 'evil\x1b]0;PWNED\x07\x1b[2J' "$out"
check_eq "... escaped: no raw ESC byte" 0 "$(raw "$out")"
out=$("$pgmig" --db "dbname=$db" testdata list 2>&1)
check_contains "testdata list shows the batch" 'gone\x1b[2J\x1b[31m' "$out"
check_eq "... escaped" 0 "$(raw "$out")"
out=$("$pgmig" --db "dbname=$db" snapshot list 2>&1)
check_contains "snapshot list shows the label" 'label\x1b[2J' "$out"
check_eq "... escaped" 0 "$(raw "$out")"
out=$("$pgmig" --db "dbname=$db" snapshot create --table $'no\x1b[2Jsuch' 2>&1)
check_contains "an error quoting a typed name" 'no\x1b[2Jsuch' "$out"
check_eq "... escaped" 0 "$(raw "$out")"
finish_checks
