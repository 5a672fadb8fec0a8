#!/usr/bin/env bash
# pgmig backup with a local folder store against a real cluster: a round trip of several
# tables (foreign keys, NULLs, bytea, jsonb, arrays, 10^5+ rows) into another database; a
# backup taken while another session writes is consistent; selective and dry-run restore;
# a target at another migration is refused; tampering, a wrong key and a changed manifest
# are caught and change nothing; prune keeps what it must.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
src=pgm_backup_src
dst=pgm_backup_dst
for d in $src $dst; do dropdb --if-exists "$d" 2>/dev/null; createdb "$d"; done
work=$(mktemp -d)
writer=""
trap '[ -n "$writer" ] && kill $writer 2>/dev/null; rm -rf "$work"' EXIT
store="file://$work/store"
head -c 32 /dev/urandom >"$work/backup.key"
head -c 32 /dev/urandom >"$work/other.key"
k=(--key-file "$work/backup.key")
q() { psql -X -qtA -d "$1" -c "$2"; }
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }

schema=$(cat <<'SQL'
CREATE TABLE accounts (id bigserial PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL);
CREATE TABLE users (id int PRIMARY KEY, email text, avatar bytea, profile jsonb, tags text[],
                    score numeric(10, 3), seen timestamptz);
CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), note text);
CREATE TABLE ledger (id bigserial PRIMARY KEY, account_id bigint REFERENCES accounts (id), delta bigint);
SQL
)
for d in $src $dst; do psql -X -q -d $d -c "$schema"; done
psql -X -q -d $src <<'SQL'
INSERT INTO accounts (owner, balance) SELECT 'owner' || g, 1000 FROM generate_series(1, 100) g;
INSERT INTO users SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'u' || g || '@example.com' END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') || '\x00ff'::bytea END,
       jsonb_build_object('n', g, 'nested', jsonb_build_object('odd', g % 2 = 1), 'q', 'it''s "q"'),
       ARRAY['a' || g, NULL, 'ü'], g / 7.0, '2026-01-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 120000) g;
INSERT INTO orders SELECT g, 1 + g % 120000, repeat('x', g % 50) FROM generate_series(1, 30000) g;
SQL
fingerprint() {  # a digest of every row of every table, in key order
    q "$1" "SELECT md5(string_agg(t, '|')) FROM (
              SELECT (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM accounts a) AS t
        UNION ALL SELECT (SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u)
        UNION ALL SELECT (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o)
        UNION ALL SELECT (SELECT coalesce(md5(string_agg(l::text, ',' ORDER BY id)), '') FROM ledger l)) s"
}

check_eq "create without a key is a usage error" 2 "$(code "$pgmig" --db "dbname=$src" backup create --to "$store")"

# A writer moves money from accounts to the ledger (balances plus ledger always total 100000)
# while the backup runs with two workers: copying the two tables at different moments (one
# transaction per table, say) would give another total. (Both workers start within
# milliseconds; the snap_a/snap_b test below is the one that proves the shared snapshot.)
(
    while true; do
        a=$((RANDOM % 100 + 1))
        psql -X -q -d $src -c "BEGIN;
            UPDATE accounts SET balance = balance - 7 WHERE id = $a;
            INSERT INTO ledger (account_id, delta) VALUES ($a, 7);
            COMMIT;" >/dev/null 2>&1 || true
    done
) &
writer=$!
sleep 0.5
id=$("$pgmig" --db "dbname=$src" backup create --to "$store" "${k[@]}" -j 2 --label first)
kill $writer; wait $writer 2>/dev/null || true; writer=""
check_eq "create prints a backup id" yes "$(echo "$id" | grep -Eq '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$' && echo yes || echo no)"
check_eq "the folder has four objects and a manifest" "5" "$(find "$work/store/$id" -type f | wc -l)"
check_eq "no secret key bytes in the manifest" 0 \
    "$(grep -c "$(xxd -p -c 64 "$work/backup.key")" "$work/store/$id/manifest.json" || true)"

check_eq "verify passes" 0 "$(code "$pgmig" backup verify "$id" --from "$store" "${k[@]}")"
listed=$("$pgmig" backup list --from "$store" "${k[@]}" --json | python3 -c '
import json, sys
b = json.load(sys.stdin)[0]
print(b["id"], b["complete"], b["authenticated"], b["verified_at"] is not None, b["label"], len(b["tables"]))')
check_eq "list shows it complete, authenticated, verified, labelled, 4 tables" "$id True True True first 4" "$listed"

# Restore everything into the second database and compare.
check_eq "dry-run restore exits 0" 0 "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --dry-run)"
check_eq "and changed nothing" 0 "$(q $dst "SELECT count(*) FROM users")"
check_eq "restore into the other database" 0 "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "consistent snapshot: balances plus ledger total exactly 100000" 100000 \
    "$(q $dst "SELECT (SELECT sum(balance) FROM accounts) + (SELECT coalesce(sum(delta), 0) FROM ledger)")"
check_eq "the writer did run during the backup" t "$(q $dst "SELECT count(*) > 0 FROM ledger")"
check_eq "120000 users, NULLs, bytea, jsonb and arrays intact" \
    "120000|17142|24000|true" \
    "$(q $dst "SELECT count(*) || '|' || count(*) FILTER (WHERE email IS NULL) || '|' || count(*) FILTER (WHERE avatar IS NULL) || '|' || bool_and(profile->>'q' = 'it''s \"q\"' AND tags[3] = 'ü') FROM users")"
# users and orders were not written during the backup: they must be identical.
check_eq "users identical to the source" \
    "$(q $src "SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u")" \
    "$(q $dst "SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u")"
check_eq "orders identical to the source" \
    "$(q $src "SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o")" \
    "$(q $dst "SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o")"
check_eq "sequences set: a new account gets id 101" 101 \
    "$(q $dst "INSERT INTO accounts (owner, balance) VALUES ('new', 0) RETURNING id")"
check_eq "sequences set: a new ledger row gets the next id" t \
    "$(q $dst "INSERT INTO ledger (account_id, delta) VALUES (1, 0) RETURNING id > (SELECT count(*) FROM ledger) - 1")"

# Selective restore: only orders, after damaging them in the target.
q $dst "UPDATE orders SET note = 'damaged'" >/dev/null
q $dst "UPDATE users SET email = 'kept@example.com' WHERE id = 1" >/dev/null
check_eq "restore --pg-table orders" 0 "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --pg-table orders)"
check_eq "orders restored" 0 "$(q $dst "SELECT count(*) FROM orders WHERE note = 'damaged'")"
check_eq "users left alone" kept@example.com "$(q $dst "SELECT email FROM users WHERE id = 1")"
check_eq "a table not in the backup is a usage error" 2 \
    "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --pg-table nope)"

# A target whose table has other columns is refused before anything changes.
q $dst "ALTER TABLE orders ADD COLUMN extra int" >/dev/null
out=$("$pgmig" backup restore "$id" --from "$store" "${k[@]}" --target-db "dbname=$dst" 2>&1) && rc=0 || rc=$?
check_eq "changed columns: refused with exit 3" 3 "$rc"
check_eq "the message names the table and its columns" yes \
    "$(echo "$out" | grep -q "public.orders: has 4 columns, the backup 3" && echo yes || { echo "$out" >&2; echo no; })"
check_eq "and users were not touched" kept@example.com "$(q $dst "SELECT email FROM users WHERE id = 1")"
q $dst "ALTER TABLE orders DROP COLUMN extra" >/dev/null

# Wrong key, changed manifest, tampered object.
out=$("$pgmig" backup verify "$id" --from "$store" --key-file "$work/other.key" 2>&1) && rc=0 || rc=$?
check_eq "wrong key: exit 1 and says so" "1 yes" "$rc $(echo "$out" | grep -q "wrong key" && echo yes || echo no)"
cp -r "$work/store/$id" "$work/saved"
sed -i 's/"rows": 30000/"rows": 30001/' "$work/store/$id/manifest.json"
out=$("$pgmig" backup verify "$id" --from "$store" "${k[@]}" 2>&1) && rc=0 || rc=$?
check_eq "changed manifest: fails authentication" "1 yes" "$rc $(echo "$out" | grep -q "manifest failed authentication" && echo yes || echo no)"
rm -rf "$work/store/$id"; cp -r "$work/saved" "$work/store/$id"
obj=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["manifest"]
print([t["object"]["path"] for t in m["postgres"]["tables"] if t["name"] == "users"][0])' "$work/store/$id/manifest.json")
python3 -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x01; open(p, "wb").write(b)' "$work/store/$id/$obj"
out=$("$pgmig" backup verify "$id" --from "$store" "${k[@]}" 2>&1) && rc=0 || rc=$?
check_eq "one flipped bit: verify fails naming the object" "1 yes" \
    "$rc $(echo "$out" | grep -q "object $id/$obj: chunk [0-9]* failed authentication" && echo yes || { echo "$out" >&2; echo no; })"
q $dst "UPDATE users SET email = 'before@example.com' WHERE id = 1" >/dev/null
check_eq "restore from the tampered backup fails" 1 "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "and the target is unchanged (one transaction)" before@example.com "$(q $dst "SELECT email FROM users WHERE id = 1")"
rm -rf "$work/store/$id"; cp -r "$work/saved" "$work/store/$id"

# The workers copy from the snapshot the coordinator exported, not from their own: table b
# is locked by another session, so the backup waits after exporting its snapshot; rows
# added to table a meanwhile must not be in the backup (a worker with its own snapshot,
# taken later, would see them).
q $src "CREATE TABLE snap_a (id int PRIMARY KEY); CREATE TABLE snap_b (id int PRIMARY KEY);
        INSERT INTO snap_a SELECT generate_series(1, 10)" >/dev/null
psql -X -q -d $src -c "BEGIN; LOCK snap_b IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT" >/dev/null &
locker=$!
sleep 0.5
"$pgmig" --db "dbname=$src" backup create --to "file://$work/snapstore" "${k[@]}" -j 2 \
    --pg-table snap_a --pg-table snap_b >"$work/snap.id" 2>/dev/null &
snap_backup=$!
sleep 1
q $src "INSERT INTO snap_a SELECT generate_series(11, 20)" >/dev/null
wait $locker
wait $snap_backup
check_eq "rows committed after the snapshot was exported are not in the backup" 10 \
    "$("$pgmig" backup list --from "file://$work/snapstore" "${k[@]}" --json | python3 -c '
import json, sys
print([t["rows"] for t in json.load(sys.stdin)[0]["tables"] if t["table"] == "public.snap_a"][0])')"

# Sequences follow the column, not the source's search_path.
q $src "CREATE SCHEMA app; CREATE TABLE app.tickets (id serial PRIMARY KEY, t text)" >/dev/null
q $dst "CREATE SCHEMA app; CREATE TABLE app.tickets (id serial PRIMARY KEY, t text)" >/dev/null
psql -X -q -d $src -c "SET search_path = app, public" -c "INSERT INTO tickets (t) SELECT 'x' FROM generate_series(1, 50)" >/dev/null
q $src "ALTER DATABASE $src SET search_path = app, public" >/dev/null
id5=$("$pgmig" --db "dbname=$src" backup create --to "$store" "${k[@]}" --pg-schema app)
q $src "ALTER DATABASE $src RESET search_path" >/dev/null
out=$("$pgmig" backup restore "$id5" --from "$store" "${k[@]}" --target-db "dbname=$dst" 2>&1) || echo "$out" >&2
check_eq "restore sets the target's sequence for the column" 0 \
    "$(code "$pgmig" backup restore "$id5" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "the next ticket gets id 51" 51 "$(q $dst "INSERT INTO app.tickets (t) VALUES ('new') RETURNING id")"
q $src "CREATE TABLE app.accounts (id int PRIMARY KEY)" >/dev/null
id6=$("$pgmig" --db "dbname=$src" backup create --to "file://$work/amb" "${k[@]}" --pg-table accounts --pg-table app.accounts)
check_eq "a bare name in two schemas is ambiguous (exit 2)" 2 \
    "$(code "$pgmig" backup restore "$id6" --from "file://$work/amb" "${k[@]}" --target-db "dbname=$dst" --pg-table accounts --dry-run)"
"$pgmig" backup prune --from "$store" "${k[@]}" --keep-last 100 >/dev/null
rm -rf "$work/store/$id5"

# --with-ddl: a database not managed by migrations restores into an empty database, the
# tables created from the definitions stored in the backup (same snapshot, pg_dump).
ddl_src=pgm_backup_ddl_src
ddl_dst=pgm_backup_ddl_dst
for d in $ddl_src $ddl_dst; do dropdb --if-exists "$d" 2>/dev/null; createdb "$d"; done
psql -X -q -d $ddl_src <<'SQL'
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES shop.customers (id),
                          total numeric(10, 2) CHECK (total >= 0));
CREATE INDEX orders_customer_idx ON shop.orders (customer_id);
INSERT INTO shop.customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 300) g;
INSERT INTO shop.orders (customer_id, total) SELECT 1 + g % 300, g FROM generate_series(1, 1000) g;
SQL
ddl_id=$("$pgmig" --db "dbname=$ddl_src" backup create --to "$store" "${k[@]}" --with-ddl)
check_eq "the definitions are one more object, listed in the manifest" "pg/schema.sql.obj" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifest"]["postgres"]["ddl"]["path"])' "$work/store/$ddl_id/manifest.json")"
check_eq "verify checks it too (3 objects)" "True 3" \
    "$("$pgmig" backup verify "$ddl_id" --from "$store" "${k[@]}" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["objects"])')"
check_eq "without --with-ddl, missing tables are refused (exit 3)" 3 \
    "$(code "$pgmig" backup restore "$ddl_id" --from "$store" "${k[@]}" --target-db "dbname=$ddl_dst")"
check_eq "a dry run with --with-ddl plans to create them and changes nothing" "0 0" \
    "$(code "$pgmig" backup restore "$ddl_id" --from "$store" "${k[@]}" --target-db "dbname=$ddl_dst" --with-ddl --dry-run) $(q $ddl_dst "SELECT count(*) FROM pg_tables WHERE schemaname = 'shop'")"
check_eq "restore --with-ddl into the empty database" 0 \
    "$(code "$pgmig" backup restore "$ddl_id" --from "$store" "${k[@]}" --target-db "dbname=$ddl_dst" --with-ddl)"
check_eq "tables, rows, index, foreign key and check are there" "300|1000|t|t|t" \
    "$(q $ddl_dst "SELECT (SELECT count(*) FROM shop.customers) || '|' || (SELECT count(*) FROM shop.orders) || '|' ||
                     (to_regclass('shop.orders_customer_idx') IS NOT NULL) || '|' ||
                     EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND conrelid = 'shop.orders'::regclass) || '|' ||
                     EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'c' AND conrelid = 'shop.orders'::regclass)" | sed 's/true/t/g')"
check_eq "sequences continue after the restored rows" 1001 "$(q $ddl_dst "INSERT INTO shop.orders (customer_id, total) VALUES (1, 1) RETURNING id")"
check_eq "--with-ddl into a database that has some of the tables is refused (exit 3)" 3 \
    "$(q $ddl_dst "DROP TABLE shop.orders" >/dev/null; code "$pgmig" backup restore "$ddl_id" --from "$store" "${k[@]}" --target-db "dbname=$ddl_dst" --with-ddl)"
check_eq "--with-ddl with a backup made without it is a usage error" 2 \
    "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --target-db "dbname=$ddl_dst" --with-ddl --dry-run)"
rm -rf "$work/store/$ddl_id"
out=$(PATH=/nonexistent "$pgmig" --db "dbname=$ddl_src" backup create --to "file://$work/noddl" "${k[@]}" --with-ddl 2>&1) && rc=0 || rc=$?
check_eq "without pg_dump, --with-ddl fails and says why" "1 yes" \
    "$rc $(echo "$out" | grep -q "cannot run pg_dump (needed by --with-ddl)" && echo yes || { echo "$out" >&2; echo no; })"
check_eq "and leaves no manifest" 0 "$(find "$work/noddl" -name manifest.json 2>/dev/null | wc -l)"

# Schema versions: a backup of a database managed by pg_migrate restores only at the same migration.
q $src "CREATE EXTENSION pg_migrate" >/dev/null
q $src "SELECT migrate_register('1', 'noop', 'SELECT 1', NULL, NULL, '{}')" >/dev/null
q $src "SELECT count(*) FROM migrate_execute()" >/dev/null
id2=$("$pgmig" --db "dbname=$src" backup create --to "$store" "${k[@]}" --pg-table users --pg-table orders)
check_eq "the manifest records migration 1" 1 \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifest"]["postgres"]["schema_version"])' "$work/store/$id2/manifest.json")"
out=$("$pgmig" backup restore "$id2" --from "$store" "${k[@]}" --target-db "dbname=$dst" 2>&1) && rc=0 || rc=$?
check_eq "a target without migration 1 is refused (exit 3)" 3 "$rc"
check_eq "the refusal says what to do" yes "$(echo "$out" | grep -q "taken at migration 1, but $dst is at no applied migration" && echo yes || echo no)"

# A passphrase instead of a key file.
id3=$(PGMIG_BACKUP_PASSPHRASE='correct horse battery staple' "$pgmig" --db "dbname=$src" backup create --to "file://$work/pstore" --pg-table accounts)
check_eq "passphrase backup verifies with the passphrase" 0 \
    "$(PGMIG_BACKUP_PASSPHRASE='correct horse battery staple' code "$pgmig" backup verify "$id3" --from "file://$work/pstore")"
check_eq "and not with another" 1 \
    "$(PGMIG_BACKUP_PASSPHRASE='wrong' code "$pgmig" backup verify "$id3" --from "file://$work/pstore")"
check_eq "the passphrase is nowhere in the store" 0 "$(grep -rc "correct horse" "$work/pstore" | awk -F: '{s+=$2} END {print s+0}')"

# Key sources: flags beat the environment; two flags are a usage error.
echo "correct horse battery staple" >"$work/pass"
id4=$(PGMIG_BACKUP_KEY_FILE="$work/backup.key" "$pgmig" --db "dbname=$src" backup create --to "file://$work/pstore" --pg-table accounts --passphrase-file "$work/pass")
check_eq "--passphrase-file wins over PGMIG_BACKUP_KEY_FILE" 0 \
    "$(PGMIG_BACKUP_PASSPHRASE='correct horse battery staple' code "$pgmig" backup verify "$id4" --from "file://$work/pstore")"
check_eq "--key-file and --passphrase-file together are a usage error" 2 \
    "$(code "$pgmig" backup list --from "file://$work/pstore" --key-file "$work/backup.key" --passphrase-file "$work/pass")"
check_eq "a store mixing key-file and passphrase backups still lists with one of them" 0 \
    "$(PGMIG_BACKUP_PASSPHRASE='correct horse battery staple' code "$pgmig" backup list --from "file://$work/pstore")"

# A manifest copied over verified.json is not a verification.
cp "$work/store/$id2/manifest.json" "$work/store/$id2/verified.json"
check_eq "a forged verification record makes the backup unauthenticated" "False" \
    "$("$pgmig" backup list --from "$store" "${k[@]}" --json | python3 -c '
import json, sys
print([b["authenticated"] for b in json.load(sys.stdin) if b["id"] == sys.argv[1]][0])' "$id2")"
rm "$work/store/$id2/verified.json"

# Prune: id (verified, oldest), id2 (newer, not verified), an old incomplete leftover and a fresh one.
mkdir -p "$work/store/20200101T000000Z-0000aa/pg" && echo junk >"$work/store/20200101T000000Z-0000aa/pg/0001.obj"
fresh=$(date -u +%Y%m%dT%H%M%SZ)-0000bb
mkdir -p "$work/store/$fresh/pg" && echo junk >"$work/store/$fresh/pg/0001.obj"
check_eq "prune without a rule is a usage error" 2 "$(code "$pgmig" backup prune --from "$store" "${k[@]}")"
plan=$("$pgmig" backup prune --from "$store" "${k[@]}" --keep-last 1 --dry-run --json | python3 -c '
import json, sys
print(" ".join(d["action"].replace(" ", "_") for d in json.load(sys.stdin)))')
check_eq "dry run: delete the old leftover, keep verified, newest and the fresh leftover" "would_delete keep keep keep" "$plan"
check_eq "dry run deleted nothing" 4 "$(ls "$work/store" | wc -l)"
check_eq "prune --keep-last 1" 0 "$(code "$pgmig" backup prune --from "$store" "${k[@]}" --keep-last 1)"
check_eq "the old leftover is gone, the rest stay" "$(printf '%s\n' "$id" "$id2" "$fresh" | sort | tr '\n' ' ')" "$(ls "$work/store" | sort | tr '\n' ' ')"
finish_checks
