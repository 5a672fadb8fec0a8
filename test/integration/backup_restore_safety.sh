#!/usr/bin/env bash
# pgmig backup restore leaves the target exactly as it was when it fails, and puts back
# exactly the backup when it succeeds (issue 9):
#   - a restore that fails part way (a damaged object, a COPY error) leaves the sequences of the
#     tables it loaded first as they were;
#   - the target's triggers are off during the load (an audit trigger does not double the
#     audit table, a trigger's non-transactional effects do not survive a failed restore) and
#     come back exactly as they were; --keep-triggers lets them fire;
#   - the restore takes its locks in short attempts, so readers are not stuck behind it, and
#     gives up after --lock-wait naming the session in its way;
#   - a LATIN1 database with non-ASCII names backs up and restores (into LATIN1 and UTF8);
#   - a dry run predicts the refusals of the real run (a table referenced by a table left out);
#   - list says when a backup was verified, and that an object changed since;
#   - prune removes unfinished uploads older than a day;
#   - DynamoDB: an object of another table in a table's place, or a truncated object, fails
#     before anything is written (no table created, no item), also before PostgreSQL changes;
#   - TRUNCATE ONLY: inheritance children of a restored table are left alone.
# Needs a running cluster (PG* variables) and npm (dynalite). PGMIG=/path/to/pgmig runs the
# checks against another binary; PGMIG_OLD=/path/to/an/older/pgmig adds a check that backups
# it made (format 1) still verify and restore.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
source "$here/../lib/cluster.sh"  # free_port
source "$here/../lib/dynalite.sh"
pgmig=${PGMIG:-"$here/../../build/pgmig"}
src=pgm_safety_src
dst=pgm_safety_dst
for d in $src $dst; do dropdb --if-exists "$d" 2>/dev/null; createdb "$d"; done
work=$(mktemp -d)
bg_pids=()
cleanup() {
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    stop_dynalite
    rm -rf "$work"
}
trap cleanup EXIT
store="file://$work/store"
head -c 32 /dev/urandom >"$work/backup.key"
k=(--key-file "$work/backup.key")
q() { psql -X -qtA -d "$1" -c "$2"; }
code() { set +e; "$@" >"$work/out" 2>"$work/err"; echo $?; set -e; }
has() { grep -q -- "$1" "$work/out" "$work/err" && echo yes || { cat "$work/out" "$work/err" >&2; echo no; }; }
object_of() {  # object_of BACKUP_ID TABLE_NAME: the object path of a table in the manifest
    python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["manifest"]
tables = m.get("postgres", {}).get("tables", []) + m.get("dynamodb", {}).get("tables", [])
print([t["object"]["path"] for t in tables if t["name"] == sys.argv[2]][0])' "$work/store/$1/manifest.json" "$2"
}
flip_byte() {  # flip_byte FILE: one bit in the middle
    python3 -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x01; open(p, "wb").write(b)' "$1"
}

echo "== a failed restore leaves the sequences as they were"
schema="CREATE TABLE a_first (id bigserial PRIMARY KEY, v text);
        CREATE TABLE z_second (id serial PRIMARY KEY, v text);"
for d in $src $dst; do q $d "$schema" >/dev/null; done
q $src "INSERT INTO a_first (v) SELECT 'src' || g FROM generate_series(1, 100) g;
        INSERT INTO z_second (v) SELECT 'x' || g FROM generate_series(1, 100) g" >/dev/null
q $dst "INSERT INTO a_first (v) SELECT 'dst' || g FROM generate_series(1, 200) g;
        INSERT INTO z_second (v) SELECT 'dst' || g FROM generate_series(1, 200) g" >/dev/null
seq_id=$("$pgmig" --db "dbname=$src" backup create --to "$store" "${k[@]}" --pg-table a_first --pg-table z_second 2>/dev/null)
cp -r "$work/store/$seq_id" "$work/seq_saved"
flip_byte "$work/store/$seq_id/$(object_of "$seq_id" z_second)"
check_eq "a restore whose second object is damaged fails" 1 \
    "$(code "$pgmig" backup restore "$seq_id" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "... the rows are as they were" "200 200" "$(q $dst "SELECT (SELECT count(*) FROM a_first) || ' ' || (SELECT count(*) FROM z_second)")"
check_eq "... and so is the first table's sequence: the next insert works" 201 \
    "$(q $dst "INSERT INTO a_first (v) VALUES ('next') RETURNING id" 2>&1)"
rm -rf "$work/store/$seq_id"; cp -r "$work/seq_saved" "$work/store/$seq_id"
# A COPY error in the second table (the target refuses one of its rows).
q $dst "ALTER TABLE z_second ADD CONSTRAINT no_x50 CHECK (v <> 'x50')" >/dev/null
check_eq "a restore whose second COPY fails fails" 1 \
    "$(code "$pgmig" backup restore "$seq_id" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "... and the first table's sequence is untouched" 202 \
    "$(q $dst "INSERT INTO a_first (v) VALUES ('next') RETURNING id" 2>&1)"
q $dst "ALTER TABLE z_second DROP CONSTRAINT no_x50" >/dev/null
check_eq "the good restore succeeds" 0 \
    "$(code "$pgmig" backup restore "$seq_id" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "... and sets the sequences to the backup's" "101 101" \
    "$(q $dst "INSERT INTO a_first (v) VALUES ('n') RETURNING id") $(q $dst "INSERT INTO z_second (v) VALUES ('n') RETURNING id")"

echo "== triggers are off during the load, and come back as they were"
trig="CREATE TABLE accounts (id int PRIMARY KEY, owner text);
      CREATE TABLE audit (n bigserial PRIMARY KEY, account int, what text);
      CREATE SEQUENCE side_effects;
      CREATE FUNCTION audit_insert() RETURNS trigger LANGUAGE plpgsql AS
        \$\$BEGIN PERFORM nextval('side_effects');
               INSERT INTO audit (account, what) VALUES (NEW.id, 'insert'); RETURN NEW; END\$\$;
      CREATE TRIGGER audit_insert AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION audit_insert();
      CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN NEW.owner := NEW.owner || '!'; RETURN NEW; END\$\$;
      CREATE TRIGGER stamp BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION stamp();
      CREATE TRIGGER always_audit AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION audit_insert();"
for d in $src $dst; do q $d "$trig" >/dev/null; done
for d in $src $dst; do q $d "ALTER TABLE accounts DISABLE TRIGGER stamp; ALTER TABLE accounts DISABLE TRIGGER always_audit" >/dev/null; done
q $src "INSERT INTO accounts SELECT g, 'o' || g FROM generate_series(1, 10) g" >/dev/null  # 10 audit rows
q $dst "ALTER TABLE accounts ENABLE ALWAYS TRIGGER always_audit" >/dev/null
triggers_now() { q $dst "SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'accounts'::regclass AND NOT tgisinternal"; }
before_triggers=$(triggers_now)
check_eq "(the target's triggers: one origin, one always, one disabled)" "always_audit=A,audit_insert=O,stamp=D" "$before_triggers"
trig_id=$("$pgmig" --db "dbname=$src" backup create --to "$store" "${k[@]}" --pg-table accounts --pg-table audit --pg-table a_first 2>/dev/null)
check_eq "the dry run says the triggers are off during the load" "0 yes" \
    "$(code "$pgmig" backup restore "$trig_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --dry-run) $(has "triggers off: always_audit, audit_insert")"
side_before=$(q $dst "SELECT last_value FROM side_effects")
cp -r "$work/store/$trig_id" "$work/trig_saved"
flip_byte "$work/store/$trig_id/$(object_of "$trig_id" audit)"
check_eq "a failed restore of the triggered tables fails" 1 \
    "$(code "$pgmig" backup restore "$trig_id" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "... and left no trigger effect behind (their sequence did not move)" "$side_before" "$(q $dst "SELECT last_value FROM side_effects")"
check_eq "... and the triggers as they were" "$before_triggers" "$(triggers_now)"
rm -rf "$work/store/$trig_id"; cp -r "$work/trig_saved" "$work/store/$trig_id"
check_eq "restore of accounts and its audit table" 0 \
    "$(code "$pgmig" backup restore "$trig_id" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "the audit table is exactly the backup's (10 rows, not doubled)" 10 "$(q $dst "SELECT count(*) FROM audit")"
check_eq "the accounts are the backup's (the BEFORE trigger did not change them)" "o1" "$(q $dst "SELECT owner FROM accounts WHERE id = 1")"
check_eq "the triggers are back exactly as they were" "$before_triggers" "$(triggers_now)"
check_eq "and they fire again afterwards" 12 \
    "$(q $dst "INSERT INTO accounts VALUES (11, 'new')" >/dev/null; q $dst "SELECT count(*) FROM audit")"
check_eq "--keep-triggers lets them fire (and says so)" "0 yes" \
    "$(code "$pgmig" backup restore "$trig_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --pg-table accounts --pg-table audit --keep-triggers) $(has "triggers fire")"
check_eq "... so the audit table gets the backup's rows and two per restored account" 30 "$(q $dst "SELECT count(*) FROM audit")"
# A role that does not own the table cannot turn its triggers off: refused up front.
PGOPTIONS="-c client_min_messages=warning" q $dst "DROP ROLE IF EXISTS pgm_restorer; CREATE ROLE pgm_restorer LOGIN;
        GRANT SELECT, INSERT, TRUNCATE ON accounts, audit TO pgm_restorer;
        GRANT SELECT, UPDATE ON SEQUENCE audit_n_seq, side_effects TO pgm_restorer" >/dev/null
check_eq "a role that cannot turn the triggers off is refused in the dry run (exit 3)" "3 yes" \
    "$(code "$pgmig" backup restore "$trig_id" --from "$store" "${k[@]}" --target-db "dbname=$dst user=pgm_restorer" --pg-table accounts --pg-table audit --dry-run) $(has "restore as the owner, or with --keep-triggers")"
check_eq "... and in the real run, changing nothing" "3 30" \
    "$(code "$pgmig" backup restore "$trig_id" --from "$store" "${k[@]}" --target-db "dbname=$dst user=pgm_restorer" --pg-table accounts --pg-table audit) $(q $dst "SELECT count(*) FROM audit")"
check_eq "with --keep-triggers that role may restore" 0 \
    "$(code "$pgmig" backup restore "$trig_id" --from "$store" "${k[@]}" --target-db "dbname=$dst user=pgm_restorer" --pg-table accounts --pg-table audit --keep-triggers)"

echo "== locks: short attempts, a bounded wait, and the session in the way is named"
psql -X -q -d $dst -c "SET application_name = 'blocker_app'" -c "BEGIN" -c "SELECT count(*) FROM z_second" \
    -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
bg_pids+=($!)
blocker=""
for _ in $(seq 1 50); do
    blocker=$(q $dst "SELECT pid FROM pg_stat_activity WHERE application_name = 'blocker_app' AND state = 'active'")
    [ -n "$blocker" ] && break
    sleep 0.1
done
start=$(date +%s)
check_eq "a restore blocked by another session gives up after --lock-wait" 1 \
    "$(code "$pgmig" backup restore "$seq_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --lock-wait 3)"
took=$(($(date +%s) - start))
check_eq "... in about that time (3 to 8 s)" yes "$([ "$took" -ge 3 ] && [ "$took" -le 8 ] && echo yes || echo "no: $took s")"
check_eq "... naming the blocking session's pid and application_name" yes \
    "$(grep -q "pid $blocker (application_name \"blocker_app\"" "$work/err" && echo yes || { cat "$work/err" >&2; echo no; })"
check_eq "... and the tables it waited for" yes "$(has "could not lock public.a_first, public.z_second (ACCESS EXCLUSIVE) within 3 s")"
# While a restore waits (the default 60 s), readers of the table it locks first are not stuck.
"$pgmig" backup restore "$seq_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" >"$work/waiting.out" 2>&1 &
restore_pid=$!
bg_pids+=($restore_pid)
sleep 1.5
reader=$(PGOPTIONS="-c statement_timeout=3000" psql -X -qtA -d $dst -c "SELECT count(*) FROM a_first" 2>&1 || true)
check_eq "a reader of a_first is served while the restore waits for z_second" yes \
    "$(echo "$reader" | grep -Eq '^[0-9]+$' && echo yes || echo "no: $reader")"
q $dst "SELECT pg_terminate_backend($blocker)" >/dev/null
set +e; wait $restore_pid; rc=$?; set -e
check_eq "once the blocker is gone the restore goes through" 0 "$rc"

echo "== a LATIN1 database with non-ASCII names"
for d in pgm_latin_src pgm_latin_dst; do dropdb --if-exists $d 2>/dev/null; createdb -E LATIN1 -T template0 --locale=C $d; done
dropdb --if-exists pgm_latin_utf 2>/dev/null; createdb pgm_latin_utf
latin="CREATE TABLE \"café\" (id serial PRIMARY KEY, \"prénom\" text, note text);"
for d in pgm_latin_src pgm_latin_dst pgm_latin_utf; do PGCLIENTENCODING=UTF8 q $d "$latin" >/dev/null; done
PGCLIENTENCODING=UTF8 q pgm_latin_src "INSERT INTO \"café\" (\"prénom\", note) VALUES ('Zoë', 'crème brûlée'), ('Åsa', 'smörgåsbord')" >/dev/null
latin_id=$("$pgmig" --db "dbname=pgm_latin_src" backup create --to "$store" "${k[@]}" 2>"$work/err") || true
check_eq "a LATIN1 database with a table named café backs up" yes \
    "$(echo "$latin_id" | grep -Eq '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$' && echo yes || { cat "$work/err" >&2; echo no; })"
check_eq "... the manifest names the table and its columns in UTF-8" "café prénom" \
    "$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["manifest"]["postgres"]["tables"][0]
print(t["name"], t["columns"][1]["name"])' "$work/store/$latin_id/manifest.json" 2>/dev/null)"
check_eq "... verifies" 0 "$(code "$pgmig" backup verify "$latin_id" --from "$store" "${k[@]}")"
for d in pgm_latin_dst pgm_latin_utf; do
    check_eq "... and restores into $d" 0 "$(code "$pgmig" backup restore "$latin_id" --from "$store" "${k[@]}" --target-db "dbname=$d")"
    check_eq "... with its text intact" "Zoë crème brûlée|Åsa smörgåsbord" \
        "$(PGCLIENTENCODING=UTF8 q $d "SELECT string_agg(\"prénom\" || ' ' || note, '|' ORDER BY id) FROM \"café\"")"
done
check_eq "a label that is not UTF-8 is refused before anything is stored (exit 2)" "2 0" \
    "$(code "$pgmig" --db "dbname=$src" backup create --to "file://$work/badlabel" "${k[@]}" --pg-table a_first --label "$(printf 'caf\xe9')") $(find "$work/badlabel" -type f 2>/dev/null | wc -l)"

echo "== the dry run predicts every refusal"
fk="CREATE TABLE users (id int PRIMARY KEY); CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));"
for d in $src $dst; do q $d "$fk" >/dev/null; done
q $src "INSERT INTO users SELECT generate_series(1, 10); INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g" >/dev/null
q $dst "INSERT INTO users SELECT generate_series(1, 5); INSERT INTO orders SELECT g, g FROM generate_series(1, 5) g" >/dev/null
fk_id=$("$pgmig" --db "dbname=$src" backup create --to "$store" "${k[@]}" --pg-table users --pg-table orders 2>/dev/null)
check_eq "restoring users without orders (which references it): the dry run refuses (exit 3)" "3 yes" \
    "$(code "$pgmig" backup restore "$fk_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --pg-table users --dry-run) $(has "foreign key orders_user_id_fkey of public.orders references it")"
check_eq "... as the real run does (exit 3), changing nothing" "3 5" \
    "$(code "$pgmig" backup restore "$fk_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --pg-table users) $(q $dst "SELECT count(*) FROM users")"
check_eq "restoring both is fine" 0 "$(code "$pgmig" backup restore "$fk_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --pg-table users --pg-table orders)"

echo "== TRUNCATE ONLY: inheritance children are other tables"
for d in $src $dst; do q $d "CREATE TABLE events (id int, what text)" >/dev/null; done
q $src "INSERT INTO events VALUES (1, 'backed up')" >/dev/null
q $dst "CREATE TABLE events_archive () INHERITS (events); INSERT INTO events_archive VALUES (99, 'archived'); INSERT INTO events VALUES (2, 'old')" >/dev/null
inh_id=$("$pgmig" --db "dbname=$src" backup create --to "$store" "${k[@]}" --pg-table events 2>/dev/null)
check_eq "the dry run counts the table's own rows" "0 yes" \
    "$(code "$pgmig" backup restore "$inh_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --dry-run) $(has "replace 1 rows")"
check_eq "restore of the parent" 0 "$(code "$pgmig" backup restore "$inh_id" --from "$store" "${k[@]}" --target-db "dbname=$dst")"
check_eq "... replaced its own rows and left the child's" "1 backed up|99 archived" \
    "$(q $dst "SELECT string_agg(id || ' ' || what, '|' ORDER BY id) FROM events")"

echo "== list says when a backup was verified, and what changed since"
check_eq "verify" 0 "$(code "$pgmig" backup verify "$fk_id" --from "$store" "${k[@]}")"
check_eq "list: verified, with the time" yes \
    "$("$pgmig" backup list --from "$store" "${k[@]}" | grep "^$fk_id" | grep -Eq "verified [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}Z" && echo yes || echo no)"
truncate -s 100 "$work/store/$fk_id/$(object_of "$fk_id" users)"
check_eq "an object cut after the verify: list says damaged, verified before" yes \
    "$("$pgmig" backup list --from "$store" "${k[@]}" 2>/dev/null | grep "^$fk_id" | grep -q "damaged (verified .*, changed since)" && echo yes || echo no)"
check_eq "... and --json gives the damage" "True" \
    "$("$pgmig" backup list --from "$store" "${k[@]}" --json | python3 -c '
import json, sys
b = [b for b in json.load(sys.stdin) if b["id"] == sys.argv[1]][0]
print(b.get("damage") is not None and "is 100 bytes in the store" in b["damage"])' "$fk_id")"

echo "== prune removes unfinished uploads older than a day"
mkdir -p "$work/store/$seq_id/pg"
echo "half" >"$work/store/$seq_id/pg/0009.obj.4242.partial"
echo "half" >"$work/store/$seq_id/pg/0010.obj.4343.partial"
touch -d '2 days ago' "$work/store/$seq_id/pg/0009.obj.4242.partial"
check_eq "prune" 0 "$(code "$pgmig" backup prune --from "$store" "${k[@]}" --keep-last 100)"
check_eq "... aborted the old unfinished upload and kept the young one" "no yes" \
    "$([ -e "$work/store/$seq_id/pg/0009.obj.4242.partial" ] && echo yes || echo no) $([ -e "$work/store/$seq_id/pg/0010.obj.4343.partial" ] && echo yes || echo no)"
rm -f "$work/store/$seq_id/pg/0010.obj.4343.partial"

if [ -n "${PGMIG_OLD:-}" ]; then
    echo "== backups made by an older pgmig (format 1) still verify and restore"
    old_id=$("$PGMIG_OLD" --db "dbname=$src" backup create --to "$store" "${k[@]}" --pg-table a_first 2>/dev/null)
    check_eq "a format 1 backup verifies" 0 "$(code "$pgmig" backup verify "$old_id" --from "$store" "${k[@]}")"
    check_eq "... and restores" 0 "$(code "$pgmig" backup restore "$old_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --pg-table a_first)"
fi

echo "== DynamoDB: nothing is written from an object that is not good in full"
start_dynalite "$work/dynalite.log"
export AWS_ACCESS_KEY_ID=AKIDPGMIGTEST AWS_SECRET_ACCESS_KEY=pgmig-test-secret-not-real AWS_REGION=eu-west-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
export AWS_ENDPOINT_URL_DYNAMODB=$DYNALITE_URL
cat >"$work/ddb.py" <<'PY'
import base64, json, os, sys, urllib.error, urllib.request
URL = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
def call(op, body):
    req = urllib.request.Request(URL + "/", data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op,
        "X-Amz-Date": "20260101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDPGMIGTEST/20260101/eu-west-1/dynamodb/"
                         "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64})
    try:
        return json.load(urllib.request.urlopen(req, timeout=60))
    except urllib.error.HTTPError as e:
        if "ResourceNotFoundException" in e.read().decode():
            return None
        raise
cmd, name, *rest = sys.argv[1:]
if cmd == "create":
    call("CreateTable", {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                         "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                         "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
    for start in range(0, int(rest[0]), 25):
        # Incompressible padding: the object spans several 1 MiB chunks.
        items = [{"PutRequest": {"Item": {"pk": {"S": "%s-%d" % (name, i)},
                                          "pad": {"S": base64.b64encode(os.urandom(4500)).decode()}}}}
                 for i in range(start, min(start + 25, int(rest[0])))]
        call("BatchWriteItem", {"RequestItems": {name: items}})
elif cmd == "count":
    request, total = {"TableName": name, "Select": "COUNT"}, 0
    while True:
        r = call("Scan", request)
        if r is None:
            print("missing")
            break
        total += r["Count"]
        if "LastEvaluatedKey" not in r:
            print(total)
            break
        request["ExclusiveStartKey"] = r["LastEvaluatedKey"]
PY
ddb() { python3 "$work/ddb.py" "$@"; }
ddb create t_one 400
ddb create t_two 300
ddb_id=$("$pgmig" --db "dbname=$src" backup create --to "$store" "${k[@]}" --pg-table users --pg-table orders \
    --dynamodb-table t_one --dynamodb-table t_two 2>/dev/null)
one=$(object_of "$ddb_id" t_one); two=$(object_of "$ddb_id" t_two)
cp -r "$work/store/$ddb_id" "$work/ddb_saved"
cp "$work/store/$ddb_id/$two" "$work/store/$ddb_id/$one"  # t_two's object in t_one's place
check_eq "another table's object in a table's place: the restore fails (exit 1)" "1 yes" \
    "$(code "$pgmig" backup restore "$ddb_id" --from "$store" "${k[@]}" --dynamodb-table t_one --rename-dynamodb t_one=t_one_copy) $(has "chunk 0 failed authentication")"
check_eq "... having created no table and written no item" missing "$(ddb count t_one_copy)"
rm -rf "$work/store/$ddb_id"; cp -r "$work/ddb_saved" "$work/store/$ddb_id"
# Cut inside the last chunk: every chunk before it authenticates.
truncate -s $(($(stat -c %s "$work/store/$ddb_id/$one") - 100)) "$work/store/$ddb_id/$one"
check_eq "a truncated DynamoDB object: the restore fails" 1 \
    "$(code "$pgmig" backup restore "$ddb_id" --from "$store" "${k[@]}" --dynamodb-table t_one --rename-dynamodb t_one=t_one_copy)"
check_eq "... having written nothing" missing "$(ddb count t_one_copy)"
q $dst "DELETE FROM orders; DELETE FROM users WHERE id > 3" >/dev/null
check_eq "with PostgreSQL tables in the same restore, it fails before PostgreSQL changes" "1 3" \
    "$(code "$pgmig" backup restore "$ddb_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --rename-dynamodb t_one=t_one_copy --rename-dynamodb t_two=t_two_copy) $(q $dst "SELECT count(*) FROM users")"
check_eq "... and DynamoDB is untouched too" "missing missing" "$(ddb count t_one_copy) $(ddb count t_two_copy)"
rm -rf "$work/store/$ddb_id"; cp -r "$work/ddb_saved" "$work/store/$ddb_id"
check_eq "the intact backup restores both kinds" 0 \
    "$(code "$pgmig" backup restore "$ddb_id" --from "$store" "${k[@]}" --target-db "dbname=$dst" --rename-dynamodb t_one=t_one_copy --rename-dynamodb t_two=t_two_copy)"
check_eq "... every item and row" "400 300 10" "$(ddb count t_one_copy) $(ddb count t_two_copy) $(q $dst "SELECT count(*) FROM users")"

q $dst "DROP OWNED BY pgm_restorer; DROP ROLE pgm_restorer" >/dev/null 2>&1 || true
finish_checks
