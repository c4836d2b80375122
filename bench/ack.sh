#!/usr/bin/env bash
# Receive-path benchmark for docs/benchmarks.md: the release server with a database that does not answer
# (nothing drains the WAL, so this measures receive + decode + validate + durable append), and `loadgen`
# over OTLP/gRPC with 8 exporters of 512-span requests, 16 distinct pre-encoded requests each.
#   bench/ack.sh [sync|buffered] [loadgen flags...]     e.g. bench/ack.sh sync --items 2000000 --rate 100000
# BIN is the binary (default: builds target/release/ollyscale).
set -euo pipefail
cd "$(dirname "$0")/.."
DURABILITY=${1:-sync}
shift || true
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --bin ollyscale
  BIN=target/release/ollyscale
fi
DATA=$(mktemp -d /tmp/ollyscale-ack.XXXX)
$BIN serve --data-dir "$DATA" --database-url postgres://postgres@127.0.0.1:1/none --wal-budget 50GiB \
  --wal-durability "$DURABILITY" --grpc-listen 127.0.0.1:14317 --http-listen 127.0.0.1:14318 \
  --api-listen 127.0.0.1:14380 2>/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:14380/readyz >/dev/null && break; sleep 0.2; done
$BIN loadgen --endpoint http://127.0.0.1:14317 --concurrency 8 --batch-size 512 --distinct 16 --quiet "$@"
# The server's own view (decoded request to durable append, without the client, the transport and the
# decoding): the share of requests within each latency bucket.
curl -s http://127.0.0.1:14380/metrics | awk -F'[{}" ]+' '
  /^ollyscale_ack_latency_seconds_bucket/ { le[++n] = $3; c[n] = $NF }
  /^ollyscale_ack_latency_seconds_count/ { total = $NF }
  END { if (total > 0) { printf "server-side  "; for (i = 1; i <= n && le[i] + 0 <= 0.1; i++) printf "<=%gms %.1f%%  ", le[i] * 1000, 100 * c[i] / total; print "" } }'
