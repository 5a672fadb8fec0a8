#!/usr/bin/env bash
# Backup benchmarks (part of `make bench`), on a throwaway cluster, in one run:
#   1. `pgmig backup create` (zstd + AES-256-GCM + SHA-256, local folder) of a generated 1M-row
#      user_profiles (~300 MB heap, mixed realistic data) against
#      a. COPY ... TO STDOUT (FORMAT binary) into a client that discards it (target <= 1.25x)
#      b. pg_dump -Fc (target: pgmig >= 3.5x faster, archive no more than 10% larger)
#   2. restore: pgmig backup restore against COPY FROM (binary file) and pg_restore
#   3. -j 2 against -j 1 on four tables
#   4. peak RSS of pgmig backup create at 1M and 4M rows (must not grow; target < 64 MiB)
# Every ratio is the median of $ROUNDS rounds measured in this run, the order alternating.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_start backupbench shared_buffers=512MB max_wal_size=4GB checkpoint_timeout=30min
pgmig="$root/build/pgmig"
head -c 32 /dev/urandom >"$work/key"
export PGMIG_NO_PROGRESS=1

generate() {  # generate TABLE ROWS: realistic mixed rows (names, emails, prose, jsonb, arrays)
    psql -X -q <<SQL
CREATE TABLE $1 (
    id bigint PRIMARY KEY, email text NOT NULL, full_name text NOT NULL, country char(2),
    bio text, created_at timestamptz NOT NULL, last_login timestamptz, score numeric(10, 2),
    preferences jsonb, tags text[], api_key uuid);
INSERT INTO $1
SELECT g,
       lower(f) || '.' || lower(l) || g || '@' || (ARRAY['example.com','mail.test','corp.example'])[1 + g % 3],
       f || ' ' || l,
       (ARRAY['PT','NO','KE','JP','PE','US','FR','IN','DE','BR'])[1 + g % 10],
       CASE WHEN g % 4 = 0 THEN NULL ELSE
         (SELECT string_agg(w, ' ') FROM (SELECT (ARRAY['migrations','backup','table','index','query',
            'safe','fast','schema','replica','vacuum','lock','row','page','column','tuple','commit'])
            [1 + floor(random() * 16)::int] AS w FROM generate_series(1, 8 + (g % 25))) s) END,
       '2020-01-01'::timestamptz + (random() * interval '2000 days'),
       CASE WHEN g % 3 = 0 THEN NULL ELSE now() - random() * interval '90 days' END,
       round((random() * 10000)::numeric, 2),
       jsonb_build_object('theme', (ARRAY['dark','light'])[1 + g % 2], 'lang', (ARRAY['en','pt','ja','fr'])[1 + g % 4],
                          'notifications', g % 5 <> 0, 'beta', jsonb_build_array(g % 7, g % 11)),
       ARRAY[(ARRAY['admin','editor','viewer','billing'])[1 + g % 4], 'team' || (g % 50)],
       gen_random_uuid()
  FROM generate_series(1, $2) g,
       LATERAL (SELECT (ARRAY['Ada','Alan','Grace','Linus','Margaret','Ken','Barbara','Edsger'])[1 + g % 8] AS f,
                       (ARRAY['Lovelace','Turing','Hopper','Torvalds','Hamilton','Thompson','Liskov'])[1 + g % 7] AS l) n;
VACUUM ANALYZE $1;
SQL
}

ms() { local t0; t0=$(now_ms); "$@" >/dev/null; echo $(( $(now_ms) - t0 )); }
peak_rss_kib() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }

echo "== generating 1M-row user_profiles"
generate user_profiles 1000000
heap=$(psql -X -qtA -c "SELECT pg_size_pretty(pg_relation_size('user_profiles'))")
echo "heap: $heap"

copy_t=(); pgmig_t=(); dump_t=()
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$work/store" "$work/dump.fc"
    a() { copy_t+=($(ms psql -X -q -c "COPY user_profiles TO STDOUT (FORMAT binary)")); }
    b() { pgmig_t+=($(ms "$pgmig" backup create --to "file://$work/store" --key-file "$work/key" --pg-table user_profiles)); }
    c() { dump_t+=($(ms pg_dump -Fc -t user_profiles -f "$work/dump.fc")); }
    if [ $((r % 2)) = 1 ]; then a; b; c; else c; b; a; fi
done
copy_ms=$(printf '%s\n' "${copy_t[@]}" | median)
pgmig_ms=$(printf '%s\n' "${pgmig_t[@]}" | median)
dump_ms=$(printf '%s\n' "${dump_t[@]}" | median)
backup_bytes=$(du -sb "$work/store" | cut -f1)
dump_bytes=$(stat -c %s "$work/dump.fc")
id=$(ls "$work/store" | head -1)

echo "== restore"
psql -X -q -c "COPY user_profiles TO STDOUT (FORMAT binary)" >"$work/raw.copy"
restore_t=(); copyin_t=(); pgrestore_t=()
for r in $(seq 1 "$ROUNDS"); do
    a() { psql -X -q -c "TRUNCATE user_profiles" -c CHECKPOINT
          copyin_t+=($(ms psql -X -q -c "\\copy user_profiles FROM '$work/raw.copy' (FORMAT binary)")); }
    b() { psql -X -q -c CHECKPOINT
          restore_t+=($(ms "$pgmig" backup restore "$id" --from "file://$work/store" --key-file "$work/key")); }
    c() { psql -X -q -c "TRUNCATE user_profiles" -c CHECKPOINT
          pgrestore_t+=($(ms pg_restore --data-only -d "$PGDATABASE" "$work/dump.fc")); }
    if [ $((r % 2)) = 1 ]; then a; b; c; else c; b; a; fi
done
copyin_ms=$(printf '%s\n' "${copyin_t[@]}" | median)
restore_ms=$(printf '%s\n' "${restore_t[@]}" | median)
pgrestore_ms=$(printf '%s\n' "${pgrestore_t[@]}" | median)
rm -f "$work/raw.copy"

echo "== -j 2 against -j 1 on four tables"
for i in 1 2 3 4; do psql -X -q -c "CREATE TABLE part_$i AS SELECT * FROM user_profiles WHERE id % 4 = $((i - 1))"; done
j1_t=(); j2_t=()
for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$work/jstore"
    a() { j1_t+=($(ms "$pgmig" backup create --to "file://$work/jstore" --key-file "$work/key" --pg-table part_1 --pg-table part_2 --pg-table part_3 --pg-table part_4 -j 1)); }
    b() { j2_t+=($(ms "$pgmig" backup create --to "file://$work/jstore" --key-file "$work/key" --pg-table part_1 --pg-table part_2 --pg-table part_3 --pg-table part_4 -j 2)); }
    if [ $((r % 2)) = 1 ]; then a; b; else b; a; fi
done
j1_ms=$(printf '%s\n' "${j1_t[@]}" | median)
j2_ms=$(printf '%s\n' "${j2_t[@]}" | median)
for i in 1 2 3 4; do psql -X -q -c "DROP TABLE part_$i"; done

echo "== peak RSS at 1M and 4M rows"
rss_1m=$(peak_rss_kib "$pgmig" backup create --to "file://$work/rss" --key-file "$work/key" --pg-table user_profiles)
psql -X -q -c "INSERT INTO user_profiles SELECT id + 1000000 * k, email, full_name, country, bio, created_at, last_login, score, preferences, tags, api_key FROM user_profiles, generate_series(1, 3) k"
rss_4m=$(peak_rss_kib "$pgmig" backup create --to "file://$work/rss" --key-file "$work/key" --pg-table user_profiles)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "| measurement | result |"
echo "|---|---|"
echo "| user_profiles heap (1M rows) | $heap |"
echo "| COPY TO STDOUT (binary), discarded | $copy_ms ms |"
echo "| pgmig backup create (zstd 3 + AES-256-GCM + SHA-256, local) | $pgmig_ms ms |"
echo "| pg_dump -Fc | $dump_ms ms |"
echo "| **pgmig / COPY** (target <= 1.25) | **$(ratio "$pgmig_ms" "$copy_ms")** |"
echo "| **pg_dump / pgmig** (target >= 3.5) | **$(ratio "$dump_ms" "$pgmig_ms")** |"
echo "| backup size / pg_dump size (target <= 1.10) | $(ratio "$backup_bytes" "$dump_bytes") ($backup_bytes / $dump_bytes bytes) |"
echo "| COPY FROM (binary file) | $copyin_ms ms |"
echo "| pgmig backup restore (TRUNCATE + COPY, verified) | $restore_ms ms |"
echo "| pg_restore --data-only | $pgrestore_ms ms |"
echo "| restore / COPY FROM | $(ratio "$restore_ms" "$copyin_ms") |"
echo "| pg_restore / pgmig restore | $(ratio "$pgrestore_ms" "$restore_ms") |"
echo "| four tables, -j 1 | $j1_ms ms |"
echo "| four tables, -j 2 | $j2_ms ms |"
echo "| -j 1 / -j 2 | $(ratio "$j1_ms" "$j2_ms") |"
echo "| peak RSS, 1M rows | $((rss_1m / 1024)) MiB |"
echo "| peak RSS, 4M rows | $((rss_4m / 1024)) MiB |"
