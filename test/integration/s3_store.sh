#!/usr/bin/env bash
# The S3 store against a real S3 implementation that checks signatures (@20minutes/s3rver):
# objects come back byte for byte, large ones as parallel multipart uploads; listings page;
# deletes batch; every kind of request survives a failed first attempt (throttling, 5xx,
# dropped connections: test/tools/s3_fault_proxy.py); a wrong key, a source that dies and a
# server that dies all fail cleanly and leave nothing half-written under the object's key.
# Needs build/store_probe.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
source "$here/../lib/s3rver.sh"
probe="$here/../../build/store_probe"
[ -x "$probe" ] || { echo "missing $probe: build the store_probe target first" >&2; exit 1; }

work=$(mktemp -d /tmp/pgmig-s3.XXXXXX)
cleanup() {
    set +e  # a process that is already gone must not stop the cleanup
    stop_s3rver KILL
    [ -n "${probe_pid:-}" ] && kill "$probe_pid" 2>/dev/null
    [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

start_s3rver "$work/s3" backups
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3="$S3RVER_ENDPOINT"
unset AWS_SESSION_TOKEN AWS_PROFILE PGMIG_S3_PART_SIZE PGMIG_S3_LIST_PAGE PGMIG_S3_MAX_RETRIES \
    PGMIG_S3_STORAGE_CLASS PGMIG_S3_SSE PGMIG_S3_SSE_KMS_KEY_ID PGMIG_S3_PATH_STYLE
store=s3://backups/cluster-a
code() { set +e; "$@" >/dev/null 2>"$work/stderr"; echo $?; set -e; }
s3rver_metadata() { cat "$work/s3/data/backups/cluster-a/$1._S3rver_metadata.json"; }

echo "small object"
head -c 100000 /dev/urandom >"$work/small"
check_eq "a small object uploads" 0 "$(code "$probe" "$store" put base/manifest.json "$work/small")"
check_eq "it downloads" 0 "$(code "$probe" "$store" get base/manifest.json "$work/small.out")"
check_eq "byte for byte" 0 "$(code cmp "$work/small" "$work/small.out")"
check_eq "it lands under the store's prefix" 100000 \
    "$(stat -c %s "$work/s3/data/backups/cluster-a/base/manifest.json._S3rver_object")"
check_eq "an empty object round-trips" "0 0 0" \
    "$(code "$probe" "$store" put empty /dev/null) $(code "$probe" "$store" get empty "$work/empty.out") $(stat -c %s "$work/empty.out")"
check_eq "a missing object is 'not found' (exit 3)" 3 \
    "$(code "$probe" "$store" get base/nothing-here "$work/x")"
check_eq "storage class and encryption headers are signed and sent" "0 STANDARD_IA" \
    "$(PGMIG_S3_STORAGE_CLASS=STANDARD_IA PGMIG_S3_SSE=AES256 code "$probe" "$store" put ia "$work/small") $(s3rver_metadata ia | python3 -c 'import json,sys; print(json.load(sys.stdin)["x-amz-storage-class"])')"

echo "multipart upload"
head -c $((30 * 1024 * 1024)) /dev/urandom >"$work/big"
start=$(date +%s.%N)
check_eq "30 MiB in 1 MiB parts uploads" 0 \
    "$(PGMIG_S3_PART_SIZE=1048576 PGMIG_S3_STORAGE_CLASS=STANDARD_IA code "$probe" "$store" put tables/big.bin "$work/big")"
echo "    (upload took $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }") s)"
check_eq "it downloads byte for byte" "0 0" \
    "$(code "$probe" "$store" get tables/big.bin "$work/big.out") $(code cmp "$work/big" "$work/big.out")"
check_eq "the multipart upload is completed (no upload left behind)" "" \
    "$(ls "$work/s3/data/backups/._S3rver_uploads" 2>/dev/null)"
check_eq "CreateMultipartUpload carried the storage class" STANDARD_IA \
    "$(s3rver_metadata tables/big.bin | python3 -c 'import json,sys; print(json.load(sys.stdin)["x-amz-storage-class"])')"
check_eq "a part size under 1 MiB is refused, naming the variable" "1 1" \
    "$(PGMIG_S3_PART_SIZE=1000 code "$probe" "$store" put x "$work/small") $(grep -c PGMIG_S3_PART_SIZE "$work/stderr")"

echo "listing and deleting"
check_eq "1,100 small objects upload" 0 "$(code "$probe" "$store" put-many many/obj- 1100)"
"$probe" "$store" list many/ >"$work/list-default"
check_eq "a listing follows the continuation token past 1,000 keys" 1100 "$(wc -l <"$work/list-default")"
PGMIG_S3_LIST_PAGE=7 "$probe" "$store" list many/obj-00001 >"$work/list-small-pages"
check_eq "pages of 7 keys give the same keys, sorted and relative to the store" \
    "$(seq -f 'many/obj-%06g' 10 19)" "$(cut -f1 "$work/list-small-pages")"
check_eq "listed sizes are the objects' sizes" "15" "$(cut -f2 "$work/list-small-pages" | sort -u)"
check_eq "the list is the full 1,100 in order" "$(seq -f 'many/obj-%06g' 1 1100)" \
    "$(cut -f1 "$work/list-default")"
check_eq "other prefixes are not listed" "base/manifest.json" "$("$probe" "$store" list base/ | cut -f1)"
mapfile -t keys <<<"$(seq -f 'many/obj-%06g' 1 1100)"
check_eq "deleting 1,100 keys (two DeleteObjects batches) succeeds" 0 \
    "$(code "$probe" "$store" rm "${keys[@]}" missing/key-is-ignored)"
check_eq "they are gone" "" "$("$probe" "$store" list many/)"
check_eq "the rest is untouched" "base/manifest.json empty ia tables/big.bin " \
    "$("$probe" "$store" list | cut -f1 | tr '\n' ' ')"

echo "retries: every request's first attempt fails (s3_fault_proxy.py)"
python3 "$here/../tools/s3_fault_proxy.py" "$S3RVER_PORT" "$work/proxy.port" "$work/proxy.log" &
proxy_pid=$!
for _ in $(seq 1 50); do [ -f "$work/proxy.port" ] && break; sleep 0.1; done
via_proxy() { AWS_ENDPOINT_URL_S3="http://127.0.0.1:$(cat "$work/proxy.port")" "$@"; }
check_eq "a small object uploads through throttling (503 SlowDown)" 0 \
    "$(via_proxy code "$probe" "$store" put retried/small "$work/small")"
check_eq "a multipart upload survives dropped connections and 500s on its parts" 0 \
    "$(PGMIG_S3_PART_SIZE=1048576 via_proxy code "$probe" "$store" put retried/big "$work/big")"
check_eq "and a 200 that carries an InternalError on completion" "0 0" \
    "$(via_proxy code "$probe" "$store" get retried/big "$work/big.out") $(code cmp "$work/big" "$work/big.out")"
"$probe" "$store" put-many retried/many- 25
check_eq "a paged listing survives 429 on every page" 25 \
    "$(PGMIG_S3_LIST_PAGE=10 via_proxy "$probe" "$store" list retried/many- | wc -l)"
mapfile -t keys <<<"$(seq -f 'retried/many-%06g' 1 25)"
check_eq "a DeleteObjects survives a 504" "0 0" \
    "$(via_proxy code "$probe" "$store" rm "${keys[@]}") $("$probe" "$store" list retried/many- | wc -l)"
for fault in 503 500 drop 200-error 429 504; do
    check_eq "the proxy injected '$fault' faults" yes \
        "$(grep -q "^$fault " "$work/proxy.log" && echo yes || echo no)"
done
check_eq "every injected fault was followed by a successful retry" \
    "$(grep -v '^pass' "$work/proxy.log" | awk '{print $3, $4}' | sort -u)" \
    "$(grep -E '^pass 20[0-9] ' "$work/proxy.log" | awk '{print $3, $4}' | sort -u |
        grep -Fxf <(grep -v '^pass' "$work/proxy.log" | awk '{print $3, $4}'))"
check_eq "a signature error is not retried: one retry of the 503, then stop" "1 2" \
    "$(AWS_SECRET_ACCESS_KEY=wrong via_proxy code "$probe" "$store" put retried/denied "$work/small") $(grep -c " /backups/cluster-a/retried/denied" "$work/proxy.log")"
"$probe" "$store" put retried/cut-body.bin "$work/big"
check_eq "a download cut off after data was passed on fails instead of retrying" 1 \
    "$(via_proxy code "$probe" "$store" get retried/cut-body.bin "$work/x")"
check_eq "and says so" 1 \
    "$(grep -c "GetObject of object retried/cut-body.bin .* failed after [0-9]* bytes had been read (not retried" "$work/stderr")"
kill "$proxy_pid" 2>/dev/null || true
wait "$proxy_pid" 2>/dev/null || true
proxy_pid=
"$probe" "$store" rm retried/small retried/big retried/cut-body.bin

echo "wrong credentials"
check_eq "a wrong secret key fails (exit 1)" 1 \
    "$(AWS_SECRET_ACCESS_KEY=not-the-secret-4711 code "$probe" "$store" put k "$work/small")"
check_eq "the message names the signature error and what to check" 1 \
    "$(grep -c "SignatureDoesNotMatch.*Check the secret access key" "$work/stderr")"
check_eq "the message holds no secret and no Authorization header" 0 \
    "$(grep -ciE "not-the-secret-4711|authorization:|Signature=" "$work/stderr" || true)"
check_eq "a wrong access key id is named as such" "1 1" \
    "$(AWS_ACCESS_KEY_ID=NOBODY code "$probe" "$store" list) $(grep -c InvalidAccessKeyId "$work/stderr")"
check_eq "a missing bucket is named as such" "1 1" \
    "$(code "$probe" s3://no-such-bucket list) $(grep -c NoSuchBucket "$work/stderr")"

echo "a source that dies midway"
check_eq "the upload fails" 1 \
    "$(PGMIG_S3_PART_SIZE=1048576 code "$probe" "$store" put-fail-midway tables/half.bin "$work/big")"
check_eq "nothing is left under its key" 3 "$(code "$probe" "$store" get tables/half.bin "$work/x")"
check_eq "a small one leaves nothing either" "1 3" \
    "$(code "$probe" "$store" put-fail-midway small-half "$work/small") $(code "$probe" "$store" get small-half "$work/x")"

echo "a server that dies during a large upload"
# s3rver cannot abort multipart uploads: clear what the test above left, to see this one's.
rm -rf "$work/s3/data/backups/._S3rver_uploads"
mkfifo "$work/fifo"
PGMIG_S3_PART_SIZE=1048576 "$probe" "$store" put tables/killed.bin "$work/fifo" 2>"$work/killed.err" &
probe_pid=$!
exec 3>"$work/fifo"
head -c $((8 * 1024 * 1024)) /dev/urandom >&3
for _ in $(seq 1 100); do
    ls "$work/s3/data/backups/._S3rver_uploads/"*/1 >/dev/null 2>&1 && break
    sleep 0.1
done
check_eq "parts reached the server before it died" 1 \
    "$(ls "$work/s3/data/backups/._S3rver_uploads/"*/1 2>/dev/null | wc -l)"
stop_s3rver KILL
head -c $((8 * 1024 * 1024)) /dev/urandom >&3 2>/dev/null || true
exec 3>&-
set +e
wait "$probe_pid"
killed_code=$?
set -e
probe_pid=
check_eq "store_probe exits non-zero" 1 "$killed_code"
check_eq "the message names the part, the retries and the connection failure" 1 \
    "$(grep -cE "S3 UploadPart [0-9]+ of object tables/killed.bin in $store failed after 6 attempts: .*(connect|Connection)" "$work/killed.err")"
cat "$work/killed.err" | sed 's/^/    | /'
start_s3rver "$work/s3"
export AWS_ENDPOINT_URL_S3="$S3RVER_ENDPOINT"
check_eq "after a restart, nothing is under its key" 3 \
    "$(code "$probe" "$store" get tables/killed.bin "$work/x")"
check_eq "the completed objects are still there" "0 0" \
    "$(code "$probe" "$store" get tables/big.bin "$work/big.out") $(code cmp "$work/big" "$work/big.out")"

finish_checks
