#!/usr/bin/env bash
# pgmig testdata on tables with foreign keys, CHECKs, UNIQUE keys and many types: rows that
# satisfy every constraint, batches that cleanup removes exactly (and never a row someone
# else wrote), all-or-nothing on failure. pgmig monitor watching a migration blocked by
# another session's lock: it names the migration, statement, lock and blocker, and ends by
# itself when the migration finishes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
db=pgm_testdata
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
export PGDATABASE=$db
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
q() { psql -X -qtA -c "$1"; }
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }

psql -X -q <<'SQL'
CREATE EXTENSION pg_migrate;
CREATE TYPE tier AS ENUM ('free', 'pro', 'enterprise');
CREATE TABLE customers (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    first_name varchar(12) NOT NULL,
    city text,
    age int CHECK (age BETWEEN 21 AND 60),
    status text NOT NULL CHECK (status IN ('active', 'banned', 'it''s complicated')),
    tier tier NOT NULL,
    profile jsonb,
    tags text[],
    avatar bytea,
    balance numeric(8, 2) NOT NULL CHECK (balance >= 100),
    signed_up date NOT NULL,
    ext_id uuid NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    order_no bigint PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers (id),
    amount numeric(10, 2) NOT NULL CHECK (amount > 0),
    note text
);
CREATE TABLE order_lines (
    order_no bigint NOT NULL REFERENCES orders (order_no),
    line int NOT NULL,
    qty int NOT NULL CHECK (qty > 0),
    PRIMARY KEY (order_no, line)
);
CREATE TABLE no_key (v text);
SQL

check_eq "orders before customers: refused" 1 "$(code "$pgmig" testdata generate --table orders --rows 10)"
err=$("$pgmig" testdata generate --table orders --rows 10 2>&1 || true)
if echo "$err" | grep -q "references public.customers (constraint orders_customer_id_fkey), which has no rows"; then ok=yes; else ok=no; echo "$err"; fi
check_eq "the message names the foreign key and the empty parent" yes "$ok"
check_eq "nothing was recorded for the refused run" 0 "$(q "SELECT count(*) FROM pg_migrate.testdata_batch")"
q "INSERT INTO customers (email, first_name, status, tier, balance, signed_up, ext_id)
   VALUES ('owner@example.com', 'Owner', 'active', 'pro', 500, '2020-01-01', gen_random_uuid())" >/dev/null

check_eq "generate 2000 customers" 0 "$(code "$pgmig" testdata generate --table customers --rows 2000)"
check_eq "2000 customers plus the owner" 2001 "$(q "SELECT count(*) FROM customers")"
check_eq "every CHECK holds (age, status list, balance)" 0 \
    "$(q "SELECT count(*) FROM customers WHERE age NOT BETWEEN 21 AND 60 OR balance < 100 OR status NOT IN ('active', 'banned', 'it''s complicated')")"
check_eq "the IN list is used, quote included" 3 "$(q "SELECT count(DISTINCT status) FROM customers")"
check_eq "nullable columns have some NULLs" t "$(q "SELECT count(*) FILTER (WHERE city IS NULL) BETWEEN 1 AND 600 FROM customers")"
check_eq "NOT NULL columns have none" 0 "$(q "SELECT count(*) FROM customers WHERE tier IS NULL OR signed_up IS NULL OR ext_id IS NULL")"
check_eq "emails look like emails" 0 "$(q "SELECT count(*) FROM customers WHERE email !~ '^[a-z0-9.]+@example\.com$'")"
check_eq "varchar(12) respected" 0 "$(q "SELECT count(*) FROM customers WHERE length(first_name) > 12")"
check_eq "all three enum labels appear" 3 "$(q "SELECT count(DISTINCT tier) FROM customers")"

check_eq "generate 5000 orders (parents sampled)" 0 "$(code "$pgmig" testdata generate --table orders --rows 5000)"
check_eq "every order references a real customer" 0 \
    "$(q "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id)")"
check_eq "orders spread over many customers" t "$(q "SELECT count(DISTINCT customer_id) > 500 FROM orders")"
check_eq "generate 3000 order lines (composite key)" 0 "$(code "$pgmig" testdata generate --table order_lines --rows 3000)"
check_eq "a second batch of orders continues the unique numbers" 0 \
    "$(code "$pgmig" testdata generate --table orders --rows 1000)"
check_eq "6000 orders" 6000 "$(q "SELECT count(*) FROM orders")"

# Someone else's order for a generated customer: cleanup of customers alone must fail whole.
q "INSERT INTO orders VALUES (999999999, (SELECT max(id) FROM customers), 5, 'real order')" >/dev/null
batches=$("$pgmig" testdata list --json | python3 -c 'import json,sys; print(" ".join(str(b["batch"])+":"+b["table"]+":"+str(b["rows"]) for b in json.load(sys.stdin)))')
check_eq "list shows the four batches (schema-qualified: pgmig's own path is pinned)" "1:public.customers:2000 2:public.orders:5000 3:public.order_lines:3000 4:public.orders:1000" "$batches"
check_eq "cleanup of the customers batch while orders reference it fails" 1 \
    "$(code "$pgmig" testdata cleanup --batch 1)"
check_eq "and deleted nothing" "2001|6001|1" \
    "$(q "SELECT (SELECT count(*) FROM customers) || '|' || (SELECT count(*) FROM orders) || '|' || (SELECT count(*) FROM pg_migrate.testdata_batch WHERE id = 1)")"
check_eq "dry run counts the rows of every batch" "1000,3000,5000,2000" \
    "$("$pgmig" testdata cleanup --all --dry-run --json | python3 -c 'import json,sys; print(",".join(str(b["rows_to_delete"]) for b in json.load(sys.stdin)))')"
q "DELETE FROM orders WHERE order_no = 999999999" >/dev/null
q "UPDATE orders SET note = 'edited' WHERE order_no IN (SELECT order_no FROM orders LIMIT 10)" >/dev/null
check_eq "cleanup --all removes every batch, newest first" 0 "$(code "$pgmig" testdata cleanup --all)"
check_eq "only the owner's row is left, edited rows included in the cleanup" "1|0|0" \
    "$(q "SELECT (SELECT count(*) FROM customers) || '|' || (SELECT count(*) FROM orders) || '|' || (SELECT count(*) FROM order_lines)")"
check_eq "the batches are gone" "0|0" \
    "$(q "SELECT (SELECT count(*) FROM pg_migrate.testdata_batch) || '|' || (SELECT count(*) FROM pg_migrate.testdata_row)")"
check_eq "a table without a primary key is refused" 1 "$(code "$pgmig" testdata generate --table no_key --rows 5)"
check_eq "an unknown table is a usage error" 2 "$(code "$pgmig" testdata generate --table nope --rows 5)"
check_eq "cleanup needs --batch or --all" 2 "$(code "$pgmig" testdata cleanup)"
check_eq "cleanup of an unknown batch is a usage error" 2 "$(code "$pgmig" testdata cleanup --batch 77)"

# Awkward names: commas and quotes in column names, a composite key of them, a foreign key
# over them, and a CHECK that reads a column left to its default.
psql -X -q <<'SQL'
CREATE TABLE "odd parent" ("k,1" int, "k""2" text, PRIMARY KEY ("k,1", "k""2"));
CREATE TABLE odd_child (
    id int PRIMARY KEY,
    "p,1" int, "p""2" text,
    made timestamptz NOT NULL DEFAULT now(),
    n int CHECK (n > 0 AND made <= now() + interval '1 day'),
    FOREIGN KEY ("p,1", "p""2") REFERENCES "odd parent" ("k,1", "k""2"));
SQL
check_eq "a parent with commas and quotes in its key columns" 0 \
    "$(code "$pgmig" testdata generate --table '"odd parent"' --rows 200)"
check_eq "a child referencing it, with a CHECK on a defaulted column" 0 \
    "$(code "$pgmig" testdata generate --table odd_child --rows 300)"
check_eq "every child row references a parent" 0 \
    "$(q "SELECT count(*) FROM odd_child c WHERE \"p,1\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \"odd parent\" p WHERE p.\"k,1\" = c.\"p,1\" AND p.\"k\"\"2\" = c.\"p\"\"2\")")"
check_eq "the key columns are recorded as they are named" '{"k,1","k\"2"}' \
    "$(q "SELECT key_columns FROM pg_migrate.testdata_batch WHERE table_name = 'public.\"odd parent\"'")"
check_eq "cleanup removes both batches exactly" "0|0" \
    "$(code "$pgmig" testdata cleanup --all >/dev/null; q "SELECT (SELECT count(*) FROM odd_child) || '|' || (SELECT count(*) FROM \"odd parent\")")"

# A CHECK no generated value can meet: the run stops, names the constraint, inserts nothing.
q "CREATE TABLE picky (id int PRIMARY KEY, n int NOT NULL CHECK (n = 12345678))" >/dev/null
out=$("$pgmig" testdata generate --table picky --rows 10 2>&1) && rc=0 || rc=$?
check_eq "an unsatisfiable CHECK fails the run, naming the constraint" "1 yes" \
    "$rc $(echo "$out" | grep -q "picky_n_check) or unique keys reject every generated row; nothing was inserted" && echo yes || { echo "$out" >&2; echo no; })"
check_eq "and nothing is left: no rows, no batch" "0|0" \
    "$(q "SELECT (SELECT count(*) FROM picky) || '|' || (SELECT count(*) FROM pg_migrate.testdata_batch WHERE table_name = 'picky')")"

# --- monitor -------------------------------------------------------------------------------
check_eq "monitor with nothing running ends at once" 0 "$(code "$pgmig" monitor)"
q "CREATE TABLE accounts (id int PRIMARY KEY)" >/dev/null
q "SELECT migrate_register('1', 'add_flag', 'SELECT 1; ALTER TABLE accounts ADD COLUMN flag bool;', NULL, NULL, '{\"lock_timeout\": \"60s\"}')" >/dev/null
psql -X -q -c "BEGIN; LOCK accounts; SELECT pg_sleep(3); COMMIT;" >/dev/null &
locker=$!
sleep 0.5
psql -X -qtA -c "SELECT status FROM migrate_execute()" >"$work/execute.out" &
executor=$!
start=$(date +%s)
"$pgmig" monitor --interval 0.3 --wait 10 >"$work/monitor.out" 2>&1
monitor_rc=$?
end=$(date +%s)
wait $executor $locker
check_eq "the migration applied once the lock was released" applied "$(cat "$work/execute.out")"
check_eq "monitor exits 0" 0 "$monitor_rc"
check_eq "monitor ended by itself soon after the work (under 10 s)" t "$([ $((end - start)) -lt 10 ] && echo t || echo f)"
grep -q "pg_migrate: migration 1 (add_flag), up statement 2/2: ALTER TABLE accounts ADD COLUMN flag bool" "$work/monitor.out" && r=yes || r=no
check_eq "monitor shows the migration and its statement" yes "$r"
grep -q "waits for AccessExclusiveLock on relation public.accounts" "$work/monitor.out" && r=yes || r=no
check_eq "monitor shows the lock it waits for" yes "$r"
grep -q "blocked by pid [0-9]* (postgres, active, transaction [0-9]s): BEGIN; LOCK accounts" "$work/monitor.out" && r=yes || r=no
check_eq "monitor names the blocking session" yes "$r"
grep -q "The work has ended." "$work/monitor.out" && r=yes || r=no
check_eq "monitor says the work ended" yes "$r"
[ "$r" = yes ] || cat "$work/monitor.out"

# A backfill seen by monitor --json: a running backfill with its progress.
q "CREATE TABLE big (id int PRIMARY KEY, v int)" >/dev/null
q "INSERT INTO big SELECT g, 0 FROM generate_series(1, 20000) g" >/dev/null
q "ANALYZE big" >/dev/null
psql -X -q -c "CALL migrate_backfill('big', 'v = 1', NULL, 1000, 100)" >/dev/null &
backfill=$!
"$pgmig" monitor --interval 0.3 --wait 10 --json >"$work/monitor.json"
wait $backfill
check_eq "monitor --json saw the backfill running with its row estimate" yes \
    "$(python3 -c '
import json, sys
seen = [b for line in open(sys.argv[1]) for b in json.loads(line)["backfills"]]
print("yes" if seen and all(b["table_name"] == "big" and b["rows_estimated"] == 20000 for b in seen) else "no")' "$work/monitor.json")"
check_eq "the backfill finished" 0 "$(q "SELECT count(*) FROM big WHERE v <> 1")"
finish_checks
