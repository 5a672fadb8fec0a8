#!/usr/bin/env bash
# CLI benchmarks (part of `make bench`), on a throwaway cluster, in one run:
#   1. `pgmig up` of the 1,000-migration set (CREATE TABLE + bigserial PK + index + INSERT 10
#      rows each) against `dbmate up` of the same SQL (npm dbmate), fresh databases, the order
#      alternating per round (target: pgmig <= 1.0x dbmate)
#   2. `pgmig status` wall time with 10,000 applied migrations (target < 200 ms)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_start clibench shared_buffers=256MB
dbmate=$(ensure_dbmate)
pgmig="$root/build/pgmig"

# The same 1,000 migrations in both tools' file formats.
mkdir -p "$work/pgmig" "$work/dbmate"
for i in $(seq 1 1000); do
    v=$(printf '%014d' "$i")
    sql="CREATE TABLE bench_$i (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX bench_${i}_name_idx ON bench_$i (name);
INSERT INTO bench_$i (name) SELECT 'row ' || g FROM generate_series(1, 10) g;"
    printf '%s\n' "$sql" >"$work/pgmig/${v}_bench_$i.up.sql"
    printf -- '-- migrate:up\n%s\n\n-- migrate:down\nDROP TABLE bench_%s;\n' "$sql" "$i" >"$work/dbmate/${v}_bench_$i.sql"
done

pgmig_times=()
dbmate_times=()
for r in $(seq 1 "$ROUNDS"); do
    dropdb --if-exists b_pgmig 2>/dev/null; createdb b_pgmig
    dropdb --if-exists b_dbmate 2>/dev/null; createdb b_dbmate
    psql -X -q -d b_pgmig -c "CREATE EXTENSION pg_migrate" >/dev/null
    run_pgmig() {
        psql -X -q -d postgres -c CHECKPOINT
        local t0; t0=$(now_ms)
        "$pgmig" --db "dbname=b_pgmig" --dir "$work/pgmig" up --no-preflight >/dev/null 2>&1
        pgmig_times+=($(( $(now_ms) - t0 )))
    }
    run_dbmate() {
        psql -X -q -d postgres -c CHECKPOINT
        local t0; t0=$(now_ms)
        DATABASE_URL="postgres://$PGUSER@127.0.0.1:$PGPORT/b_dbmate?sslmode=disable" \
            "$dbmate" --migrations-dir "$work/dbmate" --no-dump-schema up >/dev/null
        dbmate_times+=($(( $(now_ms) - t0 )))
    }
    if [ $(( r % 2 )) = 1 ]; then run_pgmig; run_dbmate; else run_dbmate; run_pgmig; fi
    applied=$(psql -X -qtA -d b_pgmig -c "SELECT count(*) FROM pg_migrate.migration WHERE state = 'applied'")
    [ "$applied" = 1000 ] || { echo "pgmig applied only $applied" >&2; exit 1; }
done
p=$(printf '%s\n' "${pgmig_times[@]}" | median)
d=$(printf '%s\n' "${dbmate_times[@]}" | median)
ratio=$(awk -v a="$p" -v b="$d" 'BEGIN {printf "%.2f", a / b}')
echo "pgmig up ${p} ms, dbmate up ${d} ms: ratio $ratio (target <= 1.0)"

# pgmig status with 10,000 applied migrations.
mkdir -p "$work/many"
for i in $(seq 1 10000); do
    if [ $(( i % 2 )) = 1 ]; then sql="CREATE TABLE s_$i (i int);"; else sql="COMMENT ON TABLE s_$(( i - 1 )) IS 'migration $i';"; fi
    printf '%s\n' "$sql" >"$work/many/$(printf '%014d' "$i")_s_$i.up.sql"
done
dropdb --if-exists b_status 2>/dev/null; createdb b_status
psql -X -q -d b_status -c "CREATE EXTENSION pg_migrate" >/dev/null
"$pgmig" --db "dbname=b_status" --dir "$work/many" up --no-preflight >/dev/null 2>&1
status_times=()
for i in 1 2 3 4 5; do
    t0=$(now_ms)
    "$pgmig" --db "dbname=b_status" --dir "$work/many" status >/dev/null
    status_times+=($(( $(now_ms) - t0 )))
done
s=$(printf '%s\n' "${status_times[@]}" | median)
echo "pgmig status with 10000 applied: ${s} ms wall (target < 200 ms)"
cat <<MD

| 1,000 migrations, median of $ROUNDS, alternating order | pgmig up | dbmate up | ratio |
|---|---|---|---|
| CREATE TABLE + bigserial PK + index + INSERT 10 rows each | $p ms | $d ms | **$ratio** (target <= 1.0) |

\`pgmig status\` with 10,000 applied migrations: **$s ms** wall (median of 5; target < 200 ms).
MD
dropdb b_pgmig; dropdb b_dbmate; dropdb b_status
