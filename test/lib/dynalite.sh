# dynalite (a DynamoDB implementation on Node.js, from npm) on a free loopback port, in
# memory. Sourced; needs free_port from cluster.sh. Defines ensure_dynalite, start_dynalite
# and stop_dynalite. dynalite never checks signatures, throttles or leaves items
# unprocessed: test/tools/dynamodb_fault_proxy.py adds those faults.

# Installs dynalite 4 into test/.npm when missing; prints the path of its launcher.
ensure_dynalite() {
    local root dir
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    dir="$root/test/.npm"
    if [ ! -x "$dir/node_modules/.bin/dynalite" ]; then
        command -v npm >/dev/null 2>&1 || { echo "npm is missing (install nodejs and npm)" >&2; return 1; }
        mkdir -p "$dir"
        (cd "$dir" && npm install --silent --no-audit --no-fund dynalite@4 >/dev/null 2>&1) || {
            echo "npm install dynalite@4 failed" >&2
            return 1
        }
    fi
    echo "$dir/node_modules/.bin/dynalite"
}

# start_dynalite LOGFILE: sets DYNALITE_PID, DYNALITE_PORT and DYNALITE_URL. Tables become
# ACTIVE at once (--createTableMs 0), so tests never wait for them.
start_dynalite() {
    local log=$1 bin attempt
    bin=$(ensure_dynalite) || return 1
    # dynalite cannot be told to pick its own port and print it (as s3rver can), so a port
    # taken between free_port and the bind (EADDRINUSE) means: try another one.
    for attempt in 1 2 3 4 5; do
        DYNALITE_PORT=$(free_port) || return 1
        DYNALITE_URL="http://127.0.0.1:$DYNALITE_PORT"
        "$bin" --host 127.0.0.1 --port "$DYNALITE_PORT" --createTableMs 0 --deleteTableMs 0 \
            --updateTableMs 0 >"$log" 2>&1 &
        DYNALITE_PID=$!
        wait_for_port "$DYNALITE_PORT" "$DYNALITE_PID" 2>/dev/null && return 0
        kill "$DYNALITE_PID" 2>/dev/null; wait "$DYNALITE_PID" 2>/dev/null
        DYNALITE_PID=""
        grep -q EADDRINUSE "$log" || break
    done
    echo "dynalite did not start (attempt $attempt); its log:" >&2
    cat "$log" >&2
    return 1
}

stop_dynalite() {
    [ -n "${DYNALITE_PID:-}" ] || return 0
    kill "$DYNALITE_PID" 2>/dev/null || true
    wait "$DYNALITE_PID" 2>/dev/null || true
    DYNALITE_PID=""
}

# wait_for_port PORT PID: until something accepts connections on 127.0.0.1:PORT (10 s at
# most), or the process PID has exited.
wait_for_port() {
    local i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { echo "process $2 exited before listening on $1" >&2; return 1; }
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$1 after 10 s" >&2
    return 1
}
