#!/usr/bin/env bash
# Rule coverage of migrate_lint() against squawk (npm squawk-cli) on the same files
# (bench/lint_corpus): prints a markdown table, recorded in docs/lint.md.
# `make lint-compare`; needs npm (installs squawk-cli into bench/.squawk).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_start lint
if [ ! -x bench/.squawk/node_modules/.bin/squawk ]; then
    install_npm
    mkdir -p bench/.squawk
    (cd bench/.squawk && npm install --silent --no-audit --no-fund squawk-cli@2 >/dev/null 2>&1)
fi
squawk=bench/.squawk/node_modules/.bin/squawk
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE EXTENSION pg_migrate" -f bench/lint_corpus/_schema.sql >/dev/null

echo "squawk $("$squawk" --version | awk '{print $2}'), pg_migrate $(psql -X -qtA -d postgres -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'")"
echo
echo "| file | pg_migrate (migrate_lint) | squawk |"
echo "|---|---|---|"
for f in bench/lint_corpus/[0-9]*.sql; do
    ours=$(echo "SELECT coalesce(string_agg(DISTINCT rule, ', ' ORDER BY rule), '-') FROM migrate_lint(:'sql')" |
        psql -X -qtA -d postgres -v sql="$(cat "$f")")
    # Migrations run in a transaction (pg_migrate gives each its own), so squawk is told so.
    theirs=$( ("$squawk" --assume-in-transaction --reporter json "$f" 2>/dev/null || true) | grep -o '"rule_name":"[^"]*"' | cut -d'"' -f4 |
        { grep -v '^prefer-robust-stmts$' || true; } | sort -u | paste -sd, - | sed 's/,/, /g')
    echo "| $(basename "$f" .sql) | $ours | ${theirs:--} |"
done
