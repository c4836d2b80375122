#!/usr/bin/env bash
# Smoke test of a running ollyscale: sends the OTLP specification's example requests for traces, logs and
# metrics over OTLP/HTTP JSON, then reads them back through /api/v2 and compares the counts.
#
#   deploy/smoke-test.sh [OTLP_HTTP_URL] [API_URL]     (defaults: http://127.0.0.1:4318 http://127.0.0.1:8080)
#
# The requests are the specification's examples kept in tests/data/otlp/. Each run uses its own service
# name and trace and span ids, with the timestamps moved to now, so runs do not see each other's data.
# OLLYSCALE_AUTH_TOKEN, when set, is sent as the bearer token; SMOKE_TIMEOUT (seconds, default 60) bounds
# the wait for the data to be loaded. Exits 0 when every count matches, 1 with what differed otherwise.
# Needs bash and python3 (standard library only).
set -euo pipefail

otlp_url="${1:-http://127.0.0.1:4318}"
api_url="${2:-http://127.0.0.1:8080}"
examples="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/data/otlp"

exec python3 - "$otlp_url" "$api_url" "$examples" <<'PY'
import json, os, secrets, sys, time, urllib.error, urllib.parse, urllib.request

otlp_url, api_url, examples = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/"), sys.argv[3]
token = os.environ.get("OLLYSCALE_AUTH_TOKEN", "")
timeout = float(os.environ.get("SMOKE_TIMEOUT", "60"))
service = "smoke-" + secrets.token_hex(6)
now = time.time_ns()
ids = {}  # example id -> this run's id, so that the logs still point at the trace


def fail(message):
    print(f"smoke test FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def rewrite(node, shift):
    """Moves every timestamp by `shift`, renames the service, gives every trace and span id a fresh value."""
    if isinstance(node, list):
        return [rewrite(n, shift) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key.endswith("UnixNano") and int(value) != 0:
            out[key] = str(int(value) + shift)
        elif key in ("traceId", "spanId", "parentSpanId") and value:
            out[key] = ids.setdefault(value.lower(), secrets.token_hex(len(value) // 2))
        elif key == "key" and node.get("key") == "service.name" and "value" in node:
            return {"key": "service.name", "value": {"stringValue": service}}
        else:
            out[key] = rewrite(value, shift)
    return out


def timestamps(node):
    if isinstance(node, list):
        for n in node:
            yield from timestamps(n)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("UnixNano") and int(value) != 0:
                yield int(value)
            else:
                yield from timestamps(value)


def request(method, url, body=None):
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        fail(f"{method} {url}: {e}")


def load(name):
    with open(os.path.join(examples, name)) as f:
        data = json.load(f)
    return rewrite(data, now - max(timestamps(data)))


def items(data, outer, inner, leaf):
    return [x for r in data[outer] for s in r[inner] for x in s[leaf]]


sent = {
    "traces": [load("trace.json")],
    "logs": [load("logs.json"), load("events.json")],
    "metrics": [load("metrics.json")],
}
for signal, requests in sent.items():
    for body in requests:
        status, text = request("POST", f"{otlp_url}/v1/{signal}", json.dumps(body).encode())
        if status != 200:
            fail(f"POST /v1/{signal} answered {status}: {text.strip()}")
        rejected = json.loads(text or "{}").get("partialSuccess", {})
        if any(int(v) for k, v in rejected.items() if k.startswith("rejected")):
            fail(f"POST /v1/{signal} rejected part of the example: {text.strip()}")

spans = [s for body in sent["traces"] for s in items(body, "resourceSpans", "scopeSpans", "spans")]
trace_ids = sorted({s["traceId"] for s in spans})
log_count = sum(len(items(body, "resourceLogs", "scopeLogs", "logRecords")) for body in sent["logs"])
metric_names = sorted({m["name"] for m in items(sent["metrics"][0], "resourceMetrics", "scopeMetrics", "metrics")})
window = urllib.parse.urlencode({"from": str(now - 3600 * 10**9), "service": service, "limit": "1000"})


def found():
    """What the API returns for this run, per signal (None while the API is not answering)."""
    counts = {}
    n = 0
    for tid in trace_ids:
        status, text = request("GET", f"{api_url}/api/v2/traces/{tid}/spans")
        if status == 200:
            n += len(json.loads(text)["spans"])
        elif status != 404:
            return None, f"GET /api/v2/traces/{tid}/spans answered {status}: {text.strip()}"
    counts["spans"] = n
    status, text = request("GET", f"{api_url}/api/v2/logs/search?{window}")
    if status != 200:
        return None, f"GET /api/v2/logs/search answered {status}: {text.strip()}"
    counts["log records"] = len(json.loads(text)["logs"])
    status, text = request("GET", f"{api_url}/api/v2/metrics/search?{window}")
    if status != 200:
        return None, f"GET /api/v2/metrics/search answered {status}: {text.strip()}"
    counts["metrics"] = sorted(m["name"] for m in json.loads(text)["metrics"])
    return counts, None


expected = {"spans": len(spans), "log records": log_count, "metrics": metric_names}
deadline = time.monotonic() + timeout
while True:
    counts, error = found()
    if counts == expected:
        break
    if time.monotonic() > deadline:
        if error:
            fail(error)
        diffs = [f"{k}: sent {expected[k]}, the API returned {counts[k]}" for k in expected if counts[k] != expected[k]]
        fail(f"after {timeout:.0f}s (service {service}): " + "; ".join(diffs))
    time.sleep(0.5)

print(
    f"smoke test passed (service {service}): {len(spans)} spans, {log_count} log records, "
    f"{len(metric_names)} metrics sent and read back"
)
PY
