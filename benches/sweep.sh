#!/usr/bin/env bash
# The load sweep behind docs/performance.md: for each signer key type, a fresh release
# `cairn serve` on a temporary data directory, the load generator at each concurrency level
# (closed loop), then an open-loop run at half the highest throughput seen (the latency
# target's operating point), each run with this machine's bounds measured in the same run
# (--bounds). Results go to JSON lines; `plot` draws docs/img/{throughput,latency}.svg.
#
#   benches/sweep.sh                       # defaults below
#   ENTRIES=20000 LEVELS="1 8 64" KEYS=p256 OUT=/tmp/sweep benches/sweep.sh
#
# Loopback only: the server listens on 127.0.0.1 and every run is bounded by ENTRIES.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ENTRIES=${ENTRIES:-20000}
LEVELS=${LEVELS:-"1 2 4 8 16 32 64 128"}
KEYS=${KEYS:-"p256 ed25519"}
OUT=${OUT:-$ROOT/target/sweep}
IMG=${IMG:-$ROOT/docs/img}
PORT=${PORT:-37311}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

cd "$ROOT"
cargo build --release -p cairn-cli -p cairn-bench --bin cairn --bin loadgen --bin plot
mkdir -p "$OUT"
{
    echo "date: $(date -u +%FT%TZ)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) x $(nproc)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

server_pid=
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT

start_server() {
    local data
    data=$(mktemp -d)
    "$TARGET/release/cairn" serve --data "$data" --listen "127.0.0.1:$PORT" \
        >"$OUT/server-$1.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "cairn serve did not come up; see $OUT/server-$1.log" >&2
    exit 1
}

for key in $KEYS; do
    results="$OUT/sweep-$key.jsonl"
    : >"$results"
    start_server "$key"
    best=0
    for c in $LEVELS; do
        echo "== $key, $c clients" >&2
        "$TARGET/release/loadgen" --log "http://127.0.0.1:$PORT" --entries "$ENTRIES" \
            --concurrency "$c" --key-type "$key" --json --bounds --server-pid "$server_pid" | tee -a "$results"
        best=$(tail -n1 "$results" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["entries_per_second"]))' |
            awk -v b="$best" '{ print ($1 > b) ? $1 : b }')
    done
    half=$((best / 2))
    echo "== $key, open loop at $half/s (half of $best)" >&2
    "$TARGET/release/loadgen" --log "http://127.0.0.1:$PORT" --entries "$ENTRIES" \
        --rate "$half" --concurrency 128 --key-type "$key" --json --bounds --server-pid "$server_pid" |
        tee "$OUT/half-$key.json"
    stop_server
done

"$TARGET/release/plot" --out "$IMG" "$OUT"/sweep-*.jsonl
echo "results in $OUT, figures in $IMG" >&2
