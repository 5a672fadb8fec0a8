#!/usr/bin/env bash
# An attacker who can create objects in a schema on the caller's search_path shadows every
# built-in function, aggregate and operator that pg_migrate's SQL uses; a superuser then
# calls every SQL entry point of the extension and every pgmig command that reaches SQL.
# No planted code may run.
#
# The list of names comes from the code (shadowing_names.py scans extension/sql/*.sql and
# the string literals of extension/src and cli/src), so a new call is covered without
# editing this test. shadowing_plants.sql creates, as the NOLOGIN role pgm_attacker in its
# schema app, an overload with the identical signature of every pg_catalog overload of those
# names, plus better-matching ones (text for regclass/name/oid/"char"/"any" arguments,
# operators pg_catalog reaches only through an implicit cast). A plant that runs increments
# app.hits and app.hit_<plant> (sequences: a rolled-back subtransaction keeps the count)
# and raises WARNING 'PLANTED <plant> ran as <role>'.
#
# Three passes, each on fresh copies of one template database:
#   control  search_path = public: the plants exist but are not on the path. Every call
#            must succeed here, so that the hostile passes test something.
#   a        search_path = public, app (pg_catalog implicitly first): only better matches win.
#   b        search_path = app, pg_catalog, public: every unqualified name resolves to app.
# In a and b every entry point must run no plant and end as it did in the control pass.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
root=$(cd "$here/../.." && pwd)
pgmig="$root/build/pgmig"
prefix=pgm_shadow
work=$(mktemp -d /tmp/pgm-shadow.XXXXXX)
chmod 755 "$work"

cleanup() {
    for db in "${prefix}_template" "${prefix}_control_sql" "${prefix}_control_cli" "${prefix}_a_sql" \
        "${prefix}_a_cli" "${prefix}_b_sql" "${prefix}_b_cli"; do
        dropdb --if-exists "$db" >/dev/null 2>&1
    done
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS pgm_attacker" -c "DROP ROLE IF EXISTS pgm_shadow_grantee" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
cleanup
mkdir -p "$work"

# clean DB SQL...: the test's own queries, with only pg_catalog on the path (no plant can run).
clean() {
    local db=$1
    shift
    local args=()
    for s in "$@"; do args+=(-c "$s"); done
    PGOPTIONS="-c search_path=pg_catalog" psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" "${args[@]}"
}

# ---------------------------------------------------------------------------------------
echo "== the names pg_migrate's SQL uses, from the code"
names=$(python3 "$here/shadowing_names.py" "$root") || { echo "shadowing_names.py failed"; exit 1; }

tmpl=${prefix}_template
createdb "$tmpl" || exit 1
psql -X -q -d postgres -c "CREATE ROLE pgm_attacker NOLOGIN" -c "CREATE ROLE pgm_shadow_grantee NOLOGIN" >/dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$tmpl" >"$work/fixture.log" 2>&1 <<'SQL' || { cat "$work/fixture.log"; exit 1; }
CREATE EXTENSION pg_migrate;
-- The user's tables, created before the plants (as they would exist before an attack).
CREATE TYPE public.account_status AS ENUM ('active', 'closed');
CREATE TABLE public.accounts (id integer PRIMARY KEY, email text, note text, qty integer,
                              status text, tag text);
INSERT INTO public.accounts SELECT g, 'user' || g || '@example.com', 'note ' || g, g, 'active', NULL
  FROM generate_series(1, 60) g;
CREATE TABLE public.orders (id integer PRIMARY KEY, account_id integer REFERENCES public.accounts (id));
INSERT INTO public.orders SELECT g, g FROM generate_series(1, 20) g;
ANALYZE;
SQL
psql -X -q -v ON_ERROR_STOP=1 -d "$tmpl" -v names="$names" -f "$here/shadowing_plants.sql" \
    >"$work/plants.log" 2>&1 || { cat "$work/plants.log"; exit 1; }

scanned_f=$(echo "$names" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["functions"]))')
scanned_o=$(echo "$names" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["operators"]))')
echo "scanned: $scanned_f identifiers followed by '(' and $scanned_o operator tokens"
clean "$tmpl" "SELECT pg_catalog.format('planted: %s function and aggregate names of pg_catalog (%s plants), %s operator names (%s plants)',
    count(DISTINCT name) FILTER (WHERE kind <> 'operator'), count(*) FILTER (WHERE kind <> 'operator'),
    count(DISTINCT name) FILTER (WHERE kind = 'operator'), count(*) FILTER (WHERE kind = 'operator')) FROM app.plant"
clean "$tmpl" "SELECT pg_catalog.format('  %s: %s', kind || ' ' || origin, count(*)) FROM app.plant GROUP BY kind, origin ORDER BY kind, origin"
echo "function names: $(clean "$tmpl" "SELECT string_agg(DISTINCT name, ' ') FROM app.plant WHERE kind <> 'operator'")"
echo "operator names: $(clean "$tmpl" "SELECT string_agg(DISTINCT name, ' ') FROM app.plant WHERE kind = 'operator'")"
echo "not planted with an identical signature, and why (\"any\" ones are covered by their text overloads):"
clean "$tmpl" "SELECT pg_catalog.format('  %s %s: %s', kind, signature, reason) FROM app.not_planted ORDER BY kind, signature"
echo "pg_catalog function names the code uses that have no plant at all:"
echo "  $(clean "$tmpl" "SELECT coalesce(string_agg(DISTINCT p.proname, ' '), '(none)') FROM pg_proc p
      JOIN app.scanned s ON s.kind = 'f' AND s.name = p.proname
     WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind <> 'p'
       AND NOT EXISTS (SELECT 1 FROM app.plant a WHERE a.name = p.proname)")"
for alt in 'app.pg_has_role(text,text)' 'app.pg_total_relation_size(text)' 'app.nextval(text)' \
    'app.*(integer,numeric)' 'app.count(*)' 'app.=(integer,integer)' 'app.format(text,text,text)'; do
    check_eq "the plants include $alt" 1 "$(clean "$tmpl" "SELECT count(*) FROM app.plant WHERE label = '$alt'")"
done

# ---------------------------------------------------------------------------------------
# The user SQL this test hands to pg_migrate calls no planted name itself: no functions,
# and operators only as OPERATOR(pg_catalog.op). Whatever runs a plant is pg_migrate's doing.
up1='CREATE TABLE public.items (id integer PRIMARY KEY, label text);'
down1='DROP TABLE public.items;'
verify1='SELECT NOT EXISTS (SELECT FROM public.items);'
opts1='{"lock_timeout": "5s", "statement_timeout": "1min", "lock_retries": 2}'
# Adds UNIQUE, NOT NULL, CHECK and an enum type to a table with rows: migrate_validate()
# generates a check for each while the migration is pending.
up2='ALTER TABLE public.accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
ALTER TABLE public.accounts ALTER COLUMN note SET NOT NULL;
ALTER TABLE public.accounts ADD CONSTRAINT accounts_qty_check CHECK (qty OPERATOR(pg_catalog.>=) 0);
ALTER TABLE public.accounts ALTER COLUMN status TYPE public.account_status USING status::public.account_status;'
down2='ALTER TABLE public.accounts ALTER COLUMN status TYPE text;
ALTER TABLE public.accounts DROP CONSTRAINT accounts_qty_check;
ALTER TABLE public.accounts ALTER COLUMN note DROP NOT NULL;
ALTER TABLE public.accounts DROP CONSTRAINT accounts_email_key;'
# No down script but a declared snapshot: migrate_rollback() restores the snapshot.
up3="UPDATE public.accounts SET tag = 'three' WHERE id OPERATOR(pg_catalog.=) 1;"
opts3='{"snapshot": ["public.accounts"]}'
up4='CREATE TABLE public.legacy (id integer PRIMARY KEY);'
up5='CREATE INDEX CONCURRENTLY accounts_tag_idx ON public.accounts (tag);'
# Fails on a duplicate key: the executor's failure path.
up6='INSERT INTO public.items VALUES (1, NULL), (1, NULL);'
# User checks: one that passes, one that finds rows, one that fails to run.
check_pass="SELECT id FROM public.accounts WHERE qty OPERATOR(pg_catalog.<) 0"
check_fail="SELECT id FROM public.accounts WHERE qty OPERATOR(pg_catalog.<) 5"
check_error="SELECT id FROM public.no_such_table"

# pgmig's migrations folder, and seeds.
mig="$work/migrations"
mkdir -p "$mig" "$work/seeds" "$work/selfcheck_seeds"
head -c 32 /dev/urandom >"$work/backup.key"
echo 'CREATE TABLE public.widgets (id integer PRIMARY KEY, name text);' >"$mig/20260101000000_create_widgets.up.sql"
echo 'DROP TABLE public.widgets;' >"$mig/20260101000000_create_widgets.down.sql"
echo 'CREATE INDEX CONCURRENTLY widgets_name_idx ON public.widgets (name);' >"$mig/20260101000100_widgets_name.up.sql"
echo 'DROP INDEX CONCURRENTLY public.widgets_name_idx;' >"$mig/20260101000100_widgets_name.down.sql"
echo 'ALTER TABLE public.accounts ADD CONSTRAINT accounts_qty_check CHECK (qty OPERATOR(pg_catalog.>=) 0);' \
    >"$mig/20260101000200_accounts_qty.up.sql"
echo 'ALTER TABLE public.accounts DROP CONSTRAINT accounts_qty_check;' >"$mig/20260101000200_accounts_qty.down.sql"
echo 'CREATE TABLE IF NOT EXISTS public.seeded (id integer PRIMARY KEY); INSERT INTO public.seeded VALUES (1) ON CONFLICT DO NOTHING;' \
    >"$work/seeds/01_seeded.sql"
# The self-check seed calls planted names on purpose.
echo "SELECT now(), pg_total_relation_size('public.accounts');" >"$work/selfcheck_seeds/01_selfcheck.sql"

# counters DB: "plant<TAB>calls" for every plant that ran so far.
counters() {
    clean "$1" "SELECT p.label || E'\t' || s.last_value FROM app.plant p
                  JOIN pg_sequences s ON s.schemaname = 'app' AND s.sequencename = 'hit_' || p.id
                 WHERE s.last_value IS NOT NULL ORDER BY 1"
}
total_hits() {
    clean "$1" "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM app.hits"
}

declare -A control_status
called_sql="$work/called.sql"
: >"$called_sql"

# attribute PASS DB LABEL RC LOG: which plants ran since the previous entry point, how it
# ended, and the checks (the control pass only records how each call ended).
attribute() {
    local pass=$1 db=$2 label=$3 rc=$4 log=$5
    local now fired warned status
    now=$(counters "$db")
    fired=$(awk -F'\t' 'NR == FNR { old[$1] = $2; next } $2 > old[$1] + 0 { print $1 }' \
        <(printf '%s\n' "$prev_counters") <(printf '%s\n' "$now") | tr '\n' ' ' | sed 's/ $//')
    prev_counters=$now
    warned=$(grep -o 'PLANTED .* ran as [a-z_]*' "$log" | sort -u)
    if [ "$rc" = 0 ]; then
        status=ok
    else
        status="failed (exit $rc): $(grep -m1 -E 'ERROR|error' "$log" | cut -c1-200)"
    fi
    [ -n "$fired" ] || fired=none
    if [ "$pass" = control ]; then
        control_status[$label]=$status
        check_eq "control: $label succeeds, plants off the path" "ok none" "$status $fired"
        [ "$status" = ok ] || { echo "       ---- $label output:"; sed 's/^/       /' "$log" | head -20; }
        return
    fi
    check_eq "pass $pass: $label runs no planted code" none "$fired"
    if [ -n "$warned" ]; then
        echo "$warned" | sed "s/^/       $label: /"
    fi
    if [ "${control_status[$label]-}" != "$status" ]; then
        check_eq "pass $pass: $label ends as it does without the plants" "${control_status[$label]-missing}" "$status"
        sed 's/^/       /' "$log" | grep -v PLANTED | head -10
    fi
}

# sqlcall LABEL SQL...: one psql session as postgres with the pass's search_path; each SQL
# argument is one command (in autocommit, so CALL migrate_backfill can commit).
sqlcall() {
    local label=$1
    shift
    local args=()
    for s in "$@"; do
        args+=(-c "$s")
        [ "$pass" = control ] && printf '%s\n' "$s" >>"$called_sql"
    done
    n=$((n + 1))
    local log="$work/$pass.$n.log"
    PGOPTIONS="-c search_path=$path" psql -X -qAt -v ON_ERROR_STOP=1 -d "$sqldb" "${args[@]}" >"$log" 2>&1
    local rc=$?
    attribute "$pass" "$sqldb" "$label" "$rc" "$log"
    # The value a later call needs (a snapshot id, a run id): the call's one-number output.
    last_output=$(grep -E '^[0-9]+$' "$log" | tail -n 1)
}

# cli LABEL EXPECTED_EXIT ARGS...: pgmig with the pass's search_path. EXPECTED_EXIT is its
# exit status without the plants (lint exits 1 on its findings).
cli() {
    local label="pgmig $1" expected=$2
    shift 2
    n=$((n + 1))
    local log="$work/$pass.$n.log"
    PGOPTIONS="-c search_path=$path" "$pgmig" --db "dbname=$clidb" --dir "$mig" "$@" >"$log" 2>&1
    local rc=$?
    if [ "$rc" = "$expected" ]; then rc=0; else rc="$rc, expected $expected"; fi
    attribute "$pass" "$clidb" "$label" "$rc" "$log"
}

# run_pass NAME SEARCH_PATH
run_pass() {
    pass=$1
    path=$2
    sqldb=${prefix}_${pass}_sql
    clidb=${prefix}_${pass}_cli
    n=0
    echo
    echo "== pass $pass: search_path = $path"
    createdb -T "$tmpl" "$sqldb" && createdb -T "$tmpl" "$clidb" || exit 1
    prev_counters=$(counters "$sqldb")

    sqlcall "migrate_checksum(text)" "SELECT migrate_checksum('SELECT 1;')"
    sqlcall "migrate_statements(text)" "SELECT * FROM migrate_statements(\$s\$$up2 $up5\$s\$)"
    sqlcall "migrate_lint(text)" "SELECT * FROM migrate_lint(\$s\$$up2 $up5\$s\$)"
    sqlcall "migrate_statement_locks(text)" "SELECT * FROM migrate_statement_locks(\$s\$$up2 $up5\$s\$)"
    sqlcall "migrate_data_expectations(text)" "SELECT * FROM migrate_data_expectations(\$s\$$up2\$s\$)"
    # pg_migrate's internal functions, called as its wrappers call them: with the caller's
    # search_path as caller_path.
    sqlcall "pg_migrate.regclass_in_path(text,text)" "SELECT pg_migrate.regclass_in_path('accounts', '$path')"
    sqlcall "pg_migrate.relation_name_in_path(oid,text)" \
        "SELECT pg_migrate.relation_name_in_path('public.accounts'::regclass, '$path')"
    sqlcall "pg_migrate.statement_locks_in_path(text,text)" \
        "SELECT * FROM pg_migrate.statement_locks_in_path(\$s\$$up2 $up5\$s\$, '$path')"
    sqlcall "pg_migrate.lint_in_path(text,text)" "SELECT * FROM pg_migrate.lint_in_path(\$s\$$up2 $up5\$s\$, '$path')"
    sqlcall "pg_migrate.data_expectations_in_path(text,text)" \
        "SELECT * FROM pg_migrate.data_expectations_in_path(\$s\$$up2\$s\$, '$path')"
    sqlcall "migrate_locks_conflict(text,text)" "SELECT migrate_locks_conflict('RowExclusiveLock', 'ShareLock')"
    sqlcall "migrate_register(...) of 1 with options" \
        "SELECT migrate_register('1', 'create_items', \$s\$$up1\$s\$, \$s\$$down1\$s\$, \$s\$$verify1\$s\$, '$opts1')"
    sqlcall "migrate_register(...) of 2 (UNIQUE, NOT NULL, CHECK, enum)" \
        "SELECT migrate_register('2', 'account_constraints', \$s\$$up2\$s\$, \$s\$$down2\$s\$)"
    sqlcall "migrate_register(...) of 3 with a declared snapshot" \
        "SELECT migrate_register('3', 'tag_account', \$s\$$up3\$s\$, NULL, NULL, '$opts3')"
    sqlcall "migrate_register(...) again, unchanged" \
        "SELECT migrate_register('2', 'account_constraints', \$s\$$up2\$s\$, \$s\$$down2\$s\$)"
    sqlcall "migrate_status()" "SELECT * FROM migrate_status()"
    sqlcall "validation_check_add(...)" \
        "SELECT validation_check_add('accounts_qty_nonnegative', 'business', '$check_pass', 'error', 'no negative quantities')" \
        "SELECT validation_check_add('accounts_qty_small', 'business', '$check_fail', 'warning', 'quantities below 5')" \
        "SELECT validation_check_add('accounts_qty_small', 'business', '$check_fail', 'warning', 'quantities below 5 (updated)')" \
        "SELECT validation_check_add('missing_table', 'schema', '$check_error', 'info')"
    sqlcall "migrate_validation_checks(text)" "SELECT * FROM migrate_validation_checks()" \
        "SELECT * FROM migrate_validation_checks('integrity')"
    sqlcall "migrate_validate(text)" "SELECT * FROM migrate_validate()" "SELECT * FROM migrate_validate('business')"
    sqlcall "pg_migrate.validation_checks(text,text)" "SELECT * FROM pg_migrate.validation_checks(NULL, '$path')"
    sqlcall "pg_migrate.validate_run(text,text)" "SELECT * FROM pg_migrate.validate_run(NULL, '$path')"
    sqlcall "migrate_preflight(text)" "SELECT * FROM migrate_preflight()" "SELECT * FROM migrate_preflight('2')"
    sqlcall "pg_migrate.preflight_checks(text,text)" "SELECT * FROM pg_migrate.preflight_checks(NULL, '$path')"
    sqlcall "pg_migrate.preflight_report(text,text)" "SELECT * FROM pg_migrate.preflight_report('2', '$path')"
    sqlcall "migrate_health()" "SELECT migrate_health()"
    sqlcall "pg_migrate.health_report(text)" "SELECT pg_migrate.health_report('$path')"
    sqlcall "snapshot_create(regclass,text)" "SELECT snapshot_create('public.accounts', 'manual')"
    local snap=${last_output:-0}
    sqlcall "snapshot_list()" "SELECT * FROM snapshot_list()"
    sqlcall "snapshot_verify(bigint)" "SELECT * FROM snapshot_verify($snap)"
    sqlcall "snapshot_restore(bigint)" "SELECT snapshot_restore($snap)"
    sqlcall "snapshot_drop(bigint)" "SELECT snapshot_drop($snap)"
    sqlcall "migrate_execute(...) dry run" "SELECT * FROM migrate_execute('1', true)"
    sqlcall "migrate_execute(...) of 1, with a verify script" "SELECT * FROM migrate_execute('1')"
    sqlcall "migrate_execute() with pg_migrate.require_preflight = on" \
        "SET pg_migrate.require_preflight = on" "SELECT * FROM migrate_execute()"
    sqlcall "migrate_rollback(...) dry run" "SELECT * FROM migrate_rollback('1', true)"
    sqlcall "migrate_rollback() restoring a declared snapshot" "SELECT * FROM migrate_rollback()"
    sqlcall "migrate_rollback(...) with down scripts" "SELECT * FROM migrate_rollback('0')"
    sqlcall "migrate_execute(..., atomic)" "SELECT * FROM migrate_execute(NULL, false, true)"
    sqlcall "snapshot_prune(...)" "SELECT snapshot_prune(keep_last => 5, older_than => '1 day', rel => 'public.accounts')" \
        "SELECT snapshot_prune(keep_last => 0)"
    sqlcall "migrate_register(...) of 4, then migrate_baseline(text,text)" \
        "SELECT migrate_register('4', 'legacy', \$s\$$up4\$s\$)" "SELECT migrate_baseline('4', 'adopted')"
    sqlcall "migrate_register(...) of 5 (no transaction)" "SELECT migrate_register('5', 'tag_index', \$s\$$up5\$s\$)"
    sqlcall "migrate_external_begin(text)" "SELECT run_id FROM migrate_external_begin('5')"
    local run=${last_output:-0}
    sqlcall "the statement of 5, run by the caller as pgmig does" "$up5"
    sqlcall "migrate_external_statement(...)" "SELECT migrate_external_statement('5', $run, 1, true)"
    sqlcall "migrate_external_finish(...)" "SELECT migrate_external_finish('5', $run, true, 12.5)"
    sqlcall "CALL migrate_backfill(...)" "CALL migrate_backfill('public.accounts', 'tag = ''filled''', 'tag IS NULL', 10)"
    sqlcall "migrate_backfill_progress()" "SELECT * FROM migrate_backfill_progress()"
    sqlcall "pg_migrate.backfill_clauses_check(text,text)" "SELECT pg_migrate.backfill_clauses_check('tag = NULL', 'tag IS NULL')"
    sqlcall "pg_migrate.backfill_require_no_transaction_block()" "SELECT pg_migrate.backfill_require_no_transaction_block()"
    sqlcall "pg_migrate.backfill_set_columns(text)" "SELECT pg_migrate.backfill_set_columns('tag = NULL, note = tag')"
    sqlcall "pg_migrate.backfill_key_text(anyelement), backfill_key_value(text,anyelement)" \
        "SELECT pg_migrate.backfill_key_text('2026-01-02 03:04:05+00'::timestamptz)" \
        "SELECT pg_migrate.backfill_key_value('42', NULL::integer)"
    sqlcall "migrate_schema_fingerprint()" "SELECT migrate_schema_fingerprint()"
    sqlcall "pg_migrate.record_schema_fingerprint(bigint)" "SELECT pg_migrate.record_schema_fingerprint(NULL)"
    sqlcall "migrate_drift()" "SELECT * FROM migrate_drift()"
    sqlcall "migrate_activity()" "SELECT migrate_activity()"
    sqlcall "migrate_grant(name,text,boolean), dry run and real" \
        "SELECT * FROM migrate_grant('pgm_shadow_grantee', 'deploy', true)" \
        "SELECT * FROM migrate_grant('pgm_shadow_grantee', 'monitor')"
    sqlcall "pg_migrate.grant_statements()" "SELECT * FROM pg_migrate.grant_statements()"
    sqlcall "pg_migrate.repair_reason_check(text)" "SELECT pg_migrate.repair_reason_check('a reason')"
    sqlcall "pg_migrate.script_edit_is_cosmetic(text,text)" "SELECT pg_migrate.script_edit_is_cosmetic('SELECT 1', 'select 1 -- x')"
    sqlcall "migrate_register(...) of 7, then migrate_forget(text,text)" \
        "SELECT migrate_register('7', 'never_applied', 'SELECT 1;')" \
        "SELECT migrate_forget('7', 'registered by mistake')"
    sqlcall "migrate_accept_checksum(text,text,text) of the applied 1" \
        "SELECT migrate_accept_checksum('1', \$s\$$up1 -- reformatted\$s\$, 'reformatted')"
    # pg_migrate's event triggers (ddl_command_start, ddl_command_end, sql_drop) run on the
    # caller's DDL, here and in the migrations above.
    sqlcall "the caller's DDL, which fires pg_migrate's event triggers" \
        "CREATE TABLE public.ddl_probe (i integer)" "ALTER TABLE public.ddl_probe ADD COLUMN j integer" \
        "DROP TABLE public.ddl_probe" "DROP SCHEMA IF EXISTS no_such_schema"
    sqlcall "migrate_register(...) of 6, then migrate_execute() failing on a duplicate key" \
        "SELECT migrate_register('6', 'duplicate_items', \$s\$$up6\$s\$)" "SELECT * FROM migrate_execute()"
    sqlcall "validation_check_drop(text)" "SELECT validation_check_drop('accounts_qty_nonnegative')" \
        "SELECT validation_check_drop('accounts_qty_small')" "SELECT validation_check_drop('missing_table')"
    sql_hits=$(total_hits "$sqldb")

    # pgmig's own queries run with a pinned search_path; migrations and seeds with the
    # user's (the pass's), where only the user's own SQL may run.
    if [ -x "$pgmig" ]; then
        echo "  (pgmig does not show server warnings: what ran is read from the plants' counters)"
        prev_counters=$(counters "$clidb")
        cli status 0 status
        cli lint 1 lint "$mig"/*.up.sql
        cli "up --to (the first)" 0 up --to 20260101000000
        cli preflight 0 preflight
        cli health 0 health
        cli validate 0 validate
        cli up 0 up
        cli drift 0 drift
        cli "snapshot create" 0 snapshot create --table public.accounts --label shadowing
        cli "snapshot list" 0 snapshot list
        local csnap
        csnap=$(clean "$clidb" "SELECT coalesce(max(id), 0) FROM pg_migrate.snapshot")
        cli "snapshot verify" 0 snapshot verify "$csnap"
        cli "snapshot restore" 0 snapshot restore "$csnap"
        cli "testdata generate" 0 testdata generate --table accounts --rows 5
        cli "testdata list" 0 testdata list
        cli "testdata cleanup" 0 testdata cleanup --all
        cli "monitor --once" 0 monitor --once
        cli "repair --dry-run" 0 repair --dry-run
        cli "repair" 0 repair --reason 'shadowing test'
        local store="file://$work/store_$pass" bkey=(--key-file "$work/backup.key") bid
        cli "backup create" 0 backup create --to "$store" "${bkey[@]}"
        bid=$(grep -m1 -E '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]+$' "$work/$pass.$n.log")  # the whole database
        cli "backup create --pg-table accounts" 0 backup create --to "$store" "${bkey[@]}" --pg-table accounts
        cli "backup list" 0 backup list --from "$store" "${bkey[@]}"
        cli "backup verify" 0 backup verify "$bid" --from "$store" "${bkey[@]}"
        cli "backup restore --dry-run" 0 backup restore "$bid" --from "$store" "${bkey[@]}" --target-db "dbname=$clidb" --dry-run
        cli "backup restore" 0 backup restore "$bid" --from "$store" "${bkey[@]}" --target-db "dbname=$clidb"
        cli "run-all --snapshot accounts" 0 run-all --snapshot accounts --seeds "$work/seeds"
        cli "down --steps 2 (one outside a transaction)" 0 down --steps 2
        cli seed 0 seed "$work/seeds"
        cli "status (at the end)" 0 status
        cli_hits=$(total_hits "$clidb")
    else
        cli_hits=0
    fi

    if [ "$pass" != control ]; then
        check_eq "pass $pass: app.hits after every SQL entry point" 0 "$sql_hits"
        [ -x "$pgmig" ] && check_eq "pass $pass: app.hits after every pgmig command" 0 "$cli_hits"
        warnings=$(grep -h -o 'PLANTED .* ran as [a-z_]*' "$work/$pass".*.log 2>/dev/null | sort -u | wc -l)
        check_eq "pass $pass: no PLANTED warning in any output" 0 "$warnings"
    fi
}

if [ ! -x "$pgmig" ]; then
    echo "NOTE: $pgmig is not built: the pgmig commands are not run (build the CLI to test them)"
fi
run_pass control "public"

# Every function of the extension is called above: a new entry point must be added here.
# Trigger and event trigger functions cannot be called; the DDL and DML above reach them
# when a trigger of the extension uses them.
extension_functions="SELECT p.oid, p.proname, p.prorettype FROM pg_proc p
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_migrate'"
missing=$(clean "$tmpl" "SELECT f.proname FROM ($extension_functions) f
    WHERE f.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype) ORDER BY 1" |
    while read -r f; do grep -q -E "(^|[^a-z_])$f\(" "$called_sql" || echo "$f"; done | tr '\n' ' ')
check_eq "every function of the extension is called by this test" "" "$missing"
triggered=$(clean "$tmpl" "SELECT coalesce(string_agg(f.proname, ' ' ORDER BY f.proname), '') FROM ($extension_functions) f
    WHERE f.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
      AND (EXISTS (SELECT 1 FROM pg_event_trigger t WHERE t.evtfoid = f.oid AND t.evtenabled <> 'D')
           OR EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgfoid = f.oid AND t.tgenabled <> 'D'))")
unused=$(clean "$tmpl" "SELECT coalesce(string_agg(f.proname, ' ' ORDER BY f.proname), '') FROM ($extension_functions) f
    WHERE f.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
      AND NOT EXISTS (SELECT 1 FROM pg_event_trigger t WHERE t.evtfoid = f.oid AND t.evtenabled <> 'D')
      AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgfoid = f.oid AND t.tgenabled <> 'D')")
[ -n "$triggered" ] && echo "  reached through the triggers that use them, not called: $triggered"
check_eq "every trigger function of the extension is used by an enabled trigger (so the calls above reach it)" "" "$unused"

run_pass a "public,app"
run_pass b "app,pg_catalog,public"

# ---------------------------------------------------------------------------------------
echo
echo "== self-check: the plants run when reached"
# Unqualified calls from the test itself, in a subtransaction that is rolled back: they
# must be counted, or the passes above proved nothing.
selfcheck() {  # selfcheck PASS PATH SQL EXPECTED_PLANT
    local db=${prefix}_$1_sql before after log="$work/selfcheck.$1.log"
    before=$(total_hits "$db")
    PGOPTIONS="-c search_path=$2" psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "BEGIN" -c "SAVEPOINT s" \
        -c "$3" -c "ROLLBACK TO SAVEPOINT s" -c "COMMIT" >"$log" 2>&1
    after=$(total_hits "$db")
    check_eq "self-check, pass $1: \"$3\" in a rolled-back subtransaction runs $4 and is counted" \
        "1 yes" "$((after - before)) $(grep -qF "PLANTED $4 ran as postgres" "$log" && echo yes || echo no)"
}
selfcheck a "public,app" "SELECT pg_total_relation_size('public.accounts')" "app.pg_total_relation_size(text)"
selfcheck a "public,app" "SELECT 2 * 0.5" "app.*(integer,numeric)"
selfcheck b "app,pg_catalog,public" "SELECT now()" "app.now()"
selfcheck b "app,pg_catalog,public" "SELECT count(*) FROM public.accounts" "app.count(*)"
if [ -x "$pgmig" ]; then
    for p in a b; do
        path=$([ $p = a ] && echo "public,app" || echo "app,pg_catalog,public")
        before=$(counters ${prefix}_${p}_cli)
        PGOPTIONS="-c search_path=$path" "$pgmig" --db "dbname=${prefix}_${p}_cli" seed "$work/selfcheck_seeds" \
            >"$work/selfcheck.cli.$p.log" 2>&1
        after=$(counters ${prefix}_${p}_cli)
        fired=$(awk -F'\t' 'NR == FNR { old[$1] = $2; next } $2 > old[$1] + 0 { print $1 }' \
            <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
        check_eq "self-check, pass $p: pgmig sessions get the search_path (a seed calling pg_total_relation_size('...') runs the plant)" \
            yes "$(echo "$fired" | grep -qxF 'app.pg_total_relation_size(text)' && echo yes || echo no)"
    done
fi
finish_checks
