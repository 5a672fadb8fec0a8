#!/usr/bin/env bash
# pgmig up --dry-run refuses what pgmig up refuses, with the same exit code and message, and
# changes nothing (and so do preflight, which sees files not registered yet, and run-all, whose
# --json summary carries each step's exit code): an unknown --to (2), --atomic over a no-transaction migration (2), a
# critical pre-flight failure (3), an applied file that was edited (1); and on a clean folder
# both succeed (0).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
db=pgm_dry_run_agrees
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
export PGDATABASE=$db
q() { psql -X -qtA -c "$1"; }
work=$(mktemp -d)
cd "$work"
mkdir migrations
holder=
cleanup() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; cd /; rm -rf "$work"; }
trap cleanup EXIT
# Runs `pgmig up ARGS` with and without --dry-run; prints "<dry rc> <real rc>" and keeps the
# error lines of both in dry.err / real.err.
both() {
    set +e
    "$pgmig" up --dry-run "$@" >/dev/null 2>dry.err
    local d=$?
    "$pgmig" up "$@" >/dev/null 2>real.err
    local r=$?
    set -e
    echo "$d $r"
}
same_error() { diff <(grep '^pgmig: error' dry.err) <(grep '^pgmig: error' real.err) && echo same; }

"$pgmig" init >/dev/null 2>&1
check_eq "init --json: typed, on a database that has the extension" "False False migrations" \
    "$("$pgmig" init --json | python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["created_extension"], d["created_folder"], d["folder"])')"
check_eq "a command-line error under --json is JSON on stderr" "2 2" \
    "$("$pgmig" --json up --to 1 --bogus 2>&1 >/dev/null | python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["exit_code"], 2 if d["error"].startswith("unknown option --bogus") else 0)')"
q "CREATE TABLE accounts (id int PRIMARY KEY)" >/dev/null
printf 'ALTER TABLE accounts ADD COLUMN email text;\n' >migrations/1_email.up.sql
printf -- '-- pgmig:no-transaction\nCREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\n' \
    >migrations/2_index.up.sql

check_eq "an unknown --to: both exit 2" "2 2" "$(both --to 99)"
check_eq "with the same message" same "$(same_error)"
check_eq "--atomic over a no-transaction migration: both exit 2" "2 2" "$(both --atomic)"
check_eq "with the same message" same "$(same_error)"
check_contains "naming it" "--atomic cannot include migration 2" "$(cat dry.err)"

# A session idle in a transaction holds a lock the first migration conflicts with.
(echo "BEGIN; LOCK TABLE accounts IN ACCESS SHARE MODE;"; sleep 60) | psql -X -q >/dev/null &
holder=$!
for _ in $(seq 1 50); do
    [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()")" = 1 ] && break
    sleep 0.1
done
check_eq "a critical pre-flight failure (blocking_locks): both exit 3" "3 3" "$(both)"
check_eq "with the same message" same "$(same_error)"
check_contains "naming the check" "blocking_locks" "$(cat dry.err)"
set +e
"$pgmig" preflight --json >pre.json 2>/dev/null
pre=$?
"$pgmig" run-all --json >runall.json 2>/dev/null
runall=$?
set -e
check_eq "pgmig preflight sees the files not registered yet, and exits 3 as up does" 3 "$pre"
check_eq "its JSON is typed: critical is a boolean, and blocking_locks failed" "True fail" \
    "$(python3 -c 'import json; r = {c["check_name"]: c for c in json.load(open("pre.json"))}; print(r["blocking_locks"]["critical"], r["blocking_locks"]["status"])')"
check_eq "run-all stops at its preflight step with exit 3" 3 "$runall"
check_eq "its --json document says so" "preflight failed 3; up not run; 3" \
    "$(python3 -c 'import json; d = json.load(open("runall.json")); s = d["steps"]; print(s[0]["step"], s[0]["result"], s[0]["exit_code"], end="; "); print(s[2]["step"], s[2]["result"], end="; "); print(d["exit_code"])')"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null || true
holder=
check_eq "nothing was registered by the dry runs or applied by the refused runs" "0 false" \
    "$(q "SELECT (SELECT count(*) FROM pg_migrate.migration WHERE state = 'applied') || ' ' || EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'email')")"

check_eq "a clean folder: both succeed" "0 0" "$(both)"
check_eq "and the real up applied both" 2 "$(q "SELECT count(*) FROM pg_migrate.migration WHERE state = 'applied'")"

printf 'ALTER TABLE accounts ADD COLUMN email text; -- and more\nALTER TABLE accounts ADD COLUMN plan text;\n' \
    >migrations/1_email.up.sql
check_eq "an applied file edited since: both exit 1" "1 1" "$(both)"
check_eq "with the same message" same "$(same_error)"
check_eq "nothing ran" f "$(q "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'plan')")"

echo "== status --strict, lint and preflight agree with up"
printf 'ALTER TABLE accounts ADD COLUMN email text;\n' >migrations/1_email.up.sql
check_eq "the file as applied again: up succeeds" 0 "$("$pgmig" up >/dev/null 2>&1; echo $?)"
mv migrations/1_email.up.sql migrations/1_add_email.up.sql
set +e
"$pgmig" status --strict >status.out 2>&1
st=$?
"$pgmig" preflight >/dev/null 2>pre.err
pre=$?
set -e
check_eq "a renamed applied file: status --strict fails (1)" 1 "$st"
check_contains "saying it was renamed, and what up does" "renamed  registered as email (applied): up refuses a new name" "$(cat status.out)"
check_eq "up and its dry run refuse it (1)" "1 1" "$(both)"
check_eq "with the same message" same "$(same_error)"
check_eq "and preflight (1), with that message" "1 same" \
    "$pre $(diff <(grep '^pgmig: error' pre.err) <(grep '^pgmig: error' real.err) && echo same)"
mv migrations/1_add_email.up.sql migrations/1_email.up.sql
printf 'ALTER TABLE accounts ADD COLUMN plan text NOT NULL;\n' >migrations/3_plan.up.sql
set +e
lint=$("$pgmig" lint 2>&1)
lrc=$?
set -e
check_eq "pgmig lint without files lints the migrations not applied: exit 1 on the error" 1 "$lrc"
check_contains "naming the file" "migrations/3_plan.up.sql" "$lint"
check_eq "and only those" 0 "$(echo "$lint" | grep -c '1_email\|2_index')"
check_contains "up --dry-run warns before" "warning: migration 3 (plan), statement 1: lint error adding-required-field" \
    "$("$pgmig" up --dry-run 2>&1)"
out=$("$pgmig" up 2>&1)
check_eq "up warns and applies it (lint is advice)" "applied" "$(q "SELECT state FROM pg_migrate.migration WHERE version = '3'")"
check_contains "the warning" "warning: migration 3 (plan), statement 1: lint error adding-required-field" "$out"
dropdb "$db"
finish_checks
