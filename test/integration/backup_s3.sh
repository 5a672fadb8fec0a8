#!/usr/bin/env bash
# pgmig backup through S3 (@20minutes/s3rver, which checks SigV4 signatures): a PostgreSQL
# round trip of several tables through an s3:// store, list/verify/prune there, and an S3
# server killed in the middle of a backup: the backup fails clearly and is never listed as
# good.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
source "$here/../lib/s3rver.sh"
pgmig="$here/../../build/pgmig"
src=pgm_s3_src
dst=pgm_s3_dst
for d in $src $dst; do dropdb --if-exists "$d" 2>/dev/null; createdb "$d"; done
work=$(mktemp -d /tmp/pgmig-backup-s3.XXXXXX)
backup_pid=""
cleanup() {
    [ -n "$backup_pid" ] && kill "$backup_pid" 2>/dev/null
    stop_s3rver KILL
    rm -rf "$work"
}
trap cleanup EXIT
q() { psql -X -qtA -d "$1" -c "$2"; }
code() { set +e; "$@" >/dev/null 2>"$work/stderr"; echo $?; set -e; }

start_s3rver "$work/s3" backups
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_S3="$S3RVER_ENDPOINT"
unset AWS_SESSION_TOKEN AWS_PROFILE
export PGMIG_BACKUP_KEY_FILE="$work/key"
head -c 32 /dev/urandom >"$work/key"
store=s3://backups/prod/app

schema="CREATE TABLE users (id int PRIMARY KEY, email text, profile jsonb, avatar bytea);
        CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id), tags text[]);"
for d in $src $dst; do q $d "$schema" >/dev/null; done
q $src "INSERT INTO users SELECT g, CASE WHEN g % 9 = 0 THEN NULL ELSE 'u' || g END,
               jsonb_build_object('g', g), decode(md5(g::text), 'hex') FROM generate_series(1, 100000) g" >/dev/null
q $src "INSERT INTO orders SELECT g, 1 + g % 100000, ARRAY['t' || g % 5] FROM generate_series(1, 20000) g" >/dev/null

id=$("$pgmig" --db "dbname=$src" backup create --to "$store" -j 2 --label s3 2>"$work/stderr") || { cat "$work/stderr"; exit 1; }
check_eq "backup to S3 prints an id" yes "$(echo "$id" | grep -Eq '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$' && echo yes || echo no)"
check_eq "the objects and the manifest are in the bucket under the prefix" 3 \
    "$(find "$work/s3/data/backups/prod/app/$id" -name '*._S3rver_object' | wc -l)"
check_eq "verify reads it back from S3" 0 "$(code "$pgmig" backup verify "$id" --from "$store")"
check_eq "list shows it verified" "True True" \
    "$("$pgmig" backup list --from "$store" --json | python3 -c 'import json,sys; b=json.load(sys.stdin)[0]; print(b["complete"], b["verified_at"] is not None)')"
check_eq "restore from S3 into another database" 0 "$(code "$pgmig" backup restore "$id" --from "$store" --target-db "dbname=$dst")"
for t in users orders; do
    check_eq "$t identical after the S3 round trip" \
        "$(q $src "SELECT md5(string_agg(x::text, ',' ORDER BY id)) FROM $t x")" \
        "$(q $dst "SELECT md5(string_agg(x::text, ',' ORDER BY id)) FROM $t x")"
done
check_eq "a wrong secret key is refused by the server, with a clear message" "1 yes" \
    "$(AWS_SECRET_ACCESS_KEY=wrong code "$pgmig" backup list --from "$store") $(grep -qi "signature" "$work/stderr" && echo yes || { cat "$work/stderr" >&2; echo no; })"
check_eq "the secret never appears in the message" 0 "$(grep -c "S3RVER" "$work/stderr" || true)"

# A big, incompressible table uploaded in 1 MiB parts; the server dies half way.
q $src "CREATE TABLE blobs (id int PRIMARY KEY, b bytea)" >/dev/null
q $src "INSERT INTO blobs SELECT g, decode(string_agg(md5(g::text || k::text), ''), 'hex')
          FROM generate_series(1, 6000) g, generate_series(1, 512) k GROUP BY g" >/dev/null
PGMIG_S3_PART_SIZE=1048576 "$pgmig" --db "dbname=$src" backup create --to "$store" --pg-table blobs \
    >"$work/killed.out" 2>"$work/killed.err" &
backup_pid=$!
for _ in $(seq 1 200); do
    [ -n "$(find "$work/s3/data" -path '*_S3rver_uploads*' -type f 2>/dev/null | head -1)" ] && break
    sleep 0.05
done
stop_s3rver KILL
set +e; wait "$backup_pid"; rc=$?; set -e
backup_pid=""
check_eq "the backup fails when the server dies" 1 "$rc"
check_eq "and says why (the store and the failed backup)" yes \
    "$(grep -q "failed and is incomplete" "$work/killed.err" && echo yes || { cat "$work/killed.err" >&2; echo no; })"
start_s3rver "$work/s3" backups
export AWS_ENDPOINT_URL_S3="$S3RVER_ENDPOINT"
states=$("$pgmig" backup list --from "$store" --json | python3 -c '
import json, sys
print(" ".join("good" if b["complete"] and b["authenticated"] else "incomplete" for b in json.load(sys.stdin)))')
check_eq "after a restart, only the first backup is good" yes \
    "$(case "$states" in "good"|"good incomplete") echo yes;; *) echo "$states" >&2; echo no;; esac)"
check_eq "prune keeps the good backup (the fresh leftover may still be running)" 0 \
    "$(code "$pgmig" backup prune --from "$store" --keep-last 1)"
check_eq "the good backup is still there" 0 "$(code "$pgmig" backup verify "$id" --from "$store")"
finish_checks
