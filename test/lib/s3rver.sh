# A local S3 server for the integration tests: @20minutes/s3rver@4 from npm, which (unlike
# plain s3rver) verifies SigV4 signatures. Credentials: S3RVER / S3RVER.
#
#   source test/lib/s3rver.sh
#   start_s3rver DIR [BUCKET...]   # sets S3RVER_PID, S3RVER_PORT, S3RVER_ENDPOINT
#   stop_s3rver [SIGNAL]           # default TERM; KILL for a server that dies mid-request

# The s3rver fork from npm, in test/.npm; prints the path of its cli module.
ensure_s3rver() {
    local root dir cli
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    dir="$root/test/.npm"
    cli="$dir/node_modules/@20minutes/s3rver/lib/cli.js"
    if [ ! -f "$cli" ]; then
        source "$root/test/lib/deps.sh"
        install_npm >&2 || return 1
        mkdir -p "$dir"
        # v5 needs Node 24.
        (cd "$dir" && npm install --silent --no-audit --no-fund @20minutes/s3rver@4 >/dev/null 2>&1) ||
            { echo "npm install @20minutes/s3rver@4 failed" >&2; return 1; }
    fi
    echo "$cli"
}

start_s3rver() {
    local dir=$1
    shift
    local cli bucket_args=() b i
    cli=$(ensure_s3rver) || return 1
    mkdir -p "$dir/data"
    # The package ships no bin, and `node -e` would make commander drop the first option.
    echo "require('$cli').parseAsync(process.argv);" >"$dir/s3rver-launcher.js"
    for b in "$@"; do bucket_args+=(--configure-bucket "$b"); done
    # Port 0: the kernel picks a free port and s3rver prints it, so there is no race for one.
    # Without the legacy provider, ListObjectsV2 paging answers 500 on Node 17+.
    NODE_OPTIONS=--openssl-legacy-provider node "$dir/s3rver-launcher.js" \
        -d "$dir/data" -a 127.0.0.1 -p 0 -s "${bucket_args[@]}" >"$dir/s3rver.log" 2>&1 &
    S3RVER_PID=$!
    S3RVER_PORT=
    for i in $(seq 1 100); do
        S3RVER_PORT=$(sed -nE 's/.*S3rver listening on [0-9.]+:([0-9]+).*/\1/p' "$dir/s3rver.log")
        [ -n "$S3RVER_PORT" ] && break
        kill -0 "$S3RVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$S3RVER_PORT" ]; then
        echo "s3rver did not start; its log:" >&2
        cat "$dir/s3rver.log" >&2
        stop_s3rver
        return 1
    fi
    S3RVER_ENDPOINT="http://127.0.0.1:$S3RVER_PORT"
    export S3RVER_PID S3RVER_PORT S3RVER_ENDPOINT
}

stop_s3rver() {
    [ -n "${S3RVER_PID:-}" ] || return 0
    kill "-${1:-TERM}" "$S3RVER_PID" 2>/dev/null || true
    wait "$S3RVER_PID" 2>/dev/null || true
    S3RVER_PID=
    return 0
}
