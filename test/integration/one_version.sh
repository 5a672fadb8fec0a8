#!/usr/bin/env bash
# One version for the product: the extension's control file is the source; pgmig --version,
# META.json, the README and a fresh CREATE EXTENSION all say the same (issue 15).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root="$here/../.."
source "$here/../lib/assert.sh"
v=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" "$root/extension/pg_migrate.control")
check_eq "the control file names a version" yes "$(echo "$v" | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+$' && echo yes || echo no)"
check_eq "pgmig --version" "pgmig $v" "$("$root/build/pgmig" --version)"
check_eq "META.json's version" "$v" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$root/META.json")"
check_eq "META.json's provides" "$v" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["provides"]["pg_migrate"]["version"])' "$root/META.json")"
check_eq "the README's release" "$v" "$(sed -n 's/.*This is release \*\*\([0-9.]*\)\*\*.*/\1/p' "$root/README.md")"
check_eq "an upgrade script leads to it" yes "$(ls "$root"/extension/sql/pg_migrate--*--"$v".sql >/dev/null 2>&1 && echo yes || echo no)"
dropdb --if-exists pgm_one_version 2>/dev/null
createdb pgm_one_version
check_eq "CREATE EXTENSION installs it" "$v" \
    "$(psql -X -qtA -d pgm_one_version -c "CREATE EXTENSION pg_migrate" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'")"
dropdb pgm_one_version
finish_checks
