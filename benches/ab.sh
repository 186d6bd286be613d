#!/usr/bin/env bash
# Compares two builds of the server under the same load, interleaved so both see the same
# machine (docs/performance.md): each build serves its own fresh log, and the load generator
# runs against one then the other at each level, REPS times.
#
#   A=/tmp/cairn-before B=/tmp/cairn-after benches/ab.sh
#
# (LOADGEN, N, the entries per run, LEVELS, KEYS and REPS may be set in the environment.)
set -euo pipefail
A=${A:?the first cairn binary}
B=${B:?the second cairn binary}
LOADGEN=${LOADGEN:-target/release/loadgen}
N=${N:-20000}
LEVELS=${LEVELS:-"16 128"}
KEYS=${KEYS:-"p256 ed25519"}
REPS=${REPS:-2}
D=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf $D' EXIT
"$A" serve --data $D/a --listen 127.0.0.1:37501 > $D/a.out 2>&1 & PA=$!
"$B" serve --data $D/b --listen 127.0.0.1:37502 > $D/b.out 2>&1 & PB=$!
wait_up() { for _ in $(seq 100); do curl -sf "$1/healthz" >/dev/null && return; sleep 0.1; done; echo "no $1"; exit 1; }
wait_up http://127.0.0.1:37501; wait_up http://127.0.0.1:37502
echo "rep key clients build entries/s p50_ms p99_ms server_cpu_us loadgen_cpu_us"
for rep in $(seq "$REPS"); do
  for key in $KEYS; do
    for c in $LEVELS; do
      for build in A B; do
        port=$([ $build = A ] && echo 37501 || echo 37502)
        pid=$([ $build = A ] && echo $PA || echo $PB)
        "$LOADGEN" --log http://127.0.0.1:$port --entries "$N" --concurrency "$c" --key-type "$key" \
            --json --server-pid $pid 2>/dev/null | python3 -c "
import json, sys
d = json.loads(sys.stdin.read())
print('$rep $key $c $build', round(d['entries_per_second']), d['latency_ms']['p50'],
      d['latency_ms']['p99'], round(d['cpu_us_per_entry']['server']),
      round(d['cpu_us_per_entry']['loadgen']), d['errors'] or '')"
      done
    done
  done
done
