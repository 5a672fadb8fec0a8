#!/usr/bin/env bash
# The pgmig binary exists where the brief says and answers --version and --help.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
bin="$here/../../build/pgmig"
check_eq "build/pgmig --version" "pgmig 0.1.0" "$("$bin" --version)"
if "$bin" --help | grep -q "DATABASE_URL"; then help=yes; else help=no; fi
check_eq "--help explains the connection" yes "$help"
set +e
"$bin" --no-such-flag >/dev/null 2>&1
code=$?
set -e
check_eq "a usage error exits 2" 2 "$code"
finish_checks
