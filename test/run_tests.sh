#!/usr/bin/env bash
# The test command (`make test`): installs what is missing, builds the extension and the CLI,
# starts a throwaway PostgreSQL 15 cluster on a free loopback port, runs pg_regress,
# isolation, GoogleTest and the integration scripts, stops the cluster, and ends with one
# line "N passed, N failed". Exit status 0 only when nothing failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source test/lib/deps.sh
source test/lib/cluster.sh

passed=0
failed=0
work=$(mktemp -d /tmp/pgmig-test.XXXXXX)
chmod 755 "$work"  # the postgres user must reach the cluster below it
cleanup() {
    stop_cluster
    rm -rf "$work"
}
trap cleanup EXIT

summary() {
    echo
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

# fatal STEP LOG: a step everything else depends on failed; show why and stop.
fatal() {
    echo "FAILED: $1"
    [ -f "$2" ] && tail -n 60 "$2"
    failed=$((failed + 1))
    summary
}

echo "== dependencies"
install_dependencies || fatal "installing dependencies" /dev/null
install_npm || fatal "installing npm" /dev/null

echo "== build: extension (PGXS)"
make -j2 >"$work/make.log" 2>&1 || fatal "make" "$work/make.log"
if grep -q "warning:" "$work/make.log"; then
    grep "warning:" "$work/make.log"
    fatal "the extension build has warnings" /dev/null
fi
make install >"$work/install.log" 2>&1 || fatal "make install (run as root)" "$work/install.log"

echo "== build: CLI and unit tests (CMake)"
{ cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2; } \
    >"$work/cmake.log" 2>&1 || fatal "cmake build" "$work/cmake.log"
if grep -q "warning:" "$work/cmake.log"; then
    grep "warning:" "$work/cmake.log"
    fatal "the CLI build has warnings" /dev/null
fi

echo "== unit tests (GoogleTest)"
ctest --test-dir build --output-on-failure >"$work/ctest.log" 2>&1
line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$work/ctest.log")
if [ -z "$line" ]; then
    fatal "ctest printed no summary" "$work/ctest.log"
fi
unit_failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
unit_total=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
echo "$line"
[ "$unit_failed" -gt 0 ] && grep -E "Failed|FAILED" "$work/ctest.log"
passed=$((passed + unit_total - unit_failed))
failed=$((failed + unit_failed))

echo "== cluster"
start_cluster "$work/cluster" max_connections=150 || fatal "starting PostgreSQL" /dev/null
echo "PostgreSQL 15 on 127.0.0.1:$PGPORT (socket $PGHOST)"

echo "== pg_regress and isolation"
rm -rf results output_iso regression.diffs regression.out
make installcheck >"$work/installcheck.log" 2>&1
grep -E "^(test| ) .*\.\.\. |^(ok|not ok) " "$work/installcheck.log" || true
suite_passed=$(grep -cE "\.\.\. ok" "$work/installcheck.log")
suite_failed=$(grep -cE "\.\.\. FAILED|\.\.\. failed" "$work/installcheck.log")
if [ "$suite_passed" -eq 0 ] && [ "$suite_failed" -eq 0 ]; then
    cat "$work/installcheck.log"
    suite_failed=1
fi
passed=$((passed + suite_passed))
failed=$((failed + suite_failed))
if [ "$suite_failed" -gt 0 ]; then
    for d in regression.diffs output_iso/regression.diffs; do
        [ -f "$d" ] && { echo "---- $d"; cat "$d"; }
    done
fi

echo "== integration"
for t in test/integration/*.sh test/adversarial/*.sh; do
    name=$(basename "$t" .sh)
    if bash "$t" >"$work/$name.log" 2>&1; then
        echo "test $name ... ok"
        passed=$((passed + 1))
    else
        echo "test $name ... FAILED"
        cat "$work/$name.log"
        failed=$((failed + 1))
    fi
done

if [ "$failed" -gt 0 ] && [ -f "$CLUSTER_LOG" ]; then
    echo "---- server log (last 80 lines)"
    tail -n 80 "$CLUSTER_LOG"
fi
summary
