#!/usr/bin/env bash
# Project settings: pgmig.toml (or --config FILE) and PGMIG_* variables hold any long option;
# a flag wins over PGMIG_*, PGMIG_DB over DATABASE_URL, the environment over the file, the
# file over the built-in default. Bad files are usage errors naming file and line, and a
# setting's value (a password, maybe) is never printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
with=pgm_settings_with
without=pgm_settings_without
for d in $with $without; do dropdb --if-exists "$d" 2>/dev/null; createdb "$d"; done
work=$(mktemp -d)
holder=
cleanup() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; cd /; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
unset DATABASE_URL PGMIG_DB PGMIG_DIR PGMIG_LOCK_WAIT PGMIG_FORMAT
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }
first_file() { python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][0].split("/")[0])'; }
mkdir from_file from_env from_flag
"$pgmig" --db "dbname=$with" --dir from_file init >/dev/null 2>&1

echo "== precedence: flag > PGMIG_* > file > default"
printf 'dir = "from_file"\n' >pgmig.toml
check_eq "the file's dir" from_file "$("$pgmig" new a --json | first_file)"
check_eq "PGMIG_DIR over the file" from_env "$(PGMIG_DIR=from_env "$pgmig" new b --json | first_file)"
check_eq "--dir over both" from_flag "$(PGMIG_DIR=from_env "$pgmig" --dir from_flag new c --json | first_file)"
rm pgmig.toml
check_eq "without a file: the default (migrations)" "migrations" "$(mkdir -p migrations; "$pgmig" new d --json | first_file)"

mkdir dbm
printf 'format = "dbmate"\n' >dbmate.toml
check_eq "--config FILE: a global option (format) from another file" "dbmate .sql" \
    "$("$pgmig" --config dbmate.toml --dir dbm new e --json | python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["layout"], d["files"][0][-4:])')"

echo "== the database"
rm -rf from_file/*
mkdir -p migrations
printf 'db = "dbname=%s"\n' "$without" >pgmig.toml
check_eq "the file's db (a database without the extension): status fails" 1 "$(code "$pgmig" status)"
check_eq "DATABASE_URL over the file" 0 "$(DATABASE_URL="dbname=$with" code "$pgmig" status)"
check_eq "PGMIG_DB over DATABASE_URL" 1 "$(PGMIG_DB="dbname=$without" DATABASE_URL="dbname=$with" code "$pgmig" status)"
check_eq "--db over all" 0 "$(PGMIG_DB="dbname=$without" code "$pgmig" --db "dbname=$with" status)"
rm pgmig.toml

echo "== a command's table: [up] lock-wait"
printf 'CREATE TABLE waited (i int);\n' >migrations_up.sql
mkdir up && mv migrations_up.sql up/1_waited.up.sql
psql -X -q -d "$with" -c "SELECT pg_advisory_lock(1885826409, 1735549300), pg_sleep(30)" >/dev/null &
holder=$!
for _ in $(seq 1 50); do
    [ "$(psql -X -qtA -d "$with" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1885826409 AND granted")" = 1 ] && break
    sleep 0.1
done
printf 'db = "dbname=%s"\ndir = "up"\n[up]\nlock-wait = 1\n' "$with" >pgmig.toml
check_contains "[up] lock-wait from the file" "after 1 s" "$("$pgmig" up 2>&1 || true)"
check_contains "PGMIG_LOCK_WAIT over it" "after 2 s" "$(PGMIG_LOCK_WAIT=2 "$pgmig" up 2>&1 || true)"
check_contains "--lock-wait over both" "after 3 s" "$(PGMIG_LOCK_WAIT=2 "$pgmig" up --lock-wait 3 2>&1 || true)"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true
holder=
psql -X -qtA -d "$with" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
rm pgmig.toml

echo "== what a command covers is typed every time"
mkdir m3
for v in 1 2 3; do
    printf 'CREATE TABLE t%s (i int);\n' "$v" >m3/${v}_t$v.up.sql
    printf 'DROP TABLE t%s;\n' "$v" >m3/${v}_t$v.down.sql
done
"$pgmig" --db "dbname=$with" --dir m3 up >/dev/null 2>&1
check_eq "PGMIG_TO does not widen down --steps 1 (found by review: it reverted all three)" "3" \
    "$(PGMIG_TO=0 "$pgmig" --db "dbname=$with" --dir m3 down --steps 1 --dry-run --json | python3 -c 'import json,sys; print(",".join(r["version"] for r in json.load(sys.stdin)))')"
check_eq "nor makes a bare down revert everything: still a usage error (2)" 2 \
    "$(PGMIG_TO=0 code "$pgmig" --db "dbname=$with" --dir m3 down)"
printf '[down]\nto = "0"\n' >down.toml
check_contains "a file that sets it is refused" "down.toml:2: --to cannot be set in a file; give it on the command line" \
    "$("$pgmig" --config down.toml --db "dbname=$with" --dir m3 down --steps 1 2>&1 || true)"
printf '[up]\nallow-out-of-order = true\n' >safety.toml
check_contains "so is a setting that turns a safety check off" "--allow-out-of-order cannot be set in a file" \
    "$("$pgmig" --config safety.toml --db "dbname=$with" --dir m3 up 2>&1 || true)"
check_eq "all three are still applied" 3 "$(psql -X -qtA -d "$with" -c "SELECT count(*) FROM pg_migrate.migration WHERE state = 'applied' AND version IN ('1','2','3')")"
printf 'json = true\n' >json.toml
check_contains "json = true in the file makes errors JSON too" '"exit_code":1' \
    "$("$pgmig" --config json.toml --db "host=/nonexistent" status 2>&1 || true)"

echo "== bad settings"
printf 'dir = [1\n' >broken.toml
check_eq "a file that is not TOML is a usage error (2)" 2 "$(code "$pgmig" --config broken.toml status)"
check_contains "naming the file and line" "broken.toml:1: not valid TOML" "$("$pgmig" --config broken.toml status 2>&1 || true)"
printf '[up]\nlok-wait = 1\n' >typo.toml
check_eq "an option no command has" "pgmig: error: typo.toml:2: pgmig up has no option --lok-wait" \
    "$("$pgmig" --config typo.toml status 2>&1 | head -1)"
printf '[upp]\nlock-wait = 1\n' >typo2.toml
check_contains "a command that does not exist" "typo2.toml:2: there is no command upp" "$("$pgmig" --config typo2.toml status 2>&1 || true)"
printf '[up]\nlock-wait = "s3cret-value"\n' >value.toml
out=$("$pgmig" --config value.toml status 2>&1 || true)
check_contains "a value the option refuses names the setting" "value.toml:2: not a valid value for --lock-wait" "$out"
check_eq "but never the value" 0 "$(echo "$out" | grep -c s3cret)"
check_eq "PGMIG_LOCK_WAIT=abc is refused the same way (2)" 2 "$(PGMIG_LOCK_WAIT=abc code "$pgmig" --dir up status)"
check_eq "--config of a missing file (2)" 2 "$(code "$pgmig" --config nope.toml status)"
printf 'db = "postgresql://u:s3cret@127.0.0.1:1/x"\n' >secret.toml
check_eq "a password in the file is not in --help" 0 "$("$pgmig" --config secret.toml --help | grep -c s3cret || true)"
check_eq "nor in the connection error" 0 "$("$pgmig" --config secret.toml status 2>&1 | grep -c s3cret || true)"
check_eq "errors about settings are JSON under --json" "2" \
    "$("$pgmig" --config typo.toml --json status 2>&1 >/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["exit_code"])')"
for d in $with $without; do dropdb "$d"; done
finish_checks
