#!/usr/bin/env bash
# pgmig against a real cluster: init, new, up (with a CREATE INDEX CONCURRENTLY migration run
# outside a transaction), a failure half way through a no-transaction migration and the
# resumed up, an edited and a deleted applied file, two deploys at once, down --to/--steps.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
db=pgm_cli
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
export PGDATABASE=$db
work=$(mktemp -d)
cd "$work"
q() { psql -X -qtA -c "$1"; }
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }

check_eq "pgmig init" 0 "$(code "$pgmig" init)"
cat >migrations/20260101000000_create_users.up.sql <<'SQL'
CREATE TABLE users (id int PRIMARY KEY, email text, role text);
INSERT INTO users SELECT g, 'user' || g || '@example.com', 'member' FROM generate_series(1, 100) g;
SQL
echo "DROP TABLE users;" >migrations/20260101000000_create_users.down.sql
cat >migrations/20260101000100_index_users.up.sql <<'SQL'
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
CREATE INDEX CONCURRENTLY users_role_idx ON users (role);
SQL
echo "DROP INDEX CONCURRENTLY users_role_idx; DROP INDEX CONCURRENTLY users_email_idx;" \
    >migrations/20260101000100_index_users.down.sql

check_eq "status before: two pending" "pending,pending" \
    "$("$pgmig" status --json | python3 -c 'import json,sys; print(",".join(m["state"] for m in json.load(sys.stdin)["migrations"]))')"
check_eq "up applies both" 0 "$(code "$pgmig" up)"
check_eq "both indexes built and valid" "2" \
    "$(q "SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND indisvalid AND NOT indisprimary")"
check_eq "the concurrent migration is recorded as applied" "applied" \
    "$(q "SELECT state FROM pg_migrate.migration WHERE version = '20260101000100'")"

# A no-transaction migration that fails at its second statement: the first stays applied,
# the failure is on record, and the next up resumes at the failed statement.
cat >migrations/20260101000200_more_indexes.up.sql <<'SQL'
-- pgmig:no-transaction
CREATE INDEX CONCURRENTLY users_id_role_idx ON users (id, role);
CREATE UNIQUE INDEX CONCURRENTLY users_role_unique ON users (role);
CREATE INDEX CONCURRENTLY users_email_role_idx ON users (email, role);
SQL
check_eq "up fails on the duplicate roles" 1 "$(code "$pgmig" up)"
check_eq "statement 1 stays applied" "t" "$(q "SELECT to_regclass('users_id_role_idx') IS NOT NULL")"
check_eq "the failed CONCURRENTLY build left an invalid index" "f" \
    "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('users_role_unique')")"
check_eq "the migration is failed, with its statement" "failed|2" \
    "$(q "SELECT status || '|' || statement_number FROM pg_migrate.execution_log WHERE version = '20260101000200' ORDER BY id DESC LIMIT 1")"
q "UPDATE users SET role = 'member' || id" >/dev/null
out=$("$pgmig" up 2>&1)
if echo "$out" | grep -q "resuming migration 20260101000200 at statement 2"; then resumed=yes; else resumed=no; echo "$out"; fi
check_eq "the next up resumes at statement 2" yes "$resumed"
if echo "$out" | grep -q "dropping invalid index users_role_unique"; then dropped=yes; else dropped=no; fi
check_eq "and drops the invalid index first" yes "$dropped"
check_eq "all three indexes valid" "3" \
    "$(q "SELECT count(*) FROM pg_index WHERE indexrelid IN (to_regclass('users_id_role_idx'), to_regclass('users_role_unique'), to_regclass('users_email_role_idx')) AND indisvalid")"
check_eq "statement 1 ran once" "1" \
    "$(q "SELECT count(*) FROM pg_migrate.statement_progress WHERE version = '20260101000200' AND statement_number = 1")"

# An applied file edited afterwards: status shows it, up refuses with the checksums.
echo "-- edited" >>migrations/20260101000000_create_users.up.sql
check_eq "status --strict flags the edited file" 1 "$(code "$pgmig" status --strict)"
check_eq "status says modified" "modified" \
    "$("$pgmig" status --json | python3 -c 'import json,sys; print([m["state"] for m in json.load(sys.stdin)["migrations"] if m["version"]=="20260101000000"][0])')"
err=$("$pgmig" up 2>&1 || true)
if echo "$err" | grep -q "already applied and its up script has changed"; then refused=yes; else refused=no; echo "$err"; fi
check_eq "up refuses the edited applied migration" yes "$refused"
sed -i '$d' migrations/20260101000000_create_users.up.sql

# A deleted applied file.
mv migrations/20260101000200_more_indexes.up.sql "$work/"
check_eq "status --strict flags the missing file" 1 "$(code "$pgmig" status --strict)"
check_eq "status says missing-file" "missing-file" \
    "$("$pgmig" status --json | python3 -c 'import json,sys; print([m["state"] for m in json.load(sys.stdin)["migrations"] if m["version"]=="20260101000200"][0])')"
mv "$work/20260101000200_more_indexes.up.sql" migrations/
check_eq "status --strict is clean again" 0 "$(code "$pgmig" status --strict)"

# Two deploys at once: each migration applied exactly once, both exit 0.
for i in $(seq 1 5); do
    printf 'CREATE TABLE t_%s (i int);\nINSERT INTO t_%s VALUES (1);\n' "$i" "$i" >"migrations/2026010200000${i}_t_$i.up.sql"
done
"$pgmig" up >"$work/a.out" 2>&1 & a=$!
"$pgmig" up >"$work/b.out" 2>&1 & b=$!
set +e; wait $a; ra=$?; wait $b; rb=$?; set -e
check_eq "both deploys succeed" "0 0" "$ra $rb"
check_eq "each migration applied exactly once" "5" \
    "$(q "SELECT count(*) FROM (SELECT version FROM pg_migrate.execution_log WHERE version LIKE '2026010200000%' AND status = 'succeeded' GROUP BY version HAVING count(*) = 1) s")"
check_eq "each insert ran once" "5" "$(q "SELECT (SELECT count(*) FROM t_1) + (SELECT count(*) FROM t_2) + (SELECT count(*) FROM t_3) + (SELECT count(*) FROM t_4) + (SELECT count(*) FROM t_5)")"

# down: a bare down refuses; --steps and --to; a no-transaction down script runs outside.
check_eq "a bare down is a usage error" 2 "$(code "$pgmig" down)"
check_eq "down refuses a migration without a down script" 1 "$(code "$pgmig" down --steps 1)"
for i in $(seq 1 5); do echo "DROP TABLE t_$i;" >"migrations/2026010200000${i}_t_$i.down.sql"; done
printf '%s\n' "DROP INDEX CONCURRENTLY users_email_role_idx;" "DROP INDEX CONCURRENTLY users_role_unique;" \
    "DROP INDEX CONCURRENTLY users_id_role_idx;" >migrations/20260101000200_more_indexes.down.sql
check_eq "up registers the new down scripts (nothing to apply)" 0 "$(code "$pgmig" up)"
check_eq "down --steps 1" 0 "$(code "$pgmig" down --steps 1)"
check_eq "the newest is rolled back" "rolled_back|f" \
    "$(q "SELECT state || '|' || (to_regclass('t_5') IS NOT NULL)::text::char FROM pg_migrate.migration WHERE version = '20260102000005'")"
check_eq "down --to the first migration" 0 "$(code "$pgmig" down --to 20260101000000)"
check_eq "the concurrent indexes are gone" "0" \
    "$(q "SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND NOT indisprimary AND indexrelid::regclass::text IN ('users_email_idx', 'users_role_idx')")"
check_eq "only the first migration stays applied" "20260101000000" \
    "$(q "SELECT string_agg(version, ',') FROM pg_migrate.migration WHERE state = 'applied'")"

# Drift: a manual ALTER TABLE after the last migration is reported; none before it.
check_eq "no drift right after migrating" 0 "$(code "$pgmig" drift)"
q "ALTER TABLE users ADD COLUMN manual_note text" >/dev/null
check_eq "drift after a manual ALTER TABLE exits 1" 1 "$(code "$pgmig" drift)"
check_eq "drift names the column" "added column public.users.manual_note" \
    "$("$pgmig" drift --json | python3 -c 'import json,sys; print(" ".join(d["change"] + " " + d["object"] for d in json.load(sys.stdin)))')"
q "ALTER TABLE users DROP COLUMN manual_note" >/dev/null
check_eq "no drift once it is undone" 0 "$(code "$pgmig" drift)"

# Seeds: applied once, skipped while unchanged, re-run when changed; a failing seed rolls back.
mkdir -p seeds
cat >seeds/01_roles.sql <<'SQL'
CREATE TABLE IF NOT EXISTS roles (name text PRIMARY KEY, label text);
INSERT INTO roles VALUES ('admin', 'Administrator'), ('member', 'Member')
ON CONFLICT (name) DO UPDATE SET label = EXCLUDED.label;
SQL
check_eq "seed --dry-run lists the new seed" "would_apply" \
    "$("$pgmig" seed --dry-run --json | python3 -c 'import json,sys; print("|".join(r["status"] for r in json.load(sys.stdin)))')"
check_eq "and changes nothing" "t" "$(q "SELECT to_regclass('roles') IS NULL")"
check_eq "seed applies" 0 "$(code "$pgmig" seed)"
check_eq "seed again skips the unchanged file" "skipped" \
    "$("$pgmig" seed --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"])')"
sed -i "s/'Member'/'Regular member'/" seeds/01_roles.sql
check_eq "a changed seed runs again" "applied" \
    "$("$pgmig" seed --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"])')"
check_eq "with its new content, twice recorded" "Regular member|2" \
    "$(q "SELECT (SELECT label FROM roles WHERE name = 'member') || '|' || runs FROM pg_migrate.seed WHERE file = '01_roles.sql'")"
printf "INSERT INTO roles VALUES ('x', 'x');\nSELECT 1/0;\n" >seeds/02_broken.sql
check_eq "a failing seed exits 1" 1 "$(code "$pgmig" seed)"
check_eq "and is rolled back" "0|0" \
    "$(q "SELECT (SELECT count(*) FROM roles WHERE name = 'x') || '|' || (SELECT count(*) FROM pg_migrate.seed WHERE file = '02_broken.sql')")"
q "DROP TABLE roles" >/dev/null

# run-all: pre-flight, a snapshot, migrations, seeds, validation and health in one command.
cat >migrations/20260103000000_add_plan.up.sql <<'SQL'
ALTER TABLE users ADD COLUMN plan text;
SQL
cat >seeds/01_plans.sql <<'SQL'
CREATE TABLE IF NOT EXISTS plans (name text PRIMARY KEY);
INSERT INTO plans VALUES ('free'), ('pro') ON CONFLICT DO NOTHING;
SQL
rm -f seeds/02_broken.sql
out=$("$pgmig" run-all --snapshot users 2>&1) && rc=0 || rc=$?
check_eq "run-all succeeds" 0 "$rc"
for step in preflight snapshot up seed validate health; do
    if echo "$out" | grep -Eq "^$step +(pass|warn)"; then ok=yes; else ok=no; fi
    check_eq "run-all summary: $step ran" yes "$ok"
done
check_eq "run-all applied the migration, the seed and took the snapshot" "applied|2|1" \
    "$(q "SELECT (SELECT state FROM pg_migrate.migration WHERE version = '20260103000000') || '|' || (SELECT count(*) FROM plans) || '|' || (SELECT count(*) FROM pg_migrate.snapshot WHERE label = 'pgmig run-all')")"
printf "SELECT 1/0;\n" >migrations/20260103000100_broken.up.sql
check_eq "run-all stops at the failing step with its exit code" 1 "$(code "$pgmig" run-all --skip-preflight)"
rm migrations/20260103000100_broken.up.sql
q "DELETE FROM pg_migrate.migration WHERE version = '20260103000100'" >/dev/null
q "SELECT snapshot_prune(keep_last => 0)" >/dev/null
q "DROP TABLE plans" >/dev/null

# Another deploy holds the migration lock: up waits, names the holder, and gives up after
# --lock-wait seconds having applied nothing.
printf 'CREATE TABLE waited (i int);\n' >migrations/20260104000000_waited.up.sql
PGAPPNAME=$'squatter\e[2J' psql -X -q -c "SELECT pg_advisory_lock(1885826409, 1735549300), pg_sleep(4)" >/dev/null &
holder=$!
for _ in $(seq 1 50); do
    [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1885826409 AND granted")" = 1 ] && break
    sleep 0.1
done
set +e; out=$("$pgmig" up --lock-wait 1 2>&1); rc=$?; set -e
check_eq "up gives up after --lock-wait" 1 "$rc"
if echo "$out" | grep -q "waiting for another deploy to finish (backend" && echo "$out" | grep -q "nothing was applied"; then said=yes; else said=no; echo "$out"; fi
check_eq "saying who holds the lock and that nothing was applied" yes "$said"
check_contains "naming the holder's role and application (control characters never reach the terminal)" "(role ${PGUSER:-postgres}, application squatter?[2J)" "$out"
check_contains "and how to end a session that is not a deploy" "pg_terminate_backend(pid)" "$out"
check_eq "the waiting migration is not applied" "" "$(q "SELECT to_regclass('waited')")"
wait $holder
check_eq "once the lock is free, up applies it" 0 "$(code "$pgmig" up)"
rm migrations/20260104000000_waited.up.sql

# Usage errors and exit codes.
check_eq "unknown --to is a usage error" 2 "$(code "$pgmig" up --to abc)"
check_eq "new with a bad name is a usage error" 2 "$(code "$pgmig" new 'Bad Name')"
check_eq "preflight passes" 0 "$(code "$pgmig" preflight)"
cd /
rm -rf "$work"
dropdb "$db"
finish_checks
