#!/usr/bin/env bash
# Measures the latency witnessing adds: one log without witnesses and one with three local
# `cairn witness` processes (2-of-3 policy, fail closed), same binary, same loadgen, runs
# interleaved so both see the same machine load (docs/performance.md#witnessing).
# Build first: cargo build --release -p cairn-cli --bin cairn -p cairn-bench --bin loadgen
# (BIN, LOADGEN, N, the entries per run, and LEVELS, the client counts, may be set in the
# environment). Closed-loop clients wait for their answers, so at a fixed client count the
# latency witnessing adds lowers throughput by Little's law; the highest level shows whether
# the log keeps up when there are enough clients to fill its rounds.
set -euo pipefail
BIN=${BIN:-target/release/cairn}
LOADGEN=${LOADGEN:-target/release/loadgen}
N=${N:-2000}
LEVELS=${LEVELS:-"1 16 128"}
D=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf $D' EXIT
wait_up() { for _ in $(seq 100); do curl -sf "$1/healthz" >/dev/null && return; sleep 0.1; done; echo "no $1"; exit 1; }
# The witnessed log: created once to make its key.
$BIN serve --data $D/b --listen 127.0.0.1:39102 --public-url http://cairn.bench/b > $D/b0.out & P=$!
wait_up http://127.0.0.1:39102; kill $P; wait $P 2>/dev/null || true
VKEY=$(sed -n 's/^cairn: log verifier key //p' $D/b0.out)
LOGHEX=$(python3 -c "import base64,sys; print(base64.b64decode(sys.argv[1].split('+', 2)[2])[1:].hex())" "$VKEY")
POLICY="log $LOGHEX"$'\n'
for i in 1 2 3; do
  (cd $D && $BIN keygen --type ed25519 --out w$i >/dev/null)
  $BIN witness --key $D/w$i.key --name bench.witness/w$i --listen 127.0.0.1:3920$i --state $D/ws$i --log "cairn.bench/b=$VKEY" > $D/w$i.out 2>&1 &
  sleep 0.5
  WHEX=$(python3 - "$D/w$i.pub" <<'PY'
import sys,base64
pem=open(sys.argv[1]).read().split('-----')[2]
der=base64.b64decode(''.join(pem.split()))
print(der[-32:].hex())
PY
)
  POLICY+="witness bench.witness/w$i $WHEX http://127.0.0.1:3920$i"$'\n'
done
POLICY+="group two 2 bench.witness/w1 bench.witness/w2 bench.witness/w3"$'\n'"quorum two"$'\n'
printf '%s' "$POLICY" > $D/policy
$BIN serve --data $D/a --listen 127.0.0.1:39101 > /dev/null 2>&1 &
$BIN serve --data $D/b --listen 127.0.0.1:39102 --public-url http://cairn.bench/b --witness-policy $D/policy > $D/b.out 2>&1 &
wait_up http://127.0.0.1:39101; wait_up http://127.0.0.1:39102
for c in $LEVELS; do
  for log in a b; do
    port=$([ $log = a ] && echo 39101 || echo 39102)
    echo "== concurrency $c, log $log ($([ $log = a ] && echo 'no witnesses' || echo '3 witnesses, 2-of-3'))"
    $LOADGEN --log http://127.0.0.1:$port --entries $N --concurrency $c --key-type p256 --json | tail -1
  done
done
curl -s http://127.0.0.1:39102/metrics | grep -E "^cairn_log_witness|^cairn_log_witnessing_seconds_(sum|count)|^cairn_log_integration_seconds_(sum|count)|^cairn_log_batches_total"
curl -s http://127.0.0.1:39102/api/v2/checkpoint
