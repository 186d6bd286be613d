#!/usr/bin/env bash
# The load generator against the two stores, interleaved so both see the same machine load
# (docs/performance.md, "The PostgreSQL + object-storage driver"): the embedded redb store, and
# PostgreSQL (a throwaway cluster on loopback, synchronous_commit and fsync on, as in
# production) with a local-directory bucket, from one release binary.
#
# Build first: cargo build --release -p cairn-cli --bin cairn -p cairn-bench --bin loadgen
# (BIN, LOADGEN, N, the entries per run, LEVELS, the client counts, and KEY may be set in the
# environment). Needs PostgreSQL's initdb and pg_ctl (Debian: package postgresql); as root
# the cluster runs as the postgres user.
set -euo pipefail
BIN=${BIN:-target/release/cairn}
LOADGEN=${LOADGEN:-target/release/loadgen}
N=${N:-10000}
LEVELS=${LEVELS:-"1 16 64"}
KEY=${KEY:-p256}
PGBIN=${PGBIN:-$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | tail -n1)")}
D=$(mktemp -d)
chmod 755 "$D"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGDATA=$D/pg
mkdir -p "$PGDATA" && [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$D"
}
trap cleanup EXIT
as_pg "$PGBIN/initdb" -D "$PGDATA" -U cairn -A trust -E UTF8 --locale=C >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/log" -w \
    -o "-p 39150 -k $PGDATA -c listen_addresses=127.0.0.1" start >/dev/null
wait_up() { for _ in $(seq 100); do curl -sf "$1/healthz" >/dev/null && return; sleep 0.1; done; echo "no $1"; exit 1; }
$BIN serve --data "$D/a" --listen 127.0.0.1:39151 >"$D/a.out" 2>&1 &
$BIN serve --data "$D/b" --listen 127.0.0.1:39152 \
    --store postgres://cairn@127.0.0.1:39150/postgres --objects "file://$D/bucket" >"$D/b.out" 2>&1 &
wait_up http://127.0.0.1:39151
wait_up http://127.0.0.1:39152 || { cat "$D/b.out"; exit 1; }
for c in $LEVELS; do
    for store in redb postgres; do
        port=$([ $store = redb ] && echo 39151 || echo 39152)
        echo "== $KEY, $c clients, store $store"
        $LOADGEN --log http://127.0.0.1:$port --entries "$N" --concurrency "$c" --key-type "$KEY" --json | tail -1
    done
done
for port in 39151 39152; do
    curl -s http://127.0.0.1:$port/metrics | grep -E "^cairn_log_(batches_total|integration_seconds_(sum|count))"
done
