#!/usr/bin/env bash
# The pgmig binary exists where the brief says and answers --version and --help.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
bin="$here/../../build/pgmig"
check_eq "build/pgmig --version names the release" "yes" "$("$bin" --version | grep -qE "^pgmig [0-9]+\.[0-9]+\.[0-9]+$" && echo yes || echo no)"
if "$bin" --help | grep -q "DATABASE_URL"; then help=yes; else help=no; fi
check_eq "--help explains the connection" yes "$help"
set +e
"$bin" --no-such-flag >/dev/null 2>&1
code=$?
set -e
check_eq "a usage error exits 2" 2 "$code"

# Every command and subcommand teaches: --help exits 0 and shows an example.
for cmd in init new status up down drift seed adopt run-all preflight health validate lint \
           "snapshot" "snapshot create" monitor "testdata" "testdata generate" "testdata cleanup" \
           "backup" "backup create" "backup verify" "backup restore" "backup prune" "backup list"; do
    # shellcheck disable=SC2086
    out=$("$bin" $cmd --help 2>&1) && rc=0 || rc=$?
    check_eq "pgmig $cmd --help exits 0" 0 "$rc"
    if [ "$cmd" != "backup list" ]; then
        echo "$out" | grep -qi "example" && ex=yes || ex=no
        check_eq "pgmig $cmd --help has an example" yes "$ex"
    fi
done
finish_checks
