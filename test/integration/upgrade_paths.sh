#!/usr/bin/env bash
# ALTER EXTENSION pg_migrate UPDATE from every earlier version ends with exactly the objects of
# a fresh install (members, columns, function definitions, privileges), and the history
# recorded under the old version survives the upgrade and stays usable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
root="$here/../.."
latest=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/extension/pg_migrate.control")
versions=$(ls "$root"/extension/sql/pg_migrate--*.sql | sed -n 's/.*pg_migrate--\([0-9.]*\)\.sql$/\1/p;s/.*pg_migrate--\([0-9.]*\)--[0-9.]*\.sql$/\1/p' | sort -uV)

describe() {  # the extension's objects, one line each, in a stable order
    psql -X -qtA -d "$1" <<'SQL'
SELECT 'member: ' || pg_describe_object(classid, objid, objsubid)
  FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_migrate')
UNION ALL
SELECT format('column: %s.%s %s %s %s default %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
              a.attnotnull, a.attgenerated, pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace IN ('pg_migrate'::regnamespace) AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint: ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'pg_migrate'::regnamespace
UNION ALL
SELECT 'index: ' || pg_get_indexdef(indexrelid)
  FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'pg_migrate'::regnamespace)
UNION ALL
SELECT 'function: ' || pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, 'default')
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_migrate')
UNION ALL
SELECT 'acl: ' || c.relname || ' ' || coalesce(c.relacl::text, 'default')
  FROM pg_class c WHERE c.relnamespace = 'pg_migrate'::regnamespace
UNION ALL
SELECT format('trigger: %s %s', pg_get_triggerdef(t.oid), t.tgenabled)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'pg_migrate'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT format('policy: %s %s %s %s %s', p.polrelid::regclass, p.polname, p.polcmd,
              pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
 WHERE c.relnamespace = 'pg_migrate'::regnamespace
UNION ALL
SELECT 'config: ' || array_to_string(extconfig::regclass[], ',') FROM pg_extension WHERE extname = 'pg_migrate'
ORDER BY 1;
SQL
}

dropdb --if-exists pgm_fresh 2>/dev/null
createdb pgm_fresh
psql -X -q -d pgm_fresh -c "CREATE EXTENSION pg_migrate" >/dev/null
check_eq "fresh install is at the default version" "$latest" \
    "$(psql -X -qtA -d pgm_fresh -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'")"
fresh=$(describe pgm_fresh)
checked=0
for v in $versions; do
    [ "$v" = "$latest" ] && continue
    db=pgm_from_${v//./_}
    dropdb --if-exists "$db" 2>/dev/null
    createdb "$db"
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE EXTENSION pg_migrate VERSION '$v';
SELECT migrate_register('1', 'before_upgrade', 'CREATE TABLE before_upgrade (i int);', 'DROP TABLE before_upgrade;');
SELECT * FROM migrate_execute();
ALTER EXTENSION pg_migrate UPDATE;
SQL
    upgraded=$(describe "$db")
    if [ "$fresh" = "$upgraded" ]; then same=yes; else same=no; diff <(echo "$fresh") <(echo "$upgraded") | head -20; fi
    check_eq "$v -> $latest leaves the same objects as a fresh install" yes "$same"
    check_eq "$v history survives the upgrade" "1|applied" \
        "$(psql -X -qtA -d "$db" -c "SELECT version || '|' || state FROM migrate_status()")"
    check_eq "$v history rolls back after the upgrade" "rolled_back" \
        "$(psql -X -qtA -d "$db" -c "SELECT status FROM migrate_rollback()")"
    dropdb "$db"
    checked=$((checked + 1))
done
check_eq "at least one earlier version was upgraded" yes "$([ "$checked" -gt 0 ] && echo yes || echo no)"
dropdb pgm_fresh
finish_checks
