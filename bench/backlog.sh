#!/usr/bin/env bash
# Memory while draining a WAL backlog, for docs/reliability.md: a throwaway PostgreSQL on this machine is
# migrated and then stopped (an outage), the release server keeps acknowledging `ollyscale loadgen` spans
# into its WAL until the WAL holds BACKLOG_BYTES, then PostgreSQL comes back and the server's resident
# memory (/proc/PID/status) is sampled every 0.5 s until the WAL is empty.
#   bench/backlog.sh [BACKLOG_BYTES]      (default 5368709120 = 5 GiB of WAL on disk)
# SERVE_ARGS adds flags to `serve` ("--batch-max-bytes 8MiB", "--writes-in-flight 1"): the batch settings
# are what bounds the memory, and the summary names the ones in force.
# LOAD_LIMIT (default 1800 s) stops the load generator even if the WAL has not reached BACKLOG_BYTES by then;
# the summary gives the backlog that was reached. DRAIN_LIMIT (default 7200 s) gives up on a drain that takes
# longer.
# TRIM_BYTES (default 4 GiB; 0 keeps everything): whenever PostgreSQL's database passes this size during the
# drain, the span tables are truncated, so that a backlog whose rows would not fit on the disk (a WAL byte
# becomes 8-12 bytes of stored spans with the default shape) can still be drained. The server's work is
# the same (every span is decoded, encoded and copied in); PostgreSQL's tables stay small, so the drain rate
# is not an end-to-end figure (bench/e2e.sh gives those).
# PORT (default 56999) is PostgreSQL's port, and the server listens on PORT-31682 (gRPC), +1, and
# PORT-27919 (API), so that this and bench/e2e.sh (default 55999) can share the machine.
# KEEP=1 leaves the drained PostgreSQL running and the work directory (server log, RSS samples) in place at
# the end (the server is stopped) and prints how to stop and remove them.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKLOG_BYTES=${1:-${BACKLOG_BYTES:-5368709120}}
LOAD_LIMIT=${LOAD_LIMIT:-1800}
TRIM_BYTES=${TRIM_BYTES:-4294967296}
DRAIN_LIMIT=${DRAIN_LIMIT:-7200}
PORT=${PORT:-56999}
GRPC=$((PORT - 31682)); HTTP=$((GRPC + 1)); API=$((PORT - 27919))
read -ra SERVE_EXTRA <<<"${SERVE_ARGS:-}"
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --bin ollyscale
  BIN=target/release/ollyscale
fi
PGBIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -1)
WORK=$(mktemp -d /tmp/ollyscale-backlog.XXXX)
chmod 755 "$WORK"

# The WAL, PostgreSQL's copy of the same spans (up to TRIM_BYTES) and PostgreSQL's own WAL (max_wal_size
# and some) all land on this disk.
AVAIL=$(df -B1 --output=avail "$WORK" | tail -1 | tr -d ' ')
STORED=$((BACKLOG_BYTES * 12))
if [ "$TRIM_BYTES" -gt 0 ] && [ "$TRIM_BYTES" -lt "$STORED" ]; then STORED=$((TRIM_BYTES + TRIM_BYTES / 4)); fi
NEED=$((BACKLOG_BYTES + STORED + (6 << 30)))
if [ "$AVAIL" -lt "$NEED" ] && [ -z "${FORCE:-}" ]; then
  rmdir "$WORK"
  echo "$((AVAIL >> 20)) MiB free under /tmp, about $((NEED >> 20)) MiB needed for a $((BACKLOG_BYTES >> 20)) MiB backlog (FORCE=1 to try anyway)" >&2
  exit 1
fi

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_start() {
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -o "-p $PORT -k $WORK/pg -c shared_buffers=1GB -c max_wal_size=4GB ${PGOPTS:-}" \
    -l "$WORK/pg/log" start >/dev/null
}
pg_stop() { as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" stop -m fast >/dev/null; }
mkdir "$WORK/pg"; if [ "$(id -u)" = 0 ]; then chown postgres "$WORK/pg"; fi
as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U postgres >/dev/null
pg_start
URL=postgres://postgres@127.0.0.1:$PORT/postgres
SERVER=; LOADGEN=; TRIMMER=
cleanup() {
  if [ -n "$LOADGEN" ]; then kill "$LOADGEN" 2>/dev/null || true; fi
  if [ -n "$TRIMMER" ]; then kill "$TRIMMER" 2>/dev/null || true; fi
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then
    echo "KEEP=1: PostgreSQL left running at $URL, server log and RSS samples in $WORK"
    echo "  stop and remove: $( [ "$(id -u)" = 0 ] && echo 'runuser -u postgres -- ')$PGBIN/pg_ctl -D $WORK/pg/data stop -m fast && rm -rf $WORK"
    return
  fi
  pg_stop 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" migrate --database-url "$URL" >/dev/null
pg_stop
"$BIN" serve --data-dir "$WORK/data" --database-url "$URL" --wal-budget 50GiB \
  --grpc-listen "127.0.0.1:$GRPC" --http-listen "127.0.0.1:$HTTP" --api-listen "127.0.0.1:$API" \
  "${SERVE_EXTRA[@]}" 2>"$WORK/serve.log" &
SERVER=$!

metrics() { curl -sf "127.0.0.1:$API/metrics"; }
# The value of one metric line (name with its labels, as printed), 0 when it is absent.
metric() { metrics | awk -v m="$1" '$1 == m { v = $2 } END { printf "%.0f\n", v }'; }
kib() { awk '/^'"$1"':/ { print $2 }' "/proc/$SERVER/status"; }
now() { date +%s.%N; }
mib() { echo "$(($1 >> 10)) MiB"; }
for _ in $(seq 100); do metrics >/dev/null 2>&1 && break; sleep 0.2; done
metrics >/dev/null

# Loading during the outage: a bounded load (count and time) that is stopped once the WAL is big enough.
LOAD0=$(now)
"$BIN" loadgen --endpoint "http://127.0.0.1:$GRPC" --signals traces --items 1000000000 --concurrency 4 \
  --batch-size 512 --duration "${LOAD_LIMIT}s" 2>"$WORK/loadgen.log" >/dev/null &
LOADGEN=$!
LOAD_PEAK=0
echo -e "seconds\tvmrss_kib\twal_records\twal_bytes" >"$WORK/load.tsv"
while kill -0 "$LOADGEN" 2>/dev/null; do
  bytes=$(metric ollyscale_wal_bytes); rss=$(kib VmRSS)
  echo -e "$(echo "$(now) - $LOAD0" | bc)\t$rss\t$(metric ollyscale_wal_records)\t$bytes" >>"$WORK/load.tsv"
  [ "$rss" -gt "$LOAD_PEAK" ] && LOAD_PEAK=$rss
  [ "$bytes" -ge "$BACKLOG_BYTES" ] && break
  sleep 1
done
kill "$LOADGEN" 2>/dev/null || true
wait "$LOADGEN" 2>/dev/null || true
LOADGEN=
LOAD1=$(now)
# The WAL's journal is counted until it is flushed into (compressed) segments: wait until the size settles.
last=-1
for _ in $(seq 30); do
  bytes=$(metric ollyscale_wal_bytes); [ "$bytes" = "$last" ] && break; last=$bytes; sleep 2
done
RECORDS=$(metric ollyscale_wal_records)
BYTES=$(metric ollyscale_wal_bytes)
SPANS=$(metric 'ollyscale_items_accepted_total{signal="traces"}')
echo "backlog: $RECORDS WAL records, $BYTES bytes ($(echo "scale=2; $BYTES / 1073741824" | bc) GiB) on disk once settled," \
  "$SPANS spans acknowledged, loaded in $(printf %.1f "$(echo "$LOAD1 - $LOAD0" | bc)") s" \
  "(target $BACKLOG_BYTES bytes)"
echo "server RSS while loading: peak $(mib "$LOAD_PEAK"), now $(mib "$(kib VmRSS)")"

# Empties the span tables whenever the database passes TRIM_BYTES; a lock wait that would hold the server's
# writes up for long gives up and tries again at the next look.
trim() {
  while sleep 5; do
    size=$(psql -X -At "$URL" -c "SELECT pg_database_size(current_database())" 2>/dev/null) || continue
    [ "$size" -gt "$TRIM_BYTES" ] || continue
    psql -X -q -v ON_ERROR_STOP=1 "$URL" >/dev/null 2>&1 <<'SQL' && echo "$size" >>"$WORK/trims"
SET lock_timeout = '5s';
SELECT 'TRUNCATE ' || string_agg(oid::regclass::text, ', ') FROM pg_class WHERE relkind = 'p' AND relname ~ '^otel_span' \gexec
SQL
  done
}

# The database comes back; the WAL drains while the server's memory is sampled.
SAMPLES=$WORK/rss.tsv
echo -e "seconds\tvmrss_kib\trss_anon_kib\trss_file_kib\twal_records" >"$SAMPLES"
ROWS0=$(metric 'ollyscale_rows_written_total{table="otel_spans_fact"}')
BATCHES0=$(metric ollyscale_batches_written_total); FIRST=
DRAIN0=$(now)
pg_start
if [ "$TRIM_BYTES" -gt 0 ]; then trim & TRIMMER=$!; fi
PEAK=0; PEAK_ANON=0; PEAK_FILE=0; NEXT_PRINT=30
while :; do
  m=$(metrics)
  left=$(awk '$1 == "ollyscale_wal_records" { print $2 }' <<<"$m")
  t=$(echo "$(now) - $DRAIN0" | bc)
  if [ -z "$FIRST" ] && [ "$(awk '$1 == "ollyscale_batches_written_total" { print $2 }' <<<"$m")" -gt "$BATCHES0" ]; then
    FIRST=$t
  fi
  rss=$(kib VmRSS); anon=$(kib RssAnon); file=$(kib RssFile)
  echo -e "$t\t$rss\t$anon\t$file\t$left" >>"$SAMPLES"
  [ "$rss" -gt "$PEAK" ] && PEAK=$rss
  [ "$anon" -gt "$PEAK_ANON" ] && PEAK_ANON=$anon
  [ "$file" -gt "$PEAK_FILE" ] && PEAK_FILE=$file
  [ "$left" -eq 0 ] && break
  if [ "$(printf %.0f "$t")" -ge "$DRAIN_LIMIT" ]; then
    echo "the WAL still holds $left records after DRAIN_LIMIT=$DRAIN_LIMIT s; giving up (peak RSS so far $(mib "$PEAK"))" >&2
    exit 1
  fi
  if [ "$(printf %.0f "$t")" -ge "$NEXT_PRINT" ]; then
    echo "  $(printf %.0f "$t") s: $left records left, RSS $(mib "$rss")"
    NEXT_PRINT=$((NEXT_PRINT + 30))
  fi
  sleep 0.5
done
DRAIN1=$(now)
if [ -n "$TRIMMER" ]; then kill "$TRIMMER" 2>/dev/null || true; wait "$TRIMMER" 2>/dev/null || true; TRIMMER=; fi
DRAIN=$(echo "$DRAIN1 - $DRAIN0" | bc)
WRITTEN=$(($(metric 'ollyscale_rows_written_total{table="otel_spans_fact"}') - ROWS0))
# The server retries its database with a growing back-off during an outage, so the first commit can come
# some seconds after PostgreSQL is back: the rate is from that commit on (the first batch's spans included).
echo "drain: $RECORDS records, $WRITTEN spans written in $(printf %.1f "$DRAIN") s from PostgreSQL's start," \
  "first batch committed at $(printf %.1f "$FIRST") s; $(echo "$WRITTEN / ($DRAIN - $FIRST)" | bc) spans/s from then"
echo "server RSS while draining: peak $(mib "$PEAK") (peak RssAnon $(mib "$PEAK_ANON"), RssFile $(mib "$PEAK_FILE"))," \
  "$(($(wc -l <"$SAMPLES") - 1)) samples; VmHWM over the server's life $(mib "$(kib VmHWM)")"
echo "batch settings: defaults (--batch-max-records 512 --batch-max-bytes 32MiB --batch-max-delay 100ms" \
  "--writes-in-flight 2) overridden by: ${SERVE_ARGS:-nothing}"
if [ -s "$WORK/trims" ]; then
  echo "span tables truncated $(wc -l <"$WORK/trims") times during the drain, each time past TRIM_BYTES=$TRIM_BYTES"
fi
metrics | grep -E '^ollyscale_(batches_written_total|write_retries_total|dead_letter|items_rejected_total)' || true
