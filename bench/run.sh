#!/usr/bin/env bash
# Benchmarks for the executor (`make bench`). Each ratio compares two runs of the same SQL in
# this one script, on one throwaway cluster, so machine speed cancels out:
#   1. 1,000 migrations (CREATE TABLE with a bigserial PK and an index, INSERT 10 rows):
#      migrate_execute() vs psql -1 -f of the same SQL concatenated (target <= 1.10)
#   2. 10,000 trivial migrations (CREATE TABLE / COMMENT ON): same comparison (target <= 1.5)
#   3. migrate_status() with 10,000 applied migrations (target < 100 ms)
# Each comparison runs ROUNDS times (default 3) on fresh databases; the medians are reported.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source test/lib/deps.sh
source test/lib/cluster.sh
ROUNDS=${ROUNDS:-3}

install_dependencies
make -j2 >/dev/null
make install >/dev/null
work=$(mktemp -d /tmp/pgmig-bench.XXXXXX)
chmod 755 "$work"
trap 'stop_cluster; rm -rf "$work"' EXIT
start_cluster "$work/cluster" shared_buffers=256MB
echo "PostgreSQL 15 on port $PGPORT; $ROUNDS rounds"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# gen_set NAME COUNT KIND: writes $work/NAME.sql (all up scripts concatenated) and
# $work/NAME.register.sql (the same scripts as migrate_register calls).
gen_set() {
    local name=$1 count=$2 kind=$3
    psql -X -qtA -d postgres -v count="$count" -v kind="$kind" >"$work/$name.bodies" <<'SQL'
SELECT CASE WHEN :'kind' = 'table' THEN
         format('CREATE TABLE bench_%1$s (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now()); '
                'CREATE INDEX bench_%1$s_name_idx ON bench_%1$s (name); '
                'INSERT INTO bench_%1$s (name) SELECT ''row '' || g FROM generate_series(1, 10) g;', i)
       WHEN i % 2 = 1 THEN format('CREATE TABLE triv_%s (i int);', i)
       ELSE format('COMMENT ON TABLE triv_%s IS ''migration %s'';', i - 1, i)
       END
  FROM generate_series(1, :count) i;
SQL
    cp "$work/$name.bodies" "$work/$name.sql"
    awk -v name="$name" '{ printf "SELECT migrate_register(%s, %s, $body$%s$body$);\n", "'\''" sprintf("%06d", NR) "'\''", "'\''" name "_" NR "'\''", $0 }' \
        "$work/$name.bodies" >"$work/$name.register.sql"
}

# compare NAME: prints "psql_ms execute_ms register_ms" for one round on fresh databases.
compare_round() {
    local name=$1 t0 t1 t2 t3 t4
    dropdb --if-exists bench_psql 2>/dev/null; createdb bench_psql
    dropdb --if-exists bench_pgm 2>/dev/null; createdb bench_pgm
    psql -X -q -d bench_pgm -c "CREATE EXTENSION pg_migrate" >/dev/null
    t0=$(now_ms)
    psql -X -q -1 -v ON_ERROR_STOP=1 -d bench_psql -f "$work/$name.sql" >/dev/null
    t1=$(now_ms)
    psql -X -q -1 -v ON_ERROR_STOP=1 -d bench_pgm -f "$work/$name.register.sql" >/dev/null
    t2=$(now_ms)
    local applied
    applied=$(psql -X -qtA -v ON_ERROR_STOP=1 -d bench_pgm -c "SELECT count(*) FILTER (WHERE status = 'applied') FROM migrate_execute()")
    t3=$(now_ms)
    [ "$applied" = "$(wc -l <"$work/$name.sql")" ] || { echo "only $applied migrations applied" >&2; exit 1; }
    echo "$((t1 - t0)) $((t3 - t2)) $((t2 - t1))"
}

results=()
run_set() {
    local name=$1 count=$2 kind=$3 target=$4
    gen_set "$name" "$count" "$kind"
    local rounds=()
    for r in $(seq 1 "$ROUNDS"); do rounds+=("$(compare_round "$name")"); done
    local p e g
    p=$(printf '%s\n' "${rounds[@]}" | awk '{print $1}' | median)
    e=$(printf '%s\n' "${rounds[@]}" | awk '{print $2}' | median)
    g=$(printf '%s\n' "${rounds[@]}" | awk '{print $3}' | median)
    local ratio
    ratio=$(awk -v e="$e" -v p="$p" 'BEGIN {printf "%.2f", e / p}')
    results+=("| $count migrations ($kind) | $p ms | $e ms | **$ratio** (target <= $target) | $g ms |")
    echo "$name: psql -1 ${p} ms, migrate_execute ${e} ms, ratio $ratio (target <= $target); registration ${g} ms"
}

run_set thousand 1000 table 1.10
run_set trivial 10000 trivial 1.5

# migrate_status() with 10,000 applied migrations: the bench_pgm database of the last round.
status_ms=$(for i in 1 2 3 4 5; do
    psql -X -qtA -d bench_pgm -c '\timing on' -c 'SELECT count(*) FROM migrate_status()' |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
done | median)
echo "migrate_status() with 10000 applied: ${status_ms} ms (target < 100 ms)"

cat <<MD

| workload | psql -1 -f | migrate_execute() | ratio | migrate_register (all) |
|---|---|---|---|---|
${results[0]}
${results[1]}

migrate_status() with 10,000 applied migrations: **${status_ms} ms** (median of 5; target < 100 ms)
MD
dropdb bench_psql; dropdb bench_pgm
