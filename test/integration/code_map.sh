#!/usr/bin/env bash
# docs/architecture.md's code map names every source file of the extension and the CLI (by
# its stem), so it cannot fall behind the code again (issue 15).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/../lib/assert.sh"
map=$(awk '/^## Code map/ { on = 1 } /^## The C\+\+/ { on = 0 } on' "$root/docs/architecture.md")
missing=""
cd "$root"
for f in $(find extension/src cli/src -name '*.cpp' -o -name '*.hpp' | sort); do
    stem=$(basename "$f"); stem=${stem%.*}
    grep -qw -- "$stem" <<<"$map" || missing="$missing $f"
done
check_eq "every source file is in the code map" "" "${missing# }"
control=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" extension/pg_migrate.control)
latest=$(ls extension/sql/pg_migrate--*--*.sql | sed 's/.*--\([0-9.]*\)\.sql$/\1/' | sort -V | tail -1)
check_eq "the code map names the newest upgrade script" yes "$(grep -q -- "--$latest.sql" <<<"$map" && echo yes || echo no)"
check_eq "which is the control file's version" "$control" "$latest"
finish_checks
