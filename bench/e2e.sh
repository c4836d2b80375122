#!/usr/bin/env bash
# End-to-end benchmark for docs/benchmarks.md: a throwaway PostgreSQL on this machine, the release server,
# `ollyscale loadgen` over gRPC, then the time until every acknowledged span is committed (the WAL is
# empty), then bench/storage.sql (storage per span vs JSONB-only, raw COPY rate of the same rows).
#   bench/e2e.sh [SPANS] [SIGNAL]      (default 1000000 traces)
# SHAPE="--services 200 --operations 20 --cardinality 100000" passes the traffic's shape to every loadgen;
# OTHER_ITEMS (default SPANS/2) is the number of log records and of data points API_BENCH loads;
# PORT (default 55999) is PostgreSQL's port, and the server listens on PORT-31682 (gRPC), +1, and PORT-27919 (API)
# so that two runs can share the machine.
# SERVE_ARGS adds flags to `serve` ("--batch-max-bytes 32MiB --writes-in-flight 3").
# PGOPTS adds PostgreSQL settings ("-c log_min_duration_statement=0" to time every statement).
# KEEP=1 leaves the loaded PostgreSQL running at the end (the server is stopped) and prints its URL and how
# to stop and remove it, for EXPLAIN and reruns of bench/api.py against the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS=${1:-1000000}
SIGNAL=${2:-traces}
PORT=${PORT:-55999}
GRPC=$((PORT - 31682)); HTTP=$((GRPC + 1)); API=$((PORT - 27919))
SHAPE=${SHAPE:-}
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --bin ollyscale
  BIN=target/release/ollyscale
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/ollyscale-bench.XXXX)
chmod 755 "$WORK"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir "$WORK/pg"; [ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U postgres >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -o "-p $PORT -k $WORK/pg -c shared_buffers=1GB -c max_wal_size=4GB ${PGOPTS:-}" -l "$WORK/pg/log" start >/dev/null
URL=postgres://postgres@127.0.0.1:$PORT/postgres
cleanup() {
  kill $SERVER 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then
    wait $SERVER 2>/dev/null || true
    echo "KEEP=1: PostgreSQL left running at $URL (data in $WORK)"
    echo "  stop and remove: $( [ "$(id -u)" = 0 ] && echo 'runuser -u postgres -- ')$PGBIN/pg_ctl -D $WORK/pg/data stop -m fast && rm -rf $WORK"
    return
  fi
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" stop -m fast >/dev/null; rm -rf "$WORK"
}
SERVER=
trap cleanup EXIT
$BIN migrate --database-url $URL >/dev/null
$BIN serve --data-dir "$WORK/data" --database-url $URL --wal-budget 50GiB \
  --grpc-listen 127.0.0.1:$GRPC --http-listen 127.0.0.1:$HTTP --api-listen 127.0.0.1:$API \
  --batch-max-records ${BATCH:-512} ${SERVE_ARGS:-} 2>"$WORK/serve.log" &
SERVER=$!
sleep 2
# CPU seconds: the server's own (utime + stime), and the whole machine's busy time (everything but idle and
# iowait), from start to the last commit; the difference is PostgreSQL, the load generator and the rest.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' /proc/$SERVER/stat; }
machine_busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu /{print ($2 + $3 + $4 + $7 + $8 + $9) / hz}' /proc/stat; }
CPU0=$(server_cpu); BUSY0=$(machine_busy)
START=$(date +%s.%N)
$BIN loadgen --endpoint http://127.0.0.1:$GRPC --signals "$SIGNAL" --items "$SPANS" --concurrency 4 --batch-size 512 --quiet $SHAPE
while ! curl -s 127.0.0.1:$API/metrics | grep -qx 'ollyscale_wal_records 0'; do sleep 0.2; done
END=$(date +%s.%N)
echo "end to end: $SPANS $SIGNAL items committed in $(echo "$END - $START" | bc) s = $(echo "$SPANS / ($END - $START)" | bc) items/s"
echo "CPU seconds: server $(echo "$(server_cpu) - $CPU0" | bc), machine busy $(echo "$(machine_busy) - $BUSY0" | bc)"
curl -s 127.0.0.1:$API/metrics | grep -E '^ollyscale_(rows_written_total|write_latency_seconds_(sum|count)|batches_written_total|cache_hit_ratio)'
if [ -n "${API_BENCH:-}" ]; then
  # Also logs and metrics, then the query API's latency on what is loaded.
  $BIN loadgen --endpoint http://127.0.0.1:$GRPC --signals logs,metrics --items "${OTHER_ITEMS:-$((SPANS / 2))}" --concurrency 4 --batch-size 512 --quiet $SHAPE >/dev/null
  while ! curl -s 127.0.0.1:$API/metrics | grep -qx 'ollyscale_wal_records 0'; do sleep 0.2; done
  python3 bench/api.py http://127.0.0.1:$API "$URL" "${API_BENCH}"
fi
if [ "$SIGNAL" = traces ] && [ -z "${SKIP_STORAGE:-}" ]; then
  psql -X -q "$URL" -v out="$WORK/pg/spans.bin" -f bench/storage.sql
  # The COPY file is written by the server process.
fi
