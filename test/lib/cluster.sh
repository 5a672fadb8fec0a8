# A throwaway PostgreSQL 15 cluster on a free loopback port, owned by the postgres user when
# running as root. Sourced; defines start_cluster / stop_cluster and exports PG* variables.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

# Ports come from below the kernel's ephemeral range (ip_local_port_range, 32768 and up by
# default), so an outgoing connection of another test cannot take the port between this check
# and the server's bind. A server that still loses a race is restarted by its caller.
free_port() {
    local port low=20000 high
    high=$(awk '{ print $1 - 1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32767)
    [ "$high" -gt $((low + 1000)) ] || { low=30000; high=$((low + 20000)); }
    for _ in $(seq 1 200); do
        port=$(( (RANDOM % (high - low)) + low ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

# start_cluster DIR [extra postgres -c settings...]
start_cluster() {
    CLUSTER_DIR=$1
    shift
    mkdir -p "$CLUSTER_DIR"
    chmod 755 "$CLUSTER_DIR"
    local as=()
    if [ "$(id -u)" = 0 ]; then
        as=(runuser -u postgres --)
        install -d -o postgres -g postgres -m 700 "$CLUSTER_DIR/pgdata"
        install -d -o postgres -g postgres -m 755 "$CLUSTER_DIR/sock"
    else
        install -d -m 700 "$CLUSTER_DIR/pgdata"
        install -d -m 755 "$CLUSTER_DIR/sock"
    fi
    CLUSTER_PORT=$(free_port)
    local user
    user=$([ "$(id -u)" = 0 ] && echo postgres || id -un)
    "${as[@]}" "$PGBIN/initdb" -D "$CLUSTER_DIR/pgdata" -U "$user" --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log" 2>&1 || { cat "$CLUSTER_DIR/initdb.log"; return 1; }
    local opts="-p $CLUSTER_PORT -k $CLUSTER_DIR/sock -c listen_addresses=127.0.0.1 -c fsync=off"
    for setting in "$@"; do opts="$opts -c $setting"; done
    CLUSTER_LOG="$CLUSTER_DIR/pgdata/server.log"
    "${as[@]}" "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/pgdata" -l "$CLUSTER_LOG" -o "$opts" -w start \
        >/dev/null || { cat "$CLUSTER_LOG"; return 1; }
    CLUSTER_AS=("${as[@]}")
    export PGHOST="$CLUSTER_DIR/sock" PGPORT=$CLUSTER_PORT PGUSER=$user PGDATABASE=postgres
    unset PGPASSWORD PGSERVICE DATABASE_URL
}

stop_cluster() {
    [ -n "${CLUSTER_DIR:-}" ] && [ -f "$CLUSTER_DIR/pgdata/postmaster.pid" ] || return 0
    "${CLUSTER_AS[@]}" "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/pgdata" -m fast -w stop >/dev/null 2>&1 || true
}
