#!/usr/bin/env bash
# migrate_grant(role, purpose) gives a non-superuser role exactly what its kind of work needs:
# every documented command of that kind is run as such a role (pgmig and SQL), and a role given
# one purpose cannot do another's work (issue 10).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
db=pgm_grant_roles
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
roles="pgm_g_deploy pgm_g_monitor pgm_g_snapshot pgm_g_backfill pgm_g_testdata pgm_g_validation"
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
as() { local role=$1; shift; PGUSER=$role PGDATABASE=$db "$@"; }
code() { "$@" >/tmp/pgm_grant_out.$$ 2>&1; echo $?; }
last_output() { cat /tmp/pgm_grant_out.$$; }
for r in $roles; do psql -X -qtA -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
q >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
CREATE ROLE pgm_g_deploy LOGIN; CREATE ROLE pgm_g_monitor LOGIN; CREATE ROLE pgm_g_snapshot LOGIN;
CREATE ROLE pgm_g_backfill LOGIN; CREATE ROLE pgm_g_testdata LOGIN; CREATE ROLE pgm_g_validation LOGIN;
-- What the migrations themselves need is the database owner's to grant, not pg_migrate's.
GRANT CREATE ON SCHEMA public TO pgm_g_deploy;
SQL
for p in deploy monitor snapshot backfill testdata validation; do
    check_eq "migrate_grant for $p runs" 0 "$(code q -c "SELECT count(*) FROM migrate_grant('pgm_g_$p', '$p')")"
done
check_eq "a dry run lists without granting" "t" \
    "$(q -c "CREATE ROLE pgm_g_dry; SELECT count(*) > 3 AND NOT has_table_privilege('pgm_g_dry', 'pg_migrate.migration', 'SELECT') FROM migrate_grant('pgm_g_dry', 'deploy', dry_run => true); " | tail -1)"
q -c "DROP ROLE pgm_g_dry" >/dev/null
check_contains "an unknown purpose names the known ones" "The purposes are: backfill, backup, deploy, monitor, repair, snapshot, testdata, validation." \
    "$(q -c "SELECT migrate_grant('pgm_g_deploy', 'root')" 2>&1)"
check_contains "an unknown role is refused" 'role "nobody_here" does not exist' "$(q -c "SELECT migrate_grant('nobody_here', 'deploy')" 2>&1)"
check_contains "a role that may not grant cannot use it to gain rights" "permission denied" \
    "$(as pgm_g_monitor psql -X -qtA -c "SELECT migrate_grant('pgm_g_monitor', 'deploy')" 2>&1)"

work=$(mktemp -d)
mkdir -p "$work/migrations" "$work/seeds"
cat >"$work/migrations/20260101000000_create_items.up.sql" <<'SQL'
-- pgmig:snapshot
CREATE TABLE items (id int PRIMARY KEY, name text, slug text);
INSERT INTO items SELECT g, 'item ' || g, NULL FROM generate_series(1, 50) g;
SQL
echo "DROP TABLE items;" >"$work/migrations/20260101000000_create_items.down.sql"
echo "SELECT count(*) = 50 FROM items;" >"$work/migrations/20260101000000_create_items.verify.sql"
echo "CREATE INDEX CONCURRENTLY items_name_idx ON items (name);" >"$work/migrations/20260101000100_index_items.up.sql"
echo "DROP INDEX CONCURRENTLY items_name_idx;" >"$work/migrations/20260101000100_index_items.down.sql"
printf -- '-- pgmig:snapshot items\nUPDATE items SET name = upper(name);\n' >"$work/migrations/20260101000200_shout.up.sql"
echo "INSERT INTO items VALUES (1000, 'seeded', NULL) ON CONFLICT DO NOTHING;" >"$work/seeds/01_items.sql"
cd "$work"

echo "== deploy: every pgmig command of a deploy"
for cmd in "lint migrations/20260101000000_create_items.up.sql" "preflight" "status" "up" "status --strict" "validate" "drift" "seed seeds" "health" \
           "down --steps 1" "up" "down --to 20260101000000" "up" "run-all"; do
    rc=$(code as pgm_g_deploy "$pgmig" $cmd)
    check_eq "pgmig $cmd as the deploy role" 0 "$rc"
    [ "$rc" = 0 ] || last_output | tail -5
done
check_eq "everything applied, by the deploy role" "3|pgm_g_deploy" \
    "$(q -c "SELECT count(*) || '|' || string_agg(DISTINCT applied_by, ',') FROM pg_migrate.migration WHERE state = 'applied'")"
check_eq "the declared snapshot was restored by a rollback" "t" \
    "$(q -c "SELECT count(*) > 0 FROM pg_migrate.snapshot WHERE restored_at IS NOT NULL")"

echo "== monitor: watching only"
for cmd in "status" "monitor --once" "health"; do
    rc=$(code as pgm_g_monitor "$pgmig" $cmd)
    check_eq "pgmig $cmd as the monitor role" 0 "$rc"
    [ "$rc" = 0 ] || last_output | tail -5
done
check_eq "the monitor role cannot deploy" 1 "$(code as pgm_g_monitor "$pgmig" down --steps 1)"
check_contains "... and its permission error names the grants that would let it" \
    "pgmig down needs the 'deploy' grants: a superuser (or the extension's owner) runs SELECT migrate_grant('<this role>', 'deploy')" \
    "$(as pgm_g_monitor "$pgmig" down --steps 1 2>&1 || true)"
check_contains "and the error says it lacks a privilege" "permission denied" "$(last_output)"

echo "== snapshot, backfill, testdata, validation"
q -c "CREATE TABLE notes (id int PRIMARY KEY, body text, words int); INSERT INTO notes SELECT g, 'a b c', NULL FROM generate_series(1, 30) g;
      ALTER TABLE notes OWNER TO pgm_g_snapshot; GRANT SELECT, UPDATE ON notes TO pgm_g_backfill; GRANT SELECT, INSERT, DELETE ON notes TO pgm_g_testdata" >/dev/null
sid=$(as pgm_g_snapshot psql -X -qtA -c "SELECT snapshot_create('notes')")
check_eq "snapshot_create as the snapshot role" "yes" "$([ -n "$sid" ] && echo yes || echo no)"
as pgm_g_snapshot psql -X -qtA -c "DELETE FROM notes" >/dev/null
check_eq "snapshot_verify and snapshot_restore as the snapshot role" "true|30" \
    "$(as pgm_g_snapshot psql -X -qtA -c "SELECT (SELECT ok FROM snapshot_verify($sid))::text || '|' || snapshot_restore($sid)")"
check_eq "pgmig snapshot list as the snapshot role" 0 "$(code as pgm_g_snapshot "$pgmig" snapshot list)"
check_eq "CALL migrate_backfill as the backfill role" 0 \
    "$(code as pgm_g_backfill psql -X -qtA -v ON_ERROR_STOP=1 -c "CALL migrate_backfill('notes', 'words = 3', batch_size => 7)")"
check_eq "every row filled" "30" "$(q -c "SELECT count(*) FROM notes WHERE words = 3")"
check_eq "pgmig testdata generate as the testdata role" 0 "$(code as pgm_g_testdata "$pgmig" testdata generate --table notes --rows 20)"
check_eq "pgmig testdata cleanup as the testdata role" 0 "$(code as pgm_g_testdata "$pgmig" testdata cleanup --all)"
check_eq "validation_check_add as the validation role" 0 \
    "$(code as pgm_g_validation psql -X -qtA -v ON_ERROR_STOP=1 -c "SELECT validation_check_add('items_named', 'integrity', 'SELECT id FROM public.items WHERE name IS NULL')")"
check_eq "the deploy role runs it" 0 "$(code as pgm_g_deploy "$pgmig" validate)"

cd /
rm -rf "$work" /tmp/pgm_grant_out.$$
dropdb "$db"
for r in $roles; do psql -X -qtA -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
finish_checks
