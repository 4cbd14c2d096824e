# Start and stop a throwaway PostgreSQL cluster on 127.0.0.1 for the tests.
# Source this file; start_throwaway_postgres exports SOCIALINBOX_TEST_POSTGRES_URL.

postgres_bin_dir() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$found" ] && [ -x "$found/initdb" ]; then
        echo "$found"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

# PostgreSQL refuses to run as root, so run its commands as the postgres user then.
as_postgres() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_throwaway_postgres() {
    local bin_dir port
    bin_dir="$(postgres_bin_dir)"
    if [ -z "$bin_dir" ]; then
        echo "PostgreSQL server binaries not found: PostgreSQL tests will be skipped." >&2
        echo "Install them (Debian: apt-get install postgresql) to run those tests." >&2
        return 1
    fi
    PG_DIR="$(mktemp -d /tmp/socialinbox-pg.XXXXXX)"
    if [ "$(id -u)" = "0" ]; then
        chown postgres "$PG_DIR"
    fi
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_postgres "$bin_dir/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null
    as_postgres "$bin_dir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c full_page_writes=off" \
        start >/dev/null
    PG_BIN_DIR="$bin_dir"
    export SOCIALINBOX_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "Started a throwaway PostgreSQL on 127.0.0.1:$port" >&2
}

stop_throwaway_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        as_postgres "$PG_BIN_DIR/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
