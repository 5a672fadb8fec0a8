# Shared by the benchmark scripts: build and install, a throwaway cluster, timing helpers.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source test/lib/deps.sh
source test/lib/cluster.sh
ROUNDS=${ROUNDS:-3}

# bench_start NAME [postgres settings...]: builds and installs everything, starts the cluster
# in $work (removed with the cluster on exit).
bench_start() {
    local name=$1
    shift
    install_dependencies
    make -j2 >/dev/null
    make install >/dev/null
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j2 >/dev/null
    work=$(mktemp -d "/tmp/pgmig-$name.XXXXXX")
    chmod 755 "$work"
    trap 'stop_cluster; rm -rf "$work"' EXIT
    start_cluster "$work/cluster" "$@"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
