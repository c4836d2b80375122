#!/usr/bin/env bash
# Two release builds end to end, back to back, for docs/benchmarks.md: bench/e2e.sh with one binary, then the
# other, ROUNDS times, so that the shared machine's drift falls on both alike. Prints each run, then each
# pair's ratios (after / before: items per second; machine CPU seconds, before / after) and their medians.
#   bench/pairs.sh BEFORE_BIN AFTER_BIN [ITEMS] [SIGNAL]      (default 1000000 traces)
# ROUNDS (default 3) is the number of pairs; SHAPE, PORT and SERVE_ARGS are passed to bench/e2e.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:?usage: bench/pairs.sh BEFORE_BIN AFTER_BIN [ITEMS] [SIGNAL]}
AFTER=${2:?usage: bench/pairs.sh BEFORE_BIN AFTER_BIN [ITEMS] [SIGNAL]}
ITEMS=${3:-1000000}
SIGNAL=${4:-traces}
ROUNDS=${ROUNDS:-3}
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

# One run: "rate machine_cpu_seconds" from e2e.sh's two summary lines.
run() {
  BIN=$1 SKIP_STORAGE=1 bench/e2e.sh "$ITEMS" "$SIGNAL" 2>&1 | awk '
    /^end to end:/ { rate = $(NF - 1) }
    /^CPU seconds:/ { busy = $NF }
    END { if (rate == "" || busy == "") exit 1; print rate, busy }'
}

for round in $(seq 1 "$ROUNDS"); do
  b=$(run "$BEFORE"); a=$(run "$AFTER")
  echo "$(date -u +%H:%M) pair $round  load $(cut -d' ' -f1 /proc/loadavg)  before: ${b% *} items/s, machine ${b#* } s  after: ${a% *} items/s, machine ${a#* } s"
  echo "$b $a" >> "$RESULTS"
done
awk '
  function median(v, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { n++; rate[n] = $3 / $1; cpu[n] = $2 / $4; printf "pair %d: rate ratio %.2f, CPU ratio %.2f\n", n, rate[n], cpu[n] }
  END { printf "median of %d pairs: rate ratio %.2f, CPU ratio %.2f\n", n, median(rate, n), median(cpu, n) }
' "$RESULTS"
