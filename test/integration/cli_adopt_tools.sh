#!/usr/bin/env bash
# pgmig adopt --from sqlx | diesel | pop, on the layout corpus (test/data/layouts/): a
# database that the tool migrated half way switches to pgmig, nothing runs twice, and the
# schema after `pgmig up` is the one of a database pgmig migrated from scratch.
#
# None of the three tools is on npm or Debian, so their history tables are created here with
# the DDL each tool runs (sqlx-postgres migrate.rs, diesel_migrations' setup, pop's
# schema_migration), filled as the tool fills them after applying the first five migrations.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig="$here/../../build/pgmig"
layouts="$here/../data/layouts"
q() { psql -X -qtA -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
code() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }
statuses() { python3 -c 'import json,sys; print(",".join(r["status"] for r in json.load(sys.stdin)))'; }
schema_of() {
    pg_dump -s --no-owner --no-privileges -N pg_migrate -N pg_migrate_snapshots \
        -T _sqlx_migrations -T __diesel_schema_migrations -T schema_migration "$1" |
        grep -v -e '^--' -e '^$' -e 'EXTENSION' -e 'pg_migrate' -e '^\\restrict' -e '^\\unrestrict'
}

# The history table each tool creates, and its rows for the versions it applied.
history_ddl() {
    case $1 in
    sqlx) echo "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
            installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL,
            checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)" ;;
    diesel) echo "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL,
            run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)" ;;
    pop) echo "CREATE TABLE schema_migration (version VARCHAR(14) NOT NULL);
            CREATE UNIQUE INDEX schema_migration_version_idx ON schema_migration (version)" ;;
    esac
}
history_row() { # tool version name
    case $1 in
    sqlx) echo "INSERT INTO _sqlx_migrations VALUES ($2, '$3', now(), true, sha384('$3'), 1000)" ;;
    diesel | pop) echo "INSERT INTO $(default_table "$1") VALUES ('$2')" ;;
    esac
}
default_table() {
    case $1 in sqlx) echo _sqlx_migrations ;; diesel) echo __diesel_schema_migrations ;; pop) echo schema_migration ;; esac
}

for tool in sqlx diesel pop; do
    echo "== $tool"
    dir="$layouts/$tool"
    ref=pgm_adopt_${tool}_ref
    db=pgm_adopt_${tool}
    for d in "$ref" "$db"; do
        dropdb --if-exists "$d" 2>/dev/null
        createdb "$d"
    done
    "$pgmig" --db "dbname=$ref" --dir "$dir" up >/dev/null 2>&1
    versions=$("$pgmig" --db "dbname=$ref" --dir "$dir" status --json |
        python3 -c 'import json,sys; print(" ".join(m["version"] + ":" + m["name"] for m in json.load(sys.stdin)["migrations"]))')
    read -ra all <<<"$versions"
    fifth=${all[4]%%:*}

    # The tool applied the first five: the schema is there, pgmig's registry is not (the
    # extension is created again, empty), and the tool's history says so.
    "$pgmig" --db "dbname=$db" --dir "$dir" up --to "$fifth" >/dev/null 2>&1
    q "$db" "DROP EXTENSION pg_migrate CASCADE" >/dev/null 2>&1
    q "$db" "SET client_min_messages = warning; DROP SCHEMA IF EXISTS pg_migrate_snapshots CASCADE; CREATE EXTENSION pg_migrate" >/dev/null
    q "$db" "$(history_ddl "$tool")" >/dev/null
    for m in "${all[@]:0:5}"; do
        v=${m%%:*}
        [ "$tool" = sqlx ] && v=$((10#$v))
        q "$db" "$(history_row "$tool" "$v" "${m#*:}")" >/dev/null
    done

    check_eq "adopt --dry-run: five to baseline, the rest pending" \
        "would_baseline,would_baseline,would_baseline,would_baseline,would_baseline$(printf ',pending%.0s' "${all[@]:5}")" \
        "$("$pgmig" --db "dbname=$db" --dir "$dir" adopt --from "$tool" --dry-run --json | statuses)"
    check_eq "the dry run registered nothing" 0 "$(q "$db" "SELECT count(*) FROM pg_migrate.migration")"
    check_eq "adopt baselines the five from $(default_table "$tool") (the default table)" \
        "baselined,baselined,baselined,baselined,baselined$(printf ',pending%.0s' "${all[@]:5}")" \
        "$("$pgmig" --db "dbname=$db" --dir "$dir" adopt --from "$tool" --json | statuses)"
    check_eq "up applies the rest" 0 "$(code "$pgmig" --db "dbname=$db" --dir "$dir" up)"
    check_eq "nothing ran twice (one log row per version)" "${#all[@]}" \
        "$(q "$db" "SELECT count(*) FROM (SELECT version FROM pg_migrate.execution_log GROUP BY version HAVING count(*) = 1) s")"
    check_eq "the schema is the one of a database pgmig migrated from scratch" "" \
        "$(diff <(schema_of "$ref") <(schema_of "$db"))"
    check_eq "status --strict is clean" 0 "$(code "$pgmig" --db "dbname=$db" --dir "$dir" status --strict)"
    check_eq "every migration reverts" 0 "$(code "$pgmig" --db "dbname=$db" --dir "$dir" down --to 0)"
    dropdb "$ref"
    dropdb "$db"
done

echo "== histories that must not be adopted as they are"
db=pgm_adopt_tools_odd
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
"$pgmig" --db "dbname=$db" init >/dev/null
q "$db" "$(history_ddl sqlx)" >/dev/null
q "$db" "INSERT INTO _sqlx_migrations VALUES (20240101120000, 'create users', now(), true, '\\x00', 1),
                                            (20240101120500, 'create accounts', now(), false, '\\x00', 1)" >/dev/null
set +e
out=$("$pgmig" --db "dbname=$db" --dir "$layouts/sqlx" adopt --from sqlx 2>&1)
rc=$?
set -e
check_eq "a sqlx history with a failed migration is refused (exit 3)" 3 "$rc"
check_contains "naming the migration sqlx left partially applied" \
    "migration 20240101120500 is partially applied (success = false)" "$out"
check_eq "and nothing was registered" 0 "$(q "$db" "SELECT count(*) FROM pg_migrate.migration")"

q "$db" "$(history_ddl diesel)" >/dev/null
q "$db" "INSERT INTO __diesel_schema_migrations VALUES ('00000000000000'), ('20240101120000'), ('20231231000000')" >/dev/null
out=$("$pgmig" --db "dbname=$db" --dir "$layouts/diesel" adopt --from diesel --dry-run 2>&1)
check_contains "a version Diesel applied with no folder here is shown" "20231231000000" "$out"
check_contains "as missing-file" "missing-file" "$out"

q "$db" "CREATE SCHEMA legacy; CREATE TABLE legacy.schema_migration (version VARCHAR(14) NOT NULL);
         INSERT INTO legacy.schema_migration VALUES ('20240101120000'), ('not-a-version')" >/dev/null
out=$("$pgmig" --db "dbname=$db" --dir "$layouts/pop" adopt --from pop --table legacy.schema_migration --dry-run 2>&1)
check_contains "--table names another history table" "would_baseline" "$out"
check_contains "versions that are not digits are left out, and said" \
    "note: pop versions that are not digits only were left out: not-a-version" "$out"
check_eq "a missing history table is an error naming it" \
    "pgmig: error: history table schema_migration of pop does not exist in this database (use --table to name it)" \
    "$("$pgmig" --db "dbname=$db" --dir "$layouts/pop" adopt --from pop --dry-run 2>&1)"
dropdb "$db"
finish_checks
