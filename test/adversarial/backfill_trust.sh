#!/usr/bin/env bash
# A backfill runs with exactly the grants the docs list (both copies of the list), and a
# schema on the caller's path cannot substitute the key's type in the batch statement: a
# domain named like the key's type, whose check calls the attacker's function (issue 9).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root="$here/../.."
source "$here/../lib/assert.sh"
db=pgm_backfill_trust
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# The sql block that follows a marker line in a doc.
grants_after() {
    awk -v marker="$2" 'index($0, marker) { found = 1 } found && /^```sql/ { on = 1; next }
                        on && /^```/ { exit } on { print }' "$root/docs/$1"
}
q >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
SET client_min_messages = warning;
DROP ROLE IF EXISTS pgm_deployer; DROP ROLE IF EXISTS pgm_planter;
RESET client_min_messages;
CREATE ROLE pgm_deployer NOLOGIN;
CREATE ROLE pgm_planter NOLOGIN;
CREATE TABLE tags (name text PRIMARY KEY, slug text);
INSERT INTO tags (name) SELECT 'tag' || i FROM generate_series(1, 25) i;
GRANT SELECT, UPDATE ON tags TO pgm_deployer;
CREATE TABLE pwned (who name, what text);
GRANT INSERT ON pwned TO PUBLIC;
-- A schema another role can write, on the deployer's path before pg_catalog, with a domain
-- named like the key's type (format_type() says "text").
CREATE SCHEMA shared AUTHORIZATION pgm_planter;
GRANT USAGE ON SCHEMA shared TO pgm_deployer;
SET ROLE pgm_planter;
CREATE FUNCTION shared.spy(v pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO public.pwned VALUES (current_user, 'domain check'); RETURN true; END$$;
CREATE DOMAIN shared.text AS pg_catalog.text CHECK (shared.spy(VALUE));
GRANT USAGE ON TYPE shared.text TO PUBLIC;
GRANT EXECUTE ON FUNCTION shared.spy(pg_catalog.text) TO PUBLIC;
RESET ROLE;
SQL
zd=$(grants_after zero-downtime.md "A role that runs backfills needs")
sec=$(grants_after security.md "**Backfill** (")
check_eq "zero-downtime.md lists backfill grants" yes "$([ -n "$zd" ] && echo yes || echo no)"
check_eq "security.md lists the same grants" "$zd" "$(echo "$sec" | sed '1i GRANT USAGE ON SCHEMA pg_migrate TO pgm_deployer;')"
echo "$zd" | q >/dev/null

echo "== the documented grants are enough"
out=$(q -c "SET ROLE pgm_deployer" -c "CALL migrate_backfill('tags', 'slug = lower(name)', batch_size => 10)" 2>&1)
check_eq "the backfill runs as the deploy role" "" "$(echo "$out" | grep ERROR)"
check_eq "every row was filled" "25" "$(q -c "SELECT count(*) FROM tags WHERE slug = name")"
check_eq "in three batches" "completed|3" "$(q -c "SELECT status || '|' || batches FROM migrate_backfill_progress()")"

echo "== a hostile schema on the caller's path"
q -c "UPDATE tags SET slug = NULL" >/dev/null
out=$(PGOPTIONS="-c search_path=shared,public,pg_catalog" \
      q -c "SET ROLE pgm_deployer" -c "CALL migrate_backfill('tags', 'slug = ''x''', batch_size => 10)" 2>&1)
check_eq "the backfill runs with the shadowing path" "" "$(echo "$out" | grep ERROR)"
check_eq "every row was filled" "25" "$(q -c "SELECT count(*) FROM tags WHERE slug = 'x'")"
check_eq "the key's type was never taken from the hostile schema" "0" "$(q -c "SELECT count(*) FROM pwned")"

dropdb "$db"
psql -X -qtA -d postgres -c "DROP ROLE IF EXISTS pgm_deployer" -c "DROP ROLE IF EXISTS pgm_planter" >/dev/null 2>&1
finish_checks
