#!/usr/bin/env bash
# pgmig snapshot create/list/verify/restore/drop/prune against a real cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
db=pgm_cli_snapshot
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
export PGDATABASE=$db
q() { psql -X -qtA -c "$1"; }
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }

q "CREATE EXTENSION pg_migrate" >/dev/null
q "CREATE TABLE users (id int PRIMARY KEY, email text)" >/dev/null
q "INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 500) g" >/dev/null
id=$("$pgmig" snapshot create --table users --label before --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["rows"])')
check_eq "create reports the id and rows" "1 500" "$id"
check_eq "list shows it" "1 public.users before 500" \
    "$("$pgmig" snapshot list --json | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]; print(s["id"], s["source"], s["label"], s["rows"])')"
check_eq "verify passes" 0 "$(code "$pgmig" snapshot verify 1)"
q "DELETE FROM users WHERE id > 100; UPDATE users SET email = 'x'" >/dev/null
check_eq "restore" 0 "$(code "$pgmig" snapshot restore 1)"
check_eq "the rows are back as they were" "500|0" "$(q "SELECT count(*) || '|' || count(*) FILTER (WHERE email = 'x') FROM users")"
q "UPDATE pg_migrate_snapshots.s1_users SET email = 'tampered' WHERE id = 1" >/dev/null
check_eq "verify of a changed snapshot exits 1" 1 "$(code "$pgmig" snapshot verify 1)"
check_eq "an unknown snapshot is an error" 1 "$(code "$pgmig" snapshot verify 99)"
check_eq "an unknown table is a usage error (exit 2, as for testdata and backup)" 2 "$(code "$pgmig" snapshot create --table nope)"
"$pgmig" snapshot create --table users >/dev/null
"$pgmig" snapshot create --table users >/dev/null
check_eq "prune without a rule is a usage error" 2 "$(code "$pgmig" snapshot prune)"
check_eq "prune --keep-last 1 drops two" "dropped 2 snapshot(s)" "$("$pgmig" snapshot prune --keep-last 1)"
check_eq "drop the last one" 0 "$(code "$pgmig" snapshot drop 3)"
check_eq "none left, and their tables are gone" "0|0" \
    "$(q "SELECT (SELECT count(*) FROM pg_migrate.snapshot) || '|' || (SELECT count(*) FROM pg_tables WHERE schemaname = 'pg_migrate_snapshots')")"
finish_checks
