#!/usr/bin/env bash
# DynamoDB benchmark (part of `make bench`): pgmig backup and restore of 10^5 items against
# dynalite (in memory, on this machine), in items/s. dynalite's own speed bounds both
# numbers; they show pgmig's overhead and parallelism, not what AWS would do.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source test/lib/deps.sh
source test/lib/cluster.sh
source test/lib/dynalite.sh
install_dependencies
install_npm
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j2 >/dev/null
pgmig="$root/build/pgmig"
work=$(mktemp -d /tmp/pgmig-ddbbench.XXXXXX)
trap 'stop_dynalite; rm -rf "$work"' EXIT
ITEMS=${ITEMS:-100000}
start_dynalite "$work/dynalite.log"
export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=eu-west-1
export AWS_ENDPOINT_URL_DYNAMODB=$DYNALITE_URL PGMIG_NO_PROGRESS=1
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
head -c 32 /dev/urandom >"$work/key"

echo "== loading $ITEMS items into dynalite"
DDB=$DYNALITE_URL N=$ITEMS python3 - <<'PY'
import concurrent.futures, json, os, urllib.request
URL, N = os.environ["DDB"], int(os.environ["N"])
def call(op, body):
    req = urllib.request.Request(URL + "/", data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op,
        "X-Amz-Date": "20260101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/eu-west-1/dynamodb/aws4_request, "
                         "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64})
    return json.load(urllib.request.urlopen(req, timeout=120))
call("CreateTable", {"TableName": "events", "BillingMode": "PAY_PER_REQUEST",
     "AttributeDefinitions": [{"AttributeName": "user", "AttributeType": "S"},
                              {"AttributeName": "at", "AttributeType": "N"}],
     "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}]})
def item(i):
    return {"user": {"S": "user-%d" % (i % 5000)}, "at": {"N": str(1700000000 + i)},
            "kind": {"S": ["login", "view", "purchase", "logout"][i % 4]},
            "amount": {"N": "%d.%02d" % (i % 1000, i % 100)}, "ok": {"BOOL": i % 3 != 0},
            "tags": {"SS": ["t%d" % (i % 7), "t%d" % (i % 11 + 7)]},
            "meta": {"M": {"ip": {"S": "10.0.%d.%d" % (i // 256 % 256, i % 256)}, "ua": {"S": "Mozilla/5.0 bench"}}}}
def batch(start):
    reqs = [{"PutRequest": {"Item": item(i)}} for i in range(start, min(start + 25, N))]
    while reqs:
        left = call("BatchWriteItem", {"RequestItems": {"events": reqs}}).get("UnprocessedItems", {})
        reqs = left.get("events", [])
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(batch, range(0, N, 25)))
PY

ms() { local t0; t0=$(date +%s%N); "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }; echo $((($(date +%s%N) - t0) / 1000000)); }
backup_ms=$(ms "$pgmig" backup create --to "file://$work/store" --key-file "$work/key" --dynamodb-table events)
id=$(ls "$work/store" | head -1)
restore_ms=$(ms "$pgmig" backup restore "$id" --from "file://$work/store" --key-file "$work/key" --rename-dynamodb events=events_copy)
rate() { awk -v n="$ITEMS" -v ms="$1" 'BEGIN { printf "%d", n / (ms / 1000) }'; }
echo
echo "| measurement ($ITEMS items, dynalite) | time | items/s |"
echo "|---|---|---|"
echo "| pgmig backup create (4 Scan segments) | $backup_ms ms | $(rate "$backup_ms") |"
echo "| pgmig backup restore (CreateTable, BatchWriteItem x 4 threads) | $restore_ms ms | $(rate "$restore_ms") |"
