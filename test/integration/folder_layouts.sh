#!/usr/bin/env bash
# Other tools' migration folders (test/data/layouts: dbmate, golang-migrate, Flyway, sqlx,
# Diesel, pop, with empty files, a BOM, CRLF, no final semicolon, comment-only downs,
# no-transaction steps and files of another dialect) run unchanged: pgmig finds the layout,
# `up` leaves the same schema (pg_dump -s) as psql applying the same scripts in the tool's
# order, `down --to 0` reverts everything, and `up` again gives the same schema once more.
# Needs a running cluster (PG* variables) and the built CLI.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$root/build/pgmig}
layouts="$root/test/data/layouts"
work=$(mktemp -d /tmp/pgm-layouts.XXXXXX)
dbs=()
cleanup() {
    for db in "${dbs[@]}"; do dropdb --if-exists "$db" >/dev/null 2>&1; done
    rm -rf "$work"
}
trap cleanup EXIT

fresh_db() {  # fresh_db NAME: an empty database with the extension
    dropdb --if-exists "$1" >/dev/null 2>&1
    createdb "$1" && psql -X -q -d "$1" -c "CREATE EXTENSION pg_migrate" >/dev/null
    dbs+=("$1")
}
schema() { pg_dump -s -n public "$1" | grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict' | sed '/^$/d'; }
relations() { psql -X -qAt -d "$1" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"; }

# layout FOLDER EXPECTED_LAYOUT HAS_DOWNS
check_layout() {
    local folder=$1 expected=$2 downs=$3
    local dir="$layouts/$folder" db_p="pgm_lay_${folder//-/_}" db_q="pgm_lay_${folder//-/_}_psql"
    echo "== $folder"
    fresh_db "$db_p" && fresh_db "$db_q" || return
    local found
    found=$("$pgmig" --db "dbname=$db_p" --dir "$dir" status --json 2>&1 |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["layout"])' 2>&1)
    check_eq "$folder: status finds the layout" "$expected" "$found"

    # The baseline: psql, each script in a transaction of its own unless it cannot be.
    python3 "$root/test/tools/layout_baseline.py" "$folder" "$dir" "$work/$folder" || return
    local f ok=0
    for f in "$work/$folder"/*.sql; do
        if [ -e "${f%.sql}.notx" ]; then
            psql -X -q -v ON_ERROR_STOP=1 -d "$db_q" -f "$f" >/dev/null 2>"$work/$folder.psql.err" || ok=1
        else
            psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db_q" -f "$f" >/dev/null 2>"$work/$folder.psql.err" || ok=1
        fi
        [ $ok = 0 ] || { echo "psql failed on $f:"; cat "$work/$folder.psql.err"; break; }
    done
    check_eq "$folder: psql applies the baseline" 0 "$ok"

    "$pgmig" --db "dbname=$db_p" --dir "$dir" up >"$work/$folder.up.log" 2>&1
    check_eq "$folder: pgmig up applies the folder" 0 "$?"
    [ -s "$work/$folder.up.log" ] && grep -i "error" "$work/$folder.up.log" | head -5
    schema "$db_q" >"$work/$folder.psql.schema"
    schema "$db_p" >"$work/$folder.pgmig.schema"
    check_eq "$folder: the schema is the one psql made (pg_dump -s)" "" \
        "$(diff "$work/$folder.psql.schema" "$work/$folder.pgmig.schema" | head -20)"
    check_eq "$folder: the rows too" "3 3 3" \
        "$(psql -X -qAt -d "$db_p" -c "SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM accounts) || ' ' || (SELECT count(*) FROM orders)")"
    check_eq "$folder: a second up has nothing to do" "nothing to apply" \
        "$("$pgmig" --db "dbname=$db_p" --dir "$dir" up 2>&1)"
    check_eq "$folder: status --strict agrees" 0 \
        "$("$pgmig" --db "dbname=$db_p" --dir "$dir" status --strict >/dev/null 2>&1; echo $?)"
    if [ "$downs" = yes ]; then
        "$pgmig" --db "dbname=$db_p" --dir "$dir" down --to 0 >"$work/$folder.down.log" 2>&1
        check_eq "$folder: down --to 0 reverts every migration" 0 "$?"
        check_eq "$folder: ... leaving no table, view, index or sequence in public" 0 "$(relations "$db_p")"
        "$pgmig" --db "dbname=$db_p" --dir "$dir" up >/dev/null 2>&1
        check_eq "$folder: up again" 0 "$?"
        check_eq "$folder: ... gives the same schema again" "" \
            "$(schema "$db_p" | diff "$work/$folder.pgmig.schema" - | head -20)"
    else
        "$pgmig" --db "dbname=$db_p" --dir "$dir" down --to 0 >"$work/$folder.down.log" 2>&1
        check_eq "$folder: down --to 0 is refused (a migration has no down script)" 1 "$?"
        check_contains "$folder: ... saying so" "no down script" "$(cat "$work/$folder.down.log")"
        check_eq "$folder: ... and changes nothing" "" \
            "$(schema "$db_p" | diff "$work/$folder.pgmig.schema" - | head -5)"
    fi
}

check_layout dbmate dbmate yes
check_layout golang-migrate pgmig yes
check_layout sqlx sqlx yes
check_layout sqlx-simple sqlx no
check_layout diesel diesel yes
check_layout pop pop yes
check_layout flyway flyway no  # V10.1 has no undo file: Flyway itself stops there too

echo "== what each layout's marks mean"
db=pgm_lay_pop
check_eq "pop: the .mysql files are ignored, and status says so" 2 \
    "$("$pgmig" --db "dbname=$db" --dir "$layouts/pop" status | grep -c '^ignored: .*mysql.*(for another database)')"
db=pgm_lay_dbmate
check_eq "dbmate: transaction:false makes the index migration run outside a transaction" t \
    "$(psql -X -qAt -d "$db" -c "SELECT requires_no_transaction FROM pg_migrate.migration WHERE name = 'add_orders_account_index'")"
check_eq "dbmate: ... and its down too" t \
    "$(psql -X -qAt -d "$db" -c "SELECT down_requires_no_transaction FROM pg_migrate.migration WHERE name = 'add_orders_account_index'")"
check_eq "dbmate: the registered up is the up section only" f \
    "$(psql -X -qAt -d "$db" -c "SELECT up_sql LIKE '%migrate:down%' FROM pg_migrate.migration WHERE name = 'create_users'")"
db=pgm_lay_diesel
check_eq "diesel: run_in_transaction = false is read from metadata.toml" t \
    "$(psql -X -qAt -d "$db" -c "SELECT requires_no_transaction FROM pg_migrate.migration WHERE name = 'add_orders_account_index'")"
check_eq "diesel: versions are the folders' timestamps" 20240101120000 \
    "$(psql -X -qAt -d "$db" -c "SELECT version FROM pg_migrate.migration WHERE name = 'create_users'")"
db=pgm_lay_flyway
check_eq "flyway: versions in Flyway's order (1, 1.1, 2.1, 2.2, 10, 10.1)" \
    "init add_accounts orders orders_account_index seed_demo_data normalize_user_emails" \
    "$(psql -X -qAt -d "$db" -c "SELECT string_agg(name, ' ' ORDER BY version_order) FROM pg_migrate.migration")"
check_eq "flyway: the repeatable scripts ran once each" "repeatable/R__functions.sql:1 repeatable/R__views.sql:1" \
    "$(psql -X -qAt -d "$db" -c "SELECT string_agg(file || ':' || runs, ' ' ORDER BY file) FROM pg_migrate.seed")"
cp -r "$layouts/flyway" "$work/flyway-edit"
printf '\n-- a comment: the text changed\n' >>"$work/flyway-edit/R__views.sql"
check_contains "flyway: a changed repeatable runs again on the next up" "R__views.sql  applied" \
    "$("$pgmig" --db "dbname=$db" --dir "$work/flyway-edit" up 2>&1)"
check_eq "flyway: --to takes Flyway's spelling of a version" 0 \
    "$("$pgmig" --db "dbname=$db" --dir "$layouts/flyway" up --to 2.2 >/dev/null 2>&1; echo $?)"

echo "== a folder whose layout cannot be told, and --format"
mkdir -p "$work/mixed"
cp "$layouts/flyway/V1__init.sql" "$layouts/golang-migrate/000001_create_users.up.sql" "$work/mixed/"
out=$("$pgmig" --db "dbname=pgm_lay_dbmate" --dir "$work/mixed" status 2>&1)
check_eq "a folder of Flyway and golang-migrate files: status fails" 1 "$?"
check_contains "... naming both and --format" "name it with --format" "$out"
check_contains "... and the files that said each" "V1__init.sql" "$out"
out=$("$pgmig" --db "dbname=pgm_lay_dbmate" --dir "$work/mixed" --format flyway status 2>&1)
check_contains "--format flyway reads it as Flyway's, the other file a problem" \
    "problem: 000001_create_users.up.sql: expected V<version>__<description>.sql" "$out"
out=$("$pgmig" --dir "$work/mixed" --format liquibase status 2>&1)
check_contains "an unknown --format names the known ones" \
    "unknown --format liquibase; the layouts pgmig reads are pgmig, golang-migrate, dbmate, flyway, sqlx, diesel, pop" "$out"

echo "== what the review found (issue 9/10 review of the layouts)"
db=pgm_lay_review
fresh_db "$db"
st() { "$pgmig" --db "dbname=$db" --dir "$1" "${@:2}" status 2>&1; }
# A dbmate folder whose files start with a BOM, or write --migrate:up without a space, is still
# dbmate's: the down section must never run as part of up.
mkdir -p "$work/r_bom"
printf '\xef\xbb\xbf-- migrate:up\nCREATE TABLE public.bom_t (i int);\n-- migrate:down\nDROP TABLE public.bom_t;\n' >"$work/r_bom/1_bom.sql"
printf -- '--migrate:up\nCREATE TABLE public.nospace_t (i int);\n--migrate:down\nDROP TABLE public.nospace_t;\n' >"$work/r_bom/2_nospace.sql"
check_contains "dbmate files with a BOM or --migrate:up are dbmate's" "layout: dbmate" "$(st "$work/r_bom")"
"$pgmig" --db "dbname=$db" --dir "$work/r_bom" up >/dev/null 2>&1
check_eq "... and up runs only the up sections" "bom_t nospace_t" \
    "$(psql -X -qAt -d "$db" -c "SELECT to_regclass('public.bom_t') || ' ' || to_regclass('public.nospace_t')")"
# dbmate's section rules: SQL before -- migrate:up, a down before the up, -- migrate:downtime.
mkdir -p "$work/r_sections"
printf 'CREATE TABLE public.lost (i int);\n-- migrate:up\nSELECT 1;\n' >"$work/r_sections/1_before.sql"
printf -- '-- migrate:down\nSELECT 1;\n-- migrate:up\nSELECT 2;\n' >"$work/r_sections/2_order.sql"
printf -- '-- migrate:up\n-- migrate:downtime is planned\nCREATE TABLE public.kept (i int);\n' >"$work/r_sections/3_downtime.sql"
out=$(st "$work/r_sections" --format dbmate)
check_contains "SQL before -- migrate:up is a problem" "1_before.sql: has SQL before its -- migrate:up line" "$out"
check_contains "a down section before the up is a problem" "2_order.sql: has its -- migrate:down section before" "$out"
check_eq "-- migrate:downtime is a comment, not the down marker" 0 "$(grep -c 3_downtime <<<"$out")"
# Versions that are one after mapping: two files of one version are a problem, not one dropped.
mkdir -p "$work/r_dup"
printf 'SELECT 1;\n' >"$work/r_dup/V1.1__a.sql"
printf 'SELECT 2;\n' >"$work/r_dup/V1.01__a.sql"
check_contains "Flyway V1.1 and V1.01 are one version: a problem" "is a second up script of version" "$(st "$work/r_dup")"
# A Diesel migration folder that is a link out of the migrations folder is not read.
mkdir -p "$work/r_diesel" "$work/secret"
printf "SELECT 'TOPSECRET';\n" >"$work/secret/up.sql"
mkdir -p "$work/r_diesel/2024-01-01-000000_ok"
printf 'SELECT 1;\n' >"$work/r_diesel/2024-01-01-000000_ok/up.sql"
ln -s "$work/secret" "$work/r_diesel/2024-01-02-000000_evil"
out=$(st "$work/r_diesel")
check_contains "a Diesel folder linked out of the migrations folder is a problem" "2024-01-02-000000_evil: is a symbolic link to a folder outside" "$out"
check_eq "... and its file is never sent" 0 "$(psql -X -qAt -d "$db" -c "SELECT count(*) FROM pg_migrate.migration WHERE up_sql LIKE '%TOPSECRET%'")"
# One pgmig file with a dot in its name does not turn the folder into pop's.
mkdir -p "$work/r_pgmig"
printf 'SELECT 1;\n' >"$work/r_pgmig/1_a.up.sql"
printf 'SELECT 2;\n' >"$work/r_pgmig/2_add.index.up.sql"
check_contains "a dotted pgmig name keeps the folder pgmig's" "layout: pgmig" "$(st "$work/r_pgmig")"
# adopt --from flyway with Flyway's own folder: its dotted history versions are the folder's.
db2=pgm_lay_adopt
fresh_db "$db2"
psql -X -q -d "$db2" -c "CREATE TABLE public.acct (i int);
    CREATE TABLE flyway_schema_history (installed_rank int, version text, description text, success boolean);
    INSERT INTO flyway_schema_history VALUES (1, '1', 'seed', true), (2, '1.1', 'seed2', true)" >/dev/null
mkdir -p "$work/r_adopt"
printf 'INSERT INTO public.acct VALUES (1);\n' >"$work/r_adopt/V1__seed.sql"
printf 'INSERT INTO public.acct VALUES (2);\n' >"$work/r_adopt/V1.1__seed2.sql"
printf 'INSERT INTO public.acct VALUES (3);\n' >"$work/r_adopt/V2__three.sql"
psql -X -q -d "$db2" -c "INSERT INTO public.acct VALUES (1), (2)" >/dev/null
"$pgmig" --db "dbname=$db2" --dir "$work/r_adopt" adopt --from flyway >/dev/null 2>&1
"$pgmig" --db "dbname=$db2" --dir "$work/r_adopt" up >/dev/null 2>&1
check_eq "adopt --from flyway on Flyway's folder: up runs only what Flyway had not" "1,2,3" \
    "$(psql -X -qAt -d "$db2" -c "SELECT string_agg(i::text, ',' ORDER BY i) FROM public.acct")"
out=$("$pgmig" --dir "$work/r_adopt" --format liquibase status 2>&1)
check_eq "an unknown --format is a usage error (exit 2)" 2 "$("$pgmig" --dir "$work/r_adopt" --format liquibase status >/dev/null 2>&1; echo $?)"
# A SET search_path in a migration outside a transaction holds for its later statements.
psql -X -q -d "$db" -c "CREATE SCHEMA app; CREATE SCHEMA other" >/dev/null
mkdir -p "$work/r_path"
printf -- '-- pgmig:no-transaction\nSET search_path = other;\nCREATE TABLE nt_t (i int);\n' >"$work/r_path/9_nt.up.sql"
PGOPTIONS='-c search_path=app' "$pgmig" --db "dbname=$db" --dir "$work/r_path" up >/dev/null 2>&1
check_eq "SET search_path holds for the next statement of a no-transaction migration" other \
    "$(psql -X -qAt -d "$db" -c "SELECT relnamespace::regnamespace FROM pg_class WHERE relname = 'nt_t'")"
finish_checks
