#!/usr/bin/env bash
# A user's pg_dump keeps the registry and both logs (pg_extension_config_dump), and a restored
# database knows exactly what was applied.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
src=pgm_dump_src
dst=pgm_dump_dst
dropdb --if-exists "$src" 2>/dev/null; dropdb --if-exists "$dst" 2>/dev/null
createdb "$src"; createdb "$dst"
psql -X -q -v ON_ERROR_STOP=1 -d "$src" >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
SELECT migrate_register('1', 'create_a', 'CREATE TABLE a (i int);', 'DROP TABLE a;');
SELECT migrate_register('2', 'fails', 'SELECT 1/0;');
SELECT * FROM migrate_execute();
SQL
dump=$(mktemp)
pg_dump -Fc -f "$dump" "$src"
pg_restore -d "$dst" "$dump"
q() { psql -X -qtA -d "$1" -c "$2"; }
check_eq "registry restored" "1|applied,2|failed" \
    "$(q "$dst" "SELECT string_agg(version || '|' || state, ',' ORDER BY version) FROM migrate_status()")"
check_eq "execution log restored" "$(q "$src" "SELECT count(*) FROM pg_migrate.execution_log")" \
    "$(q "$dst" "SELECT count(*) FROM pg_migrate.execution_log")"
check_eq "rollback log restored" 1 "$(q "$dst" "SELECT count(*) FROM pg_migrate.rollback_log")"
# Sequences continue after the restored rows, so new log rows do not collide.
q "$dst" "SELECT migrate_register('2', 'fails', 'SELECT 1;')" >/dev/null
check_eq "a new run logs after the restored history" "2|applied" \
    "$(q "$dst" "SELECT version || '|' || status FROM migrate_execute()")"
check_eq "log ids keep increasing" t \
    "$(q "$dst" "SELECT max(id) = (SELECT id FROM pg_migrate.execution_log WHERE status = 'succeeded' AND version = '2') FROM pg_migrate.execution_log")"
rm -f "$dump"
dropdb "$src"; dropdb "$dst"
finish_checks
