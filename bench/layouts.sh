#!/usr/bin/env bash
# Other tools' folders (part of `make bench`): `pgmig up` of 300 migrations in dbmate's and in
# Flyway's layout (each CREATE TABLE + bigserial PK + index + INSERT 10 rows; every 10th a
# CREATE INDEX CONCURRENTLY outside a transaction) against psql applying the same scripts one
# transaction each, in one session (BEGIN; \i file; COMMIT), on fresh databases, the order
# alternating per round. Reports the medians and the ratio pgmig / psql.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_start layoutbench shared_buffers=256MB
pgmig="$root/build/pgmig"
N=${N:-300}

mkdir -p "$work/dbmate" "$work/flyway" "$work/plain"
: >"$work/psql.driver"
for i in $(seq 1 "$N"); do
    v=$(printf '%014d' "$i")
    if [ $(( i % 10 )) = 0 ]; then
        sql="CREATE INDEX CONCURRENTLY bench_$(( i - 1 ))_created_idx ON bench_$(( i - 1 )) (created_at);"
        printf -- '-- migrate:up transaction:false\n%s\n\n-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY bench_%s_created_idx;\n' \
            "$sql" "$(( i - 1 ))" >"$work/dbmate/${v}_index_$i.sql"
        printf '%s\n' "$sql" >"$work/flyway/V$i.$(( i % 7 ))__index_$i.sql"
        printf '%s\n' "$sql" >"$work/plain/$v.sql"
        printf '\\i %s\n' "$work/plain/$v.sql" >>"$work/psql.driver"
        continue
    fi
    sql="CREATE TABLE bench_$i (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX bench_${i}_name_idx ON bench_$i (name);
INSERT INTO bench_$i (name) SELECT 'row ' || g FROM generate_series(1, 10) g;"
    printf -- '-- migrate:up\n%s\n\n-- migrate:down\nDROP TABLE bench_%s;\n' "$sql" "$i" >"$work/dbmate/${v}_bench_$i.sql"
    printf '%s\n' "$sql" >"$work/flyway/V$i.$(( i % 7 ))__bench_$i.sql"
    printf '%s\n' "$sql" >"$work/plain/$v.sql"
    printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$work/plain/$v.sql" >>"$work/psql.driver"
done

declare -A times
run() {  # run LABEL DB COMMAND...
    local label=$1 db=$2
    shift 2
    dropdb --if-exists "$db" 2>/dev/null; createdb "$db"
    psql -X -q -d "$db" -c "CREATE EXTENSION pg_migrate" >/dev/null
    psql -X -q -d postgres -c CHECKPOINT
    local t0; t0=$(now_ms)
    "$@" >/dev/null 2>"$work/$label.err" || { cat "$work/$label.err" >&2; exit 1; }
    times[$label]="${times[$label]:-} $(( $(now_ms) - t0 ))"
    local n
    n=$(psql -X -qAt -d "$db" -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'bench_%' AND relkind = 'r'")
    [ "$n" = $(( N - N / 10 )) ] || { echo "$label made $n tables" >&2; exit 1; }
}
for r in $(seq 1 "$ROUNDS"); do
    sides=(psql dbmate flyway)
    [ $(( r % 2 )) = 0 ] && sides=(flyway dbmate psql)
    for s in "${sides[@]}"; do
        case $s in
        psql) run psql b_psql psql -X -q -v ON_ERROR_STOP=1 -d b_psql -f "$work/psql.driver" ;;
        dbmate) run dbmate b_dbmate "$pgmig" --db dbname=b_dbmate --dir "$work/dbmate" up --no-preflight ;;
        flyway) run flyway b_flyway "$pgmig" --db dbname=b_flyway --dir "$work/flyway" up --no-preflight ;;
        esac
    done
done
med() { printf '%s\n' ${times[$1]} | median; }
p=$(med psql); d=$(med dbmate); f=$(med flyway)
echo "$N migrations, $ROUNDS rounds (medians): psql one transaction each ${p} ms"
echo "  pgmig up, dbmate layout ${d} ms: ratio $(awk -v a="$d" -v b="$p" 'BEGIN {printf "%.2f", a / b}')"
echo "  pgmig up, Flyway layout ${f} ms: ratio $(awk -v a="$f" -v b="$p" 'BEGIN {printf "%.2f", a / b}')"
