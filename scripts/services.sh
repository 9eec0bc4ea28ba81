#!/usr/bin/env bash
# Start or stop the services the tests need: influxd (Debian's influxdb 1.6) and
# PostgreSQL, on loopback ports, with their data in a temporary folder.
#
#   scripts/services.sh start   # installs what is missing, starts, waits until both answer
#   scripts/services.sh stop
#   scripts/services.sh env     # prints the export lines the tests read
#
# RFWATCH_SERVICES_DIR (default /tmp/rfwatch-services) holds one folder per pair of
# ports (data, logs and pids), so runs on other ports never stop or delete each other.
# Ports: RFWATCH_SERVICES_INFLUX_PORT (18086), RFWATCH_SERVICES_PG_PORT (15432).
# `start` refuses ports that something else is listening on.
set -euo pipefail

INFLUX_PORT=${RFWATCH_SERVICES_INFLUX_PORT:-18086}
INFLUX_RPC_PORT=$((INFLUX_PORT + 2))
PG_PORT=${RFWATCH_SERVICES_PG_PORT:-15432}
BASE=${RFWATCH_SERVICES_DIR:-/tmp/rfwatch-services}
RUN="$BASE/influx${INFLUX_PORT}-pg${PG_PORT}"
APT="apt-get -o DPkg::Lock::Timeout=600 -y -qq"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    return 1
}

install_missing() {
    local want=()
    command -v influxd >/dev/null || want+=(influxdb)
    pg_bin >/dev/null || want+=(postgresql)
    command -v curl >/dev/null || want+=(curl)
    # The browser tests (tests/e2e) drive Debian's Chromium with Playwright from pip;
    # no browser is downloaded (PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH or /usr/bin/chromium).
    command -v chromium >/dev/null || want+=(chromium)
    # WeasyPrint segfaults without any font; the reports use DejaVu.
    [ -d /usr/share/fonts/truetype/dejavu ] || want+=(fonts-dejavu-core)
    if [ ${#want[@]} -gt 0 ]; then
        echo "services: installing ${want[*]}" >&2
        as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
        DEBIAN_FRONTEND=noninteractive as_root $APT install "${want[@]}" >/dev/null
    fi
}

start_influx() {
    mkdir -p "$RUN/influx"
    cat > "$RUN/influx/influxd.conf" <<CONF
reporting-enabled = false
bind-address = "127.0.0.1:${INFLUX_RPC_PORT}"
[meta]
  dir = "$RUN/influx/meta"
[data]
  dir = "$RUN/influx/data"
  wal-dir = "$RUN/influx/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${INFLUX_PORT}"
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = false
CONF
    nohup influxd run -config "$RUN/influx/influxd.conf" > "$RUN/influx/influxd.log" 2>&1 &
    echo $! > "$RUN/influx/influxd.pid"
}

start_pg() {
    local bin
    bin=$(pg_bin)
    mkdir -p "$RUN/pg"
    chown postgres:postgres "$RUN/pg" 2>/dev/null || true
    if [ ! -d "$RUN/pg/data" ]; then
        su postgres -c "$bin/initdb -D $RUN/pg/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync" > "$RUN/pg/initdb.log"
    fi
    su postgres -c "$bin/pg_ctl -D $RUN/pg/data -l $RUN/pg/server.log -w -t 30 -o '-p $PG_PORT -k $RUN/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200' start" > /dev/null
}

wait_ready() {
    local i
    for i in $(seq 200); do
        curl -sf -o /dev/null "http://127.0.0.1:${INFLUX_PORT}/ping" && break
        sleep 0.1
    done
    curl -sf -o /dev/null "http://127.0.0.1:${INFLUX_PORT}/ping" || { echo "influxd did not answer; log:" >&2; tail -20 "$RUN/influx/influxd.log" >&2; exit 1; }
    "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || { echo "PostgreSQL did not answer" >&2; exit 1; }
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='rfwatch_test'" | grep -q 1 \
        || psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE rfwatch_test" >/dev/null
}

print_env() {
    echo "export RFWATCH_TEST_INFLUX_URL=http://127.0.0.1:${INFLUX_PORT}"
    echo "export RFWATCH_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:${PG_PORT}/rfwatch_test"
    echo "export RFWATCH_TEST_PG_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:${PG_PORT}/postgres"
}

port_busy() {  # is something listening on 127.0.0.1:$1?
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

ours_running() {  # are this folder's own services running?
    { [ -f "$RUN/influx/influxd.pid" ] && kill -0 "$(cat "$RUN/influx/influxd.pid")" 2>/dev/null; } ||
        [ -f "$RUN/pg/data/postmaster.pid" ]
}

refuse_busy_ports() {
    local port name busy=0
    for name in influx pg; do
        if [ "$name" = influx ]; then port=$INFLUX_PORT; else port=$PG_PORT; fi
        if port_busy "$port"; then
            echo "services: port $port ($name) is already in use by another program;" \
                 "choose free ports with RFWATCH_SERVICES_INFLUX_PORT / RFWATCH_SERVICES_PG_PORT" >&2
            busy=1
        fi
    done
    [ "$busy" = 0 ] || exit 1
}

stop() {
    local bin
    if [ -f "$RUN/influx/influxd.pid" ]; then
        kill -TERM "$(cat "$RUN/influx/influxd.pid")" 2>/dev/null || true
        rm -f "$RUN/influx/influxd.pid"
    fi
    if bin=$(pg_bin) && [ -f "$RUN/pg/data/postmaster.pid" ]; then
        su postgres -c "$bin/pg_ctl -D $RUN/pg/data -m fast -w stop" >/dev/null 2>&1 || true
    fi
}

case "${1:-}" in
    start)
        install_missing
        # Only this folder's own services are stopped (same ports, same folder); a port
        # used by anything else is refused, never taken over.
        if ours_running; then stop; sleep 0.5; fi
        refuse_busy_ports
        rm -rf "$RUN"
        mkdir -p "$RUN"
        start_influx
        start_pg
        wait_ready
        print_env > "$RUN/env"
        ln -sfn "$RUN/env" "$BASE/env" 2>/dev/null || true
        echo "services: influxd on 127.0.0.1:${INFLUX_PORT}, PostgreSQL on 127.0.0.1:${PG_PORT} (data in $RUN)" >&2
        ;;
    stop) stop ;;
    env) print_env ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 64 ;;
esac
