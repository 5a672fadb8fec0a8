#!/usr/bin/env bash
# Every function of the extension, called with NULL for every argument (the list comes from
# the catalog, so a new function is covered): a clean answer or a clean error, never a crash
# or an internal error. Then hostile identifiers through the entry points that build SQL.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
db=pgm_null_arguments
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -d "$db" "$@"; }
q -c "CREATE EXTENSION pg_migrate" >/dev/null

echo "== NULL arguments"
calls=$(q <<'SQL'
SELECT CASE p.prokind WHEN 'p' THEN 'CALL ' ELSE 'SELECT * FROM ' END
       || p.oid::regproc || '('
       || coalesce((SELECT string_agg('NULL::' || CASE WHEN t = 'anyelement'::regtype THEN 'integer'
                                                       ELSE pg_catalog.format_type(t, NULL) END, ', ' ORDER BY n)
                      FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, n)), '')
       || ')'
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_migrate'
 WHERE p.prorettype <> 'event_trigger'::regtype
 ORDER BY 1
SQL
)
n=0
bad=""
while IFS= read -r call; do
    [ -z "$call" ] && continue
    n=$((n + 1))
    out=$(psql -X -qtA -d "$db" -v VERBOSITY=verbose -c "$call" 2>&1)
    state=$(echo "$out" | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -1)
    if ! psql -X -qtA -d "$db" -c "SELECT 1" >/dev/null 2>&1; then
        bad="$bad [$call: the server went away]"
    elif [ "$state" = "XX000" ] || echo "$out" | grep -q "server closed the connection"; then
        bad="$bad [$call: $out]"
    fi
done <<< "$calls"
check_eq "every one of the $n functions answers NULL arguments cleanly" "" "$bad"
[ "$n" -ge 40 ] || check_eq "the catalog listed the extension's functions" "at least 40" "$n"

echo "== hostile identifiers"
q >/dev/null <<'SQL'
CREATE SCHEMA "we""ird; DROP TABLE x --";
CREATE TABLE "we""ird; DROP TABLE x --"."ta""ble ); DROP TABLE victim; --" (id int PRIMARY KEY, "v; x" int);
INSERT INTO "we""ird; DROP TABLE x --"."ta""ble ); DROP TABLE victim; --" SELECT g, 0 FROM generate_series(1, 5) g;
CREATE TABLE victim (i int);
SQL
sid=$(q -c "SELECT snapshot_create('\"we\"\"ird; DROP TABLE x --\".\"ta\"\"ble ); DROP TABLE victim; --\"')")
check_eq "a table with quotes and semicolons in its names can be snapshotted" "1" "$sid"
q -c "UPDATE \"we\"\"ird; DROP TABLE x --\".\"ta\"\"ble ); DROP TABLE victim; --\" SET \"v; x\" = 9" >/dev/null
check_eq "and restored" "5" "$(q -c "SELECT snapshot_restore($sid)")"
q -c "CALL migrate_backfill('\"we\"\"ird; DROP TABLE x --\".\"ta\"\"ble ); DROP TABLE victim; --\"', '\"v; x\" = 1', batch_size => 2)" >/dev/null 2>&1
check_eq "and backfilled" "5" "$(q -c "SELECT count(*) FROM \"we\"\"ird; DROP TABLE x --\".\"ta\"\"ble ); DROP TABLE victim; --\" WHERE \"v; x\" = 1")"
check_eq "no statement hidden in the names ran" "t" "$(q -c "SELECT to_regclass('victim') IS NOT NULL")"
out=$(q -c "SELECT validation_check_add('bad name; DROP TABLE victim', 'business', 'SELECT 1 WHERE false')" 2>&1 | grep -c ERROR)
check_eq "a check name outside the documented pattern is refused" "1" "$out"

dropdb "$db"
finish_checks
