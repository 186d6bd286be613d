#!/usr/bin/env bash
# Runs every fuzz target in turn, one at a time, for SECS seconds each (default 10: a smoke
# check that the targets build and start; use 180-300 for a real run). Needs a nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#
#   fuzz/run-all.sh                 # every target, 10 s each
#   SECS=240 fuzz/run-all.sh note   # one target, 4 minutes
#
# New corpus entries go to fuzz/corpus-work/<target>/ (git-ignored); the checked-in seeds in
# fuzz/corpus/<target>/ are only read. A crash leaves its input in fuzz/artifacts/<target>/; the
# script goes on with the next target and exits non-zero at the end. One summary line per target is printed at the end:
# executions, executions per second, coverage (cov/ft) and corpus size, from libFuzzer's
# final statistics (full logs in fuzz/corpus-work/<target>.log).
set -euo pipefail
cd "$(dirname "$0")"
SECS="${SECS:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
fuzz() { rustup run nightly cargo fuzz "$@"; }
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(fuzz list); fi
fuzz build
summary=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus-work/$t" "corpus/$t"
  log="corpus-work/$t.log"
  echo "== $t (${SECS}s)"
  if ! fuzz run "$t" "corpus-work/$t" "corpus/$t" -- \
      -max_total_time="$SECS" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "FAILED: $t (log: fuzz/$log)" >&2
    summary+=("$t: FAILED (see fuzz/$log)")
    failed=1
    continue
  fi
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  summary+=("$t: execs=$execs exec/s=$rate | $done_line")
done
printf '%s\n' "${summary[@]}"
exit "$failed"
