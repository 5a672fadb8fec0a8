# Installs the Debian packages the build and tests need (only the missing ones).
# Sourced by run_tests.sh, demo.sh and bench/run.sh.
PGMIG_APT_PACKAGES="postgresql-15 postgresql-server-dev-15 libpq-dev libcli11-dev libzstd-dev
  libssl-dev libxxhash-dev pkg-config python3 libcurl4-openssl-dev nlohmann-json3-dev libgtest-dev cmake g++ make
  libtomlplusplus-dev"

install_dependencies() {
    local missing=()
    for p in $PGMIG_APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "missing packages: ${missing[*]} (run as root, or install them first)" >&2
        return 1
    fi
    echo "installing: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# npm (for dbmate in the adopt test and benchmarks): the machine's Node.js, else Debian's.
install_npm() {
    command -v npm >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || { echo "npm is missing (install nodejs and npm)" >&2; return 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
}

# dbmate from npm, in test/.npm (the adopt test and the CLI benchmark); prints its path.
ensure_dbmate() {
    local root dir
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    dir="$root/test/.npm"
    if [ ! -x "$dir/node_modules/.bin/dbmate" ]; then
        install_npm >&2 || return 1
        mkdir -p "$dir"
        (cd "$dir" && npm install --silent --no-audit --no-fund dbmate@2 >/dev/null 2>&1) || return 1
    fi
    echo "$dir/node_modules/.bin/dbmate"
}
