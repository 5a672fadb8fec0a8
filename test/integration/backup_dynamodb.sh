#!/usr/bin/env bash
# pgmig backup with DynamoDB tables, against dynalite and a fault-injecting proxy: a table with
# a composite key, a GSI, an LSI and every attribute type (10^4+ items) is backed up without
# any database, verified, listed, and restored under another name through a proxy that
# throttles and leaves items unprocessed - every item arrives, identical; a dry run creates
# nothing; a restore into the existing table overwrites by key; a table with another key
# schema is refused (exit 3); and when the table's throughput never comes back the restore
# fails (exit 1) saying exactly how many items were not written.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
source "$here/../lib/cluster.sh"  # free_port
source "$here/../lib/dynalite.sh"
pgmig="$here/../../build/pgmig"
proxy_tool="$here/../tools/dynamodb_fault_proxy.py"
work=$(mktemp -d)
proxy_pids=()
cleanup() {
    for p in "${proxy_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    stop_dynalite
    rm -rf "$work"
}
trap cleanup EXIT
started=$(date +%s%N)
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }

start_dynalite "$work/dynalite.log"
export AWS_ACCESS_KEY_ID=AKIDPGMIGTEST AWS_SECRET_ACCESS_KEY=pgmig-test-secret-not-real AWS_REGION=eu-west-1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL PGMIG_DYNAMODB_MAX_RETRIES
export AWS_ENDPOINT_URL_DYNAMODB=$DYNALITE_URL
# DynamoDB alone needs no database: point libpq nowhere, so any connection attempt fails.
export PGHOST="$work/no-postgres-here" PGPORT=1
store="file://$work/store"
head -c 32 /dev/urandom >"$work/backup.key"
k=(--key-file "$work/backup.key")

# start_proxy VAR ARGS...: a fault proxy in front of dynalite, on a port the system picks
# (no race with other listeners); VAR gets its URL.
start_proxy() {
    local var=$1 n=${#proxy_pids[@]} i
    shift
    python3 "$proxy_tool" --port-file "$work/proxy-$n.port" --target "$DYNALITE_URL" "$@" \
        >"$work/proxy-$n.log" 2>&1 &
    proxy_pids+=($!)
    for i in $(seq 1 100); do
        [ -s "$work/proxy-$n.port" ] && break
        kill -0 "$!" 2>/dev/null || { cat "$work/proxy-$n.log"; return 1; }
        sleep 0.1
    done
    printf -v "$var" 'http://127.0.0.1:%s' "$(cat "$work/proxy-$n.port")"
}

# A tiny DynamoDB client for setting up and inspecting tables, straight to dynalite (which
# needs an Authorization header but never checks it).
cat >"$work/ddb.py" <<'PY'
import base64, concurrent.futures, hashlib, json, os, sys, urllib.error, urllib.request

URL = os.environ["DDB_DIRECT"]

def call(op, body):
    req = urllib.request.Request(URL + "/", data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op,
        "X-Amz-Date": "20260101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDPGMIGTEST/20260101/eu-west-1/dynamodb/"
                         "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64})
    try:
        return json.load(urllib.request.urlopen(req, timeout=60))
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        if "ResourceNotFoundException" in body:
            raise LookupError(body)
        sys.exit("%s: HTTP %d %s" % (op, e.code, body))

def key(name, kind):
    return {"AttributeName": name, "KeyType": kind}

def item(i):
    """Every attribute type, nested documents, and strings with newlines, tabs and quotes."""
    b = lambda raw: base64.b64encode(raw).decode()
    return {
        "pk": {"S": "customer#%d" % (i % 997)},
        "sk": {"N": str(i)},
        "kind": {"S": ("order", "refund", "note")[i % 3]},
        "n": {"N": ("0", "-1", "3.14159", "1e10", "-0.000001", str(i * 7919))[i % 6]},
        "text": {"S": "ü€😀 line1\nline2\t\"quoted\" \\ back\u0001slash %d" % i},
        "bin": {"B": b(bytes([i % 256, 0, 255, 10, 13]) + i.to_bytes(4, "big"))},
        "flag": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True},
        "map": {"M": {"a": {"S": "x" * (i % 50 + 1)},
                      "nested": {"M": {"deep": {"L": [{"N": str(i)}, {"BOOL": False}]}}}}},
        "list": {"L": [{"S": "s"}, {"N": "1.5"}, {"NULL": True}, {"M": {}}, {"L": []},
                       {"B": "AA=="}, {"SS": ["only"]}]},
        "ss": {"SS": ["red", "tag%d" % (i % 10)]},
        "ns": {"NS": ["1", "2.5", str(i + 1000)]},
        "bs": {"BS": ["AAE=", b(i.to_bytes(4, "big"))]},
        # Big enough that a Scan segment needs several 1 MB pages.
        "pad": {"S": "p" * (200 + i % 400)},
    }

def create_orders(name):
    call("CreateTable", {
        "TableName": name, "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t}
                                 for a, t in (("pk", "S"), ("sk", "N"), ("kind", "S"), ("n", "N"))],
        "KeySchema": [key("pk", "HASH"), key("sk", "RANGE")],
        "GlobalSecondaryIndexes": [{
            "IndexName": "by_kind", "KeySchema": [key("kind", "HASH"), key("sk", "RANGE")],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["flag"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4}}],
        "LocalSecondaryIndexes": [{
            "IndexName": "by_n", "KeySchema": [key("pk", "HASH"), key("n", "RANGE")],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}]})

def create_other(name):
    call("CreateTable", {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                         "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                         "KeySchema": [key("pk", "HASH")]})

def load(name, count):
    def batch(start):
        items = [{"PutRequest": {"Item": item(i)}} for i in range(start, min(start + 25, count))]
        while items:
            r = call("BatchWriteItem", {"RequestItems": {name: items}})
            items = r.get("UnprocessedItems", {}).get(name, [])
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(0, count, 25)))

def scan(name, **extra):
    request = dict(TableName=name, **extra)
    while True:
        page = call("Scan", request)
        yield page
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

def canonical(value):
    """Sets are unordered: sort them; everything else stays exactly as stored."""
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value

def dump(name, path):
    lines = sorted(json.dumps(canonical(i), sort_keys=True, ensure_ascii=False)
                   for page in scan(name, ConsistentRead=True) for i in page["Items"])
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest())

def shape(name):
    t = call("DescribeTable", {"TableName": name})["Table"]
    idx = lambda i: (i["IndexName"], i["KeySchema"], canonical(i["Projection"]),
                     {k: i.get("ProvisionedThroughput", {}).get(k)
                      for k in ("ReadCapacityUnits", "WriteCapacityUnits")})
    print(json.dumps({
        "keys": t["KeySchema"],
        "attributes": sorted(t["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "billing": t.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "units": {k: t["ProvisionedThroughput"][k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")},
        "gsi": sorted(idx(i) for i in t.get("GlobalSecondaryIndexes", [])),
        "lsi": sorted(idx(i) for i in t.get("LocalSecondaryIndexes", []))}, sort_keys=True))

def main():
    cmd, name, *rest = sys.argv[1:]
    if cmd == "create-orders": create_orders(name)
    elif cmd == "create-other": create_other(name)
    elif cmd == "load": load(name, int(rest[0]))
    elif cmd == "dump": dump(name, rest[0])
    elif cmd == "shape": shape(name)
    elif cmd == "count": print(sum(p["Count"] for p in scan(name, Select="COUNT", ConsistentRead=True)))
    elif cmd == "put": call("PutItem", {"TableName": name, "Item": json.loads(rest[0])})
    elif cmd == "get":
        r = call("GetItem", {"TableName": name, "ConsistentRead": True,
                             "Key": {"pk": {"S": rest[0]}, "sk": {"N": rest[1]}}})
        print(json.dumps(canonical(r.get("Item")), sort_keys=True))
    elif cmd == "exists":
        try:
            call("DescribeTable", {"TableName": name})
            print("yes")
        except LookupError:
            print("no")
    else:
        sys.exit("unknown command " + cmd)

main()
PY
ddb() { DDB_DIRECT=$DYNALITE_URL python3 "$work/ddb.py" "$@"; }

items=10007  # not a multiple of 25: the last batch is short
t0=$(date +%s%N)
ddb create-orders orders
ddb load orders $items
echo "  (loaded $items items into dynalite in $(ms_since "$t0") ms)"
check_eq "the source table holds every item" $items "$(ddb count orders)"
ddb dump orders "$work/orders.dump" >/dev/null

check_eq "--no-postgres without --dynamodb-table is a usage error" 2 \
    "$(code "$pgmig" backup create --no-postgres --to "$store" "${k[@]}")"
check_eq "a missing table is a usage error, as a missing --pg-table is" 2 \
    "$(code "$pgmig" backup create --dynamodb-table no_such_table --to "$store" "${k[@]}")"
check_eq "and leaves nothing in the store" 0 "$(find "$work/store" -type f 2>/dev/null | wc -l)"

t0=$(date +%s%N)
id=$("$pgmig" backup create --no-postgres --dynamodb-table orders --to "$store" "${k[@]}" --label ddb)
backup_ms=$(ms_since "$t0")
echo "  (backup of $items items: $backup_ms ms, $((items * 1000 / (backup_ms + 1))) items/s)"
check_eq "create prints a backup id" yes "$(echo "$id" | grep -Eq '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$' && echo yes || echo no)"
check_eq "the folder has one DynamoDB object and the manifest" "ddb/0001.obj manifest.json" \
    "$(cd "$work/store/$id" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"
manifest=$(python3 - "$work/store/$id/manifest.json" <<'PY'
import json, sys
def no_float(text):
    raise SystemExit("a floating-point number in the manifest: " + text)
m = json.load(open(sys.argv[1]), parse_float=no_float)["manifest"]
d = m["dynamodb"]
t = d["tables"][0]
desc = t["description"]
print(d["region"], d["endpoint"].startswith("http://127.0.0.1:"), "postgres" in m, t["name"],
      t["items"], desc["BillingMode"], desc["ProvisionedThroughput"]["WriteCapacityUnits"],
      [g["IndexName"] for g in desc["GlobalSecondaryIndexes"]],
      [l["IndexName"] for l in desc["LocalSecondaryIndexes"]], sorted(desc))
PY
)
check_eq "the manifest records region, endpoint, items, keys, billing and both indexes, and no float" \
    "eu-west-1 True False orders $items PROVISIONED 6 ['by_kind'] ['by_n'] ['AttributeDefinitions', 'BillingMode', 'GlobalSecondaryIndexes', 'KeySchema', 'LocalSecondaryIndexes', 'ProvisionedThroughput']" \
    "$manifest"

check_eq "verify passes" 0 "$(code "$pgmig" backup verify "$id" --from "$store" "${k[@]}")"
check_eq "verify counts every item" $items \
    "$("$pgmig" --json backup verify "$id" --from "$store" "${k[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')"
check_eq "list shows the DynamoDB table and its items" "dynamodb orders $items True" \
    "$("$pgmig" --json backup list --from "$store" "${k[@]}" | python3 -c '
import json, sys
b = [b for b in json.load(sys.stdin) if b["id"] == "'"$id"'"][0]
t = b["tables"][0]
print(t["store"], t["table"], t["rows"], b["verified_at"] is not None)')"

# A backup through a proxy that throttles 40% of all requests (DescribeTable and Scan
# included), in one segment (so one thread pages through the whole table) with consistent
# reads: the same items.
start_proxy scan_proxy --throttle-fraction 0.4 --seed 11 --stats-file "$work/scan-stats.json"
id_throttled=$(AWS_ENDPOINT_URL_DYNAMODB=$scan_proxy "$pgmig" backup create --dynamodb-table orders \
    --dynamodb-segments 1 --consistent-read --to "$store" "${k[@]}")
check_eq "a backup through throttling holds every item" $items \
    "$("$pgmig" --json backup verify "$id_throttled" --from "$store" "${k[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')"
check_eq "... and the proxy did throttle the paged Scan" yes \
    "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("yes" if s["throttled"] >= 1 and s["by_operation"]["Scan"] - s["throttled"] >= 4 else s)' "$work/scan-stats.json")"

check_eq "restore --pg-table from a DynamoDB-only backup is a usage error" 2 \
    "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --pg-table users)"
dry=$("$pgmig" backup restore "$id" --from "$store" "${k[@]}" --rename-dynamodb orders=orders_dry --dry-run)
check_eq "a dry run shows the plan" yes \
    "$(echo "$dry" | grep -q "orders_dry.*(missing).*create table and load 10,007 items\|orders_dry.*(missing).*create table and load $items items" && echo yes || echo "no: $dry")"
check_eq "a dry run creates nothing" no "$(ddb exists orders_dry)"

# The restore through a proxy that throttles 20% of all requests and writes only part of 30%
# of the batches, reporting the rest as UnprocessedItems.
start_proxy fault_proxy --throttle-fraction 0.2 --partial-fraction 0.3 --seed 7 \
    --stats-file "$work/restore-stats.json"
t0=$(date +%s%N)
restore_out=$(AWS_ENDPOINT_URL_DYNAMODB=$fault_proxy "$pgmig" backup restore "$id" --from "$store" "${k[@]}" \
    --rename-dynamodb orders=orders_copy 2>&1) || { echo "$restore_out"; false; }
restore_ms=$(ms_since "$t0")
echo "  (restore of $items items through the fault proxy: $restore_ms ms, $((items * 1000 / (restore_ms + 1))) items/s)"
check_eq "the proxy throttled requests and left items unprocessed" yes \
    "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("yes" if s["throttled"] > 10 and s["partial_batches"] > 10 and s["items_withheld"] > 100 else s)' "$work/restore-stats.json")"
check_eq "every item arrived, identical" "$(ddb dump orders "$work/orders.dump")" \
    "$(ddb dump orders_copy "$work/copy.dump")"
cmp -s "$work/orders.dump" "$work/copy.dump" || diff "$work/orders.dump" "$work/copy.dump" | head -5
check_eq "the new table has the keys, indexes and billing of the original" "$(ddb shape orders)" \
    "$(ddb shape orders_copy)"

# Into the existing table: items with the same key are overwritten, other items stay.
ddb put orders_copy '{"pk": {"S": "customer#1"}, "sk": {"N": "1"}, "text": {"S": "changed"}}'
ddb put orders_copy '{"pk": {"S": "extra"}, "sk": {"N": "1"}, "text": {"S": "not in the backup"}}'
t0=$(date +%s%N)
again=$("$pgmig" backup restore "$id" --from "$store" "${k[@]}" --dynamodb-table orders \
    --rename-dynamodb orders=orders_copy)
restore_ms=$(ms_since "$t0")
echo "  (restore of $items items straight to dynalite: $restore_ms ms, $((items * 1000 / (restore_ms + 1))) items/s)"
check_eq "restore into the existing table says it overwrites by key" yes \
    "$(echo "$again" | grep -q "orders_copy.*existed.*into the existing table (items with the same key are overwritten)" && echo yes || echo "no: $again")"
check_eq "the changed item is as in the backup again" "$(ddb get orders customer#1 1)" \
    "$(ddb get orders_copy customer#1 1)"
check_eq "the item not in the backup stays" $((items + 1)) "$(ddb count orders_copy)"

# A table with another key schema is refused before anything is written.
ddb create-other other_key
check_eq "another key schema is refused (exit 3)" 3 \
    "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --rename-dynamodb orders=other_key)"
check_eq "... also in a dry run" 3 \
    "$(code "$pgmig" backup restore "$id" --from "$store" "${k[@]}" --rename-dynamodb orders=other_key --dry-run)"
check_eq "... and nothing was written to it" 0 "$(ddb count other_key)"

# The table's throughput is gone for good after 40 batches: the restore gives up after
# PGMIG_DYNAMODB_MAX_RETRIES attempts without progress and says how many items are missing.
start_proxy dead_proxy --operations BatchWriteItem --throttle-after 40 --stats-file "$work/dead-stats.json"
set +e
failed=$(AWS_ENDPOINT_URL_DYNAMODB=$dead_proxy PGMIG_DYNAMODB_MAX_RETRIES=3 "$pgmig" backup restore "$id" \
    --from "$store" "${k[@]}" --rename-dynamodb orders=orders_starved 2>&1 >/dev/null)
status=$?
set -e
check_eq "a restore that cannot write every item fails (exit 1)" 1 "$status"
written=$(ddb count orders_starved)
check_eq "40 batches of 25 went through" 1000 "$written"
check_eq "the error says exactly how many items were not written" "$((items - written)) of $items" \
    "$(echo "$failed" | grep -oE '[0-9]+ of [0-9]+ items were not written' | sed 's/ items were not written//')"
check_eq "... names the table and DynamoDB's error" yes \
    "$(echo "$failed" | grep -q "orders_starved.*ProvisionedThroughputExceededException" && echo yes || echo "no: $failed")"
check_eq "... and carries no secret" 0 "$(echo "$failed" | grep -c "$AWS_SECRET_ACCESS_KEY" || true)"

echo "  (backup_dynamodb.sh ran in $(ms_since "$started") ms)"
finish_checks
