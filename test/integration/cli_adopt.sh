#!/usr/bin/env bash
# pgmig adopt: a database migrated with the real dbmate (npm) switches to pgmig without
# re-running anything; golang-migrate and Flyway histories (tables written by hand, as those
# tools are not on npm) are read too, and a dirty golang-migrate history is refused.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
source "$here/../lib/deps.sh"
dbmate=$(ensure_dbmate)
db=pgm_adopt
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
export PGDATABASE=$db
q() { psql -X -qtA -c "$1"; }
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }
work=$(mktemp -d)
cd "$work"

# Two migrations applied by dbmate.
mkdir -p db/migrations
printf -- '-- migrate:up\nCREATE TABLE accounts (id int PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE accounts;\n' \
    >db/migrations/20250101000000_create_accounts.sql
printf -- '-- migrate:up\nALTER TABLE accounts ADD COLUMN email text;\n\n-- migrate:down\nALTER TABLE accounts DROP COLUMN email;\n' \
    >db/migrations/20250201000000_add_email.sql
DATABASE_URL="postgres://$PGUSER@127.0.0.1:$PGPORT/$db?sslmode=disable" "$dbmate" --no-dump-schema up >/dev/null
check_eq "dbmate applied two migrations" 2 "$(q "SELECT count(*) FROM schema_migrations")"

# The same migrations as pgmig files, plus a new one.
"$pgmig" init >/dev/null
echo "CREATE TABLE accounts (id int PRIMARY KEY);" >migrations/20250101000000_create_accounts.up.sql
echo "DROP TABLE accounts;" >migrations/20250101000000_create_accounts.down.sql
echo "ALTER TABLE accounts ADD COLUMN email text;" >migrations/20250201000000_add_email.up.sql
echo "ALTER TABLE accounts ADD COLUMN plan text;" >migrations/20250301000000_add_plan.up.sql
check_eq "adopt --dry-run" "would_baseline,would_baseline,pending" \
    "$("$pgmig" adopt --from dbmate --dry-run --json | python3 -c 'import json,sys; print(",".join(r["status"] for r in json.load(sys.stdin)))')"
check_eq "the dry run changed nothing" 0 "$(q "SELECT count(*) FROM pg_migrate.migration")"
check_eq "adopt" "baselined,baselined,pending" \
    "$("$pgmig" adopt --from dbmate --json | python3 -c 'import json,sys; print(",".join(r["status"] for r in json.load(sys.stdin)))')"
check_eq "up runs only the new migration" 0 "$(code "$pgmig" up)"
check_eq "nothing ran twice: one execution row each" "3" \
    "$(q "SELECT count(*) FROM (SELECT version FROM pg_migrate.execution_log GROUP BY version HAVING count(*) = 1) s")"
check_eq "baselined rows say where they came from" "2" \
    "$(q "SELECT count(*) FROM pg_migrate.execution_log WHERE message = 'baselined: applied by dbmate'")"
check_eq "status is clean" 0 "$(code "$pgmig" status --strict)"
check_eq "adopting again changes nothing" "already applied,already applied,pending" \
    "$("$pgmig" adopt --from dbmate --json | python3 -c 'import json,sys; print(",".join(r["status"] for r in json.load(sys.stdin)))')" 

# golang-migrate: one row with the current version; a dirty one is refused.
q "DROP TABLE schema_migrations" >/dev/null
q "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)" >/dev/null
q "INSERT INTO schema_migrations VALUES (20250201000000, true)" >/dev/null
check_eq "a dirty golang-migrate history is refused (exit 3)" 3 "$(code "$pgmig" adopt --from golang-migrate --dry-run)"
q "UPDATE schema_migrations SET dirty = false" >/dev/null
check_eq "golang-migrate: everything up to its version" "would_baseline,would_baseline,pending" \
    "$("$pgmig" adopt --from golang-migrate --dry-run --json | python3 -c 'import json,sys; print(",".join(r["status"] for r in json.load(sys.stdin)))')"

# Flyway: successful rows with digit versions.
q "CREATE TABLE flyway_schema_history (installed_rank int, version text, description text, success boolean)" >/dev/null
q "INSERT INTO flyway_schema_history VALUES (1, '20250101000000', 'create', true), (2, '20250201000000', 'email', false), (3, NULL, 'repeatable', true)" >/dev/null
check_eq "flyway: only successful versions" "would_baseline,pending,pending" \
    "$("$pgmig" adopt --from flyway --dry-run --json | python3 -c 'import json,sys; print(",".join(r["status"] for r in json.load(sys.stdin)))')"
check_eq "an unknown tool is a usage error" 2 "$(code "$pgmig" adopt --from liquibase)"
cd /
rm -rf "$work"
dropdb "$db"
finish_checks
