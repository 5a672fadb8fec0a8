#!/usr/bin/env bash
# Benchmarks for the executor (`make bench`). Each ratio compares two runs of the same SQL in
# this one script, on one throwaway cluster, so machine speed cancels out:
#   1. 1,000 migrations (CREATE TABLE with a bigserial PK and an index, INSERT 10 rows):
#      migrate_execute() vs psql -1 -f of the same SQL concatenated (target <= 1.10)
#   2. 10,000 trivial migrations (CREATE TABLE / COMMENT ON): same comparison (target <= 1.5)
#   3. migrate_status() with 10,000 applied migrations (target < 100 ms)
#   4. snapshot_create of a 1M-row, ~300 MB user_profiles vs CREATE TABLE AS SELECT * of the
#      same table, checksum included (target <= 1.15)
#   5. CALL migrate_backfill over 1M rows, batch 5,000, vs one UPDATE of all rows of an
#      identical table (target: >= 50% of its throughput, >= 100k rows/s, max batch <= 200 ms)
# Each comparison runs ROUNDS times (default 3) on fresh databases; the medians are reported.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_start bench shared_buffers=256MB
echo "PostgreSQL 15 on port $PGPORT; $ROUNDS rounds"


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

# compare_round NAME ROUND: prints "psql_ms execute_ms register_ms" for one round on fresh
# databases. Which side runs first alternates by round: creating thousands of tables is
# mostly file creation in the kernel, whose cost depends on what the previous run left in
# the filesystem, so a fixed order would favour one side.
compare_round() {
    local name=$1 round=$2 psql_ms pgm_ms registered
    dropdb --if-exists bench_psql 2>/dev/null; createdb bench_psql
    dropdb --if-exists bench_pgm 2>/dev/null; createdb bench_pgm
    psql -X -q -d bench_pgm -c "CREATE EXTENSION pg_migrate" >/dev/null
    local t1
    t1=$(now_ms)
    psql -X -q -1 -v ON_ERROR_STOP=1 -d bench_pgm -f "$work/$name.register.sql" >/dev/null
    registered=$(( $(now_ms) - t1 ))
    run_psql() {
        psql -X -q -d postgres -c CHECKPOINT
        local t0
        t0=$(now_ms)
        psql -X -q -1 -v ON_ERROR_STOP=1 -d bench_psql -f "$work/$name.sql" >/dev/null
        psql_ms=$(( $(now_ms) - t0 ))
    }
    run_pgm() {
        psql -X -q -d postgres -c CHECKPOINT
        local t0 applied
        t0=$(now_ms)
        applied=$(psql -X -qtA -v ON_ERROR_STOP=1 -d bench_pgm -c "SELECT count(*) FILTER (WHERE status = 'applied') FROM migrate_execute()")
        pgm_ms=$(( $(now_ms) - t0 ))
        [ "$applied" = "$(wc -l <"$work/$name.sql")" ] || { echo "only $applied migrations applied" >&2; exit 1; }
    }
    if [ $(( round % 2 )) = 1 ]; then run_psql; run_pgm; else run_pgm; run_psql; fi
    echo "$psql_ms $pgm_ms $registered"
}

results=()
run_set() {
    local name=$1 count=$2 kind=$3 target=$4
    gen_set "$name" "$count" "$kind"
    local rounds=()
    for r in $(seq 1 "$ROUNDS"); do rounds+=("$(compare_round "$name" "$r")"); done
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

# snapshot_create vs CREATE TABLE AS on a 1M-row user_profiles (~300 MB), alternating order.
dropdb --if-exists bench_snap 2>/dev/null; createdb bench_snap
psql -X -q -v ON_ERROR_STOP=1 -d bench_snap >/dev/null <<'SQL'
CREATE EXTENSION pg_migrate;
CREATE TABLE user_profiles (
    id bigserial PRIMARY KEY, email text NOT NULL, role text NOT NULL, display_name text,
    bio text, created_at timestamptz NOT NULL, updated_at timestamptz, login_count int,
    preferences jsonb);
INSERT INTO user_profiles (email, role, display_name, bio, created_at, updated_at, login_count, preferences)
SELECT 'user' || g || '@example.com', (ARRAY['admin', 'editor', 'viewer', 'guest'])[1 + g % 4],
       'User Number ' || g, repeat(md5(g::text), 5), now() - g * interval '1 minute', now(), g % 1000,
       jsonb_build_object('theme', 'dark', 'lang', 'en', 'n', g)
  FROM generate_series(1, 1000000) g;
VACUUM ANALYZE user_profiles;
SQL
snap_size=$(psql -X -qtA -d bench_snap -c "SELECT pg_size_pretty(pg_table_size('user_profiles'))")
ctas=()
snap=()
for r in $(seq 1 "$ROUNDS"); do
    for what in ctas snap; do
        if [ $(( r % 2 )) = 0 ]; then what=$([ "$what" = ctas ] && echo snap || echo ctas); fi
        t0=$(now_ms)
        if [ "$what" = ctas ]; then
            psql -X -q -d bench_snap -c "CREATE TABLE ctas_copy AS SELECT * FROM user_profiles" >/dev/null
            t1=$(now_ms); ctas+=($((t1 - t0)))
            psql -X -q -d bench_snap -c "DROP TABLE ctas_copy" >/dev/null
        else
            psql -X -q -d bench_snap -c "SELECT snapshot_create('user_profiles')" >/dev/null
            t1=$(now_ms); snap+=($((t1 - t0)))
            psql -X -q -d bench_snap -c "SELECT snapshot_prune(keep_last => 0)" >/dev/null
        fi
        psql -X -q -d bench_snap -c "CHECKPOINT" >/dev/null
    done
done
ctas_ms=$(printf '%s\n' "${ctas[@]}" | median)
snap_ms=$(printf '%s\n' "${snap[@]}" | median)
snap_ratio=$(awk -v a="$snap_ms" -v b="$ctas_ms" 'BEGIN {printf "%.2f", a / b}')
echo "snapshot_create of 1M rows ($snap_size): CTAS ${ctas_ms} ms, snapshot_create ${snap_ms} ms, ratio $snap_ratio (target <= 1.15)"
verify_ms=$( (psql -X -qtA -d bench_snap -c "SELECT snapshot_create('user_profiles')" >/dev/null
    t0=$(now_ms); psql -X -qtA -d bench_snap -c "SELECT ok FROM snapshot_verify((SELECT max(id) FROM snapshot_list()))" >/dev/null
    echo $(( $(now_ms) - t0 ))) )

# migrate_backfill vs a single UPDATE, on two identical 1M-row tables.
psql -X -q -v ON_ERROR_STOP=1 -d bench_snap >/dev/null <<'SQL'
CREATE TABLE bf_single AS SELECT id, role, email, NULL::text AS role_v2 FROM user_profiles;
ALTER TABLE bf_single ADD PRIMARY KEY (id);
CREATE TABLE bf_batched AS SELECT * FROM bf_single;
ALTER TABLE bf_batched ADD PRIMARY KEY (id);
VACUUM ANALYZE bf_single;
VACUUM ANALYZE bf_batched;
CHECKPOINT;
SQL
t0=$(now_ms)
psql -X -q -d bench_snap -c "UPDATE bf_single SET role_v2 = upper(role)" >/dev/null
single_ms=$(( $(now_ms) - t0 ))
psql -X -q -d bench_snap -c CHECKPOINT
t0=$(now_ms)
psql -X -q -d bench_snap -c "CALL migrate_backfill('bf_batched', 'role_v2 = upper(role)', batch_size => 5000)" >/dev/null
batched_ms=$(( $(now_ms) - t0 ))
read -r bf_batches bf_max_ms <<<"$(psql -X -qtA -F ' ' -d bench_snap -c "SELECT batches, max_batch_ms FROM migrate_backfill_progress() ORDER BY id DESC LIMIT 1")"
bf_rate=$(awk -v ms="$batched_ms" 'BEGIN {printf "%d", 1000000 / (ms / 1000)}')
single_rate=$(awk -v ms="$single_ms" 'BEGIN {printf "%d", 1000000 / (ms / 1000)}')
bf_share=$(awk -v a="$bf_rate" -v b="$single_rate" 'BEGIN {printf "%d", 100 * a / b}')
echo "backfill of 1M rows: single UPDATE ${single_ms} ms, migrate_backfill ${batched_ms} ms ($bf_share% of its throughput), max batch $bf_max_ms ms"
dropdb bench_snap

cat <<MD

| workload | psql -1 -f | migrate_execute() | ratio | migrate_register (all) |
|---|---|---|---|---|
${results[0]}
${results[1]}

migrate_status() with 10,000 applied migrations: **${status_ms} ms** (median of 5; target < 100 ms)

| 1M-row user_profiles ($snap_size) | CREATE TABLE AS SELECT * | snapshot_create (copy + checksum) | ratio |
|---|---|---|---|
| median of $ROUNDS, alternating order | $ctas_ms ms | $snap_ms ms | **$snap_ratio** (target <= 1.15) |

snapshot_verify of the same snapshot (one checksum pass): $verify_ms ms

| 1M rows, batch 5,000 | single UPDATE | CALL migrate_backfill | throughput | max batch |
|---|---|---|---|---|
| $bf_batches batches | $single_ms ms ($single_rate rows/s) | $batched_ms ms ($bf_rate rows/s) | **$bf_share%** of the single UPDATE (target >= 50%) | **$bf_max_ms ms** (target <= 200) |
MD
dropdb bench_psql; dropdb bench_pgm
