#!/usr/bin/env bash
# pgmig new follows the folder: its layout (every layout of test/data/layouts/) and its
# numbering (timestamps, sequential numbers, Unix seconds), always after the newest version;
# the files it writes are read back as that layout's next pending migration, and they apply
# and revert. It writes every file or none.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
db=pgm_new_layouts
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
export PGDATABASE=$db
work=$(mktemp -d)
cd "$work"
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
last() { "$pgmig" --dir "$1" status --json | python3 -c "
import json,sys
d = json.load(sys.stdin); m = d['migrations'][-1]
print(d['layout'], len(d['migrations']), m['version'], m['name'], m['state'], len(d['problems']))"; }
"$pgmig" init >/dev/null 2>&1

echo "== every layout of the corpus"
for l in pgmig golang-migrate dbmate flyway sqlx sqlx-simple diesel pop; do
    src="$here/../data/layouts/$l"
    [ "$l" = pgmig ] && { mkdir -p pgmig; src=""; }
    [ -n "$src" ] && cp -r "$src" "$l"
    before=$("$pgmig" --dir "$l" status --json | field "['layout']")
    count=$("$pgmig" --dir "$l" status --json | field "['migrations'].__len__()")
    out=$("$pgmig" --dir "$l" new add_thing --json)
    version=$(echo "$out" | field "['version']")
    check_eq "$l: new writes in the folder's layout" "$before" "$(echo "$out" | field "['layout']")"
    read -r layout n v name state problems <<<"$(last "$l")"
    check_eq "$l: read back as the newest pending migration, no problems" \
        "$before $((count + 1)) add_thing pending 0" "$layout $n $name $state $problems"
    for f in $(echo "$out" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["files"]))'); do
        [ -f "$f" ] || echo "missing $f"
    done
done
check_eq "dbmate: one file with both sections" "-- migrate:up,-- migrate:down" \
    "$(grep -h '^-- migrate:' dbmate/*_add_thing.sql | paste -sd,)"
check_eq "flyway: V and U files, the first part after the newest (V10 there)" "U11__add_thing.sql V11__add_thing.sql" \
    "$(cd flyway && ls ?11__add_thing.sql | sort | paste -sd' ')"
check_eq "sqlx with reversible files: .up.sql and .down.sql" 2 "$(ls sqlx/*_add_thing.*.sql | wc -l)"
check_eq "sqlx with simple files: one .sql" 1 "$(ls sqlx-simple/*_add_thing*.sql | wc -l)"
check_eq "diesel: a dated folder with up.sql and down.sql" "down.sql up.sql" \
    "$(ls diesel/????-??-??-??????_add_thing | paste -sd' ')"
check_eq "pop: the .postgres mark of its dialect files" 2 "$(ls pop/*_add_thing.postgres.*.sql | wc -l)"
check_eq "golang-migrate's sequential 000009: the next is 000010" "000010_add_thing.down.sql 000010_add_thing.up.sql" \
    "$(cd golang-migrate && ls *_add_thing.* | paste -sd' ')"
check_eq "--verify outside pgmig's layout is a usage error (exit 2)" 2 "$(code "$pgmig" --dir dbmate new other --verify)"
check_contains "saying the layout has no verify scripts" "this folder is in dbmate's layout, which has none" \
    "$("$pgmig" --dir dbmate new other --verify 2>&1 || true)"

echo "== numbering"
mkdir seq plain unix future
printf 'SELECT 1;\n' >seq/0001_a.up.sql
printf 'SELECT 1;\n' >seq/0002_b.up.sql
check_eq "a padded sequential folder: 0003" "0003 sequential" \
    "$("$pgmig" --dir seq new c --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["version"], d["scheme"])')"
printf 'SELECT 1;\n' >plain/1_a.up.sql
printf 'SELECT 1;\n' >plain/9_b.up.sql
check_eq "an unpadded one: 10" "10" "$("$pgmig" --dir plain new c --json | field "['version']")"
printf 'SELECT 1;\n' >unix/1700000000_a.up.sql
v=$("$pgmig" --dir unix new b --json | field "['version']")
check_eq "a folder of Unix seconds: now, in seconds" "yes" "$([ "${#v}" = 10 ] && [ "$v" -ge "$(($(date +%s) - 5))" ] && echo yes || echo "no: $v")"
printf 'SELECT 1;\n' >future/29991231235959_a.up.sql
check_eq "a newest version ahead of the clock: one after it" "29991231235960" \
    "$("$pgmig" --dir future new b --json | field "['version']")"
mkdir empty
v=$("$pgmig" --dir empty new first --json | field "['version']")
check_eq "an empty folder: a UTC timestamp" "$(date -u +%Y%m%d)" "${v:0:8}"

echo "== every file or none"
mkdir clash
printf 'SELECT 1;\n' >clash/29991231235959_a.up.sql
mkdir clash/29991231235960_z.down.sql  # in the way of the down file the next version needs
set +e
out=$("$pgmig" --dir clash --format pgmig new z 2>&1)
rc=$?
set -e
check_eq "a file in the way is refused (exit 1)" 1 "$rc"
check_contains "naming it" "29991231235960_z.down.sql already exists" "$out"
check_eq "and the .up.sql was not written either" "" "$(ls clash/29991231235960_z.up.sql 2>/dev/null)"

echo "== what new writes applies and reverts, in every layout"
for l in dbmate flyway sqlx-simple diesel pop; do
    dropdb --if-exists "${db}_$l" 2>/dev/null
    createdb "${db}_$l"
    check_eq "$l: up applies the folder and the new, comment-only migration" 0 \
        "$(code "$pgmig" --db "dbname=${db}_$l" --dir "$l" up)"
    if [ "$l" = sqlx-simple ]; then # sqlx's one-file migrations cannot be reverted
        check_eq "$l: down refuses the new one, which has no down script (exit 1)" 1 \
            "$(code "$pgmig" --db "dbname=${db}_$l" --dir "$l" down --steps 1)"
    else
        check_eq "$l: down reverts the new one" 0 "$(code "$pgmig" --db "dbname=${db}_$l" --dir "$l" down --steps 1)"
    fi
    dropdb "${db}_$l"
done
cd /
rm -rf "$work"
dropdb "$db"
finish_checks
