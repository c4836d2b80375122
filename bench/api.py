#!/usr/bin/env python3
"""Latency of the query API's endpoints against a loaded database: N requests each, p50/p95/p99.

   bench/api.py http://127.0.0.1:28080 postgres://postgres@127.0.0.1:55999/postgres [N]
ONLY=word,word (environment) runs just the endpoints whose name contains one of the words.
Trace ids and services are sampled from the database (psql). The time window is the last hour of each
signal's data (ending at its newest record, or now when there is none), so that signals loaded one after
the other are each measured over the hour that holds them.
MODES=asis,analyzed,cold (environment, default asis) measures the endpoints once per mode, side by side:
  asis      the statistics as they are (straight after a load: what autovacuum and the server have done so far);
  analyzed  after ANALYZE of the newest partitions (those of the measured windows' days) and of their parents;
  cold      with those partitions' and parents' statistics removed (pg_statistic rows deleted, reltuples -1,
            autovacuum off for them while measuring; analyzed again afterwards). Needs a superuser URL.
  stale     with each of those partitions carrying the statistics of its oldest tenth (by its partition key):
            the tenth is copied to a scratch table and analyzed, and its pg_statistic rows and row and page
            counts replace the partition's (matched by column name), as if the last ANALYZE ran when the
            partition held a tenth of its rows; autovacuum off for them while measuring, analyzed again
            afterwards. Needs a superuser URL."""
import datetime, json, os, random, subprocess, sys, time, urllib.parse, urllib.request, urllib.error

api, url = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
random.seed(1)

def sql(q):
    return subprocess.run(["psql", "-X", "-qtA", url, "-c", q], capture_output=True, text=True, check=True).stdout.split()

trace_ids = sql("SELECT encode(trace_id, 'hex') FROM otel_spans_fact TABLESAMPLE SYSTEM (1) LIMIT 500")
services = sql("SELECT DISTINCT service_name FROM otel_resources_dim WHERE service_name IS NOT NULL")
counts = sql("SELECT (SELECT count(*) FROM otel_spans_fact), (SELECT count(*) FROM otel_logs_fact), "
             "(SELECT count(*) FROM otel_metrics_data_points_number) + (SELECT count(*) FROM otel_metrics_data_points_histogram)"
             " + (SELECT count(*) FROM otel_metrics_data_points_exp_histogram) + (SELECT count(*) FROM otel_metrics_data_points_summary)")
print(f"dataset: {counts[0] if counts else '?'} (spans|logs|points)")
now = time.time_ns()

def window(newest_sql):
    """from=...&to=... covering the hour up to the newest record that `newest_sql` finds (unix nanoseconds)."""
    got = sql(newest_sql)
    end = int(got[0]) + 1 if got and got[0] else now
    return f"from={end - 3600 * 10**9}&to={end}"

tw = window("SELECT (extract(epoch FROM max(start_time)) * 1e9)::bigint FROM otel_spans_fact")
lw = window("SELECT (extract(epoch FROM max(time)) * 1e9)::bigint FROM otel_logs_fact")
mw = window("SELECT (extract(epoch FROM max(time)) * 1e9)::bigint FROM otel_metrics_data_points_number")
# The same hour of traces in the compatibility APIs' units: Jaeger v1 µs (dependencies ms), v3 RFC 3339, Tempo s.
t_from, t_to = (int(x.split("=")[1]) for x in tw.split("&"))
jw = f"start={t_from // 1000}&end={t_to // 1000}"
dw = f"endTs={t_to // 10**6}&lookback=3600000"
iso = lambda ns: urllib.parse.quote(datetime.datetime.fromtimestamp(ns / 1e9, datetime.timezone.utc).isoformat())
v3w = f"query.startTimeMin={iso(t_from)}&query.startTimeMax={iso(t_to)}"
sw = f"start={t_from // 10**9}&end={t_to // 10**9}"
endpoints = {
    "trace by id": lambda: f"/api/v2/traces/{random.choice(trace_ids)}",
    "spans of a trace": lambda: f"/api/v2/traces/{random.choice(trace_ids)}/spans",
    "services (1h)": lambda: f"/api/v2/services?{tw}",
    "operations of a service (1h)": lambda: f"/api/v2/services/{random.choice(services)}/operations?{tw}",
    "service map (1h)": lambda: f"/api/v2/service-map?{tw}",
    "trace search, service (1h)": lambda: f"/api/v2/traces/search?{tw}&service={random.choice(services)}",
    "trace search, min duration (1h)": lambda: f"/api/v2/traces/search?{tw}&min_duration=300ms",
    "trace search, attribute (1h)": lambda: f"/api/v2/traces/search?{tw}&attr=http.route%20eq%20/api/v1/op{random.randrange(30)}",
    "log search, severity (1h)": lambda: f"/api/v2/logs/search?{lw}&min_severity=ERROR",
    "log search, body text (1h)": lambda: f"/api/v2/logs/search?{lw}&body=op{random.randrange(30)}",
    "logs of a trace": lambda: f"/api/v2/logs/trace/{random.choice(trace_ids)}",
    "metric search (1h)": lambda: f"/api/v2/metrics/search?{mw}",
    "metric series, histogram p99 (1h)": lambda: f"/api/v2/metrics/series?{mw}&name=http.server.request.duration&step=60s",
    "metric series, gauge avg (1h)": lambda: f"/api/v2/metrics/series?{mw}&name=system.cpu.utilization&step=60s&agg=avg",
    "jaeger v1 trace by id": lambda: f"/jaeger/api/traces/{random.choice(trace_ids)}",
    "jaeger v1 search, service (1h)": lambda: f"/jaeger/api/traces?{jw}&service={random.choice(services)}&limit=20",
    "jaeger v1 search, tag (1h)": lambda: f"/jaeger/api/traces?{jw}&tag=http.route:/api/v1/op{random.randrange(30)}&limit=20",
    "jaeger v1 dependencies (1h)": lambda: f"/jaeger/api/dependencies?{dw}",
    "jaeger v3 trace by id": lambda: f"/jaeger/api/v3/traces/{random.choice(trace_ids)}",
    "jaeger v3 trace summaries (1h)": lambda: f"/jaeger/api/v3/trace-summaries?{v3w}&query.serviceName={random.choice(services)}&query.searchDepth=20",
    "tempo trace by id (protobuf)": lambda: (f"/tempo/api/v2/traces/{random.choice(trace_ids)}", {"Accept": "application/protobuf"}),
    "tempo traceql search (1h)": lambda: f"/tempo/api/search?{sw}&limit=20&q=" + urllib.parse.quote(f'{{resource.service.name="{random.choice(services)}" && duration > 100ms}}'),
    "metric series, one service (1h)": lambda: f"/api/v2/metrics/series?{mw}&name=http.server.request.duration&step=60s&service={random.choice(services)}",
}
def newest_partitions():
    """The partitions of the measured windows' days, and their partitioned parents."""
    days = set()
    for w in (tw, lw, mw):
        for ns in (int(x.split("=")[1]) for x in w.split("&")):
            days.add(datetime.datetime.fromtimestamp(ns / 1e9, datetime.timezone.utc).strftime("%Y%m%d"))
    rows = sql("SELECT c.relname || ',' || p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
               "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relname ~ '_p(" + "|".join(sorted(days)) + ")$'")
    children = sorted({r.split(",")[0] for r in rows})
    return children, sorted({r.split(",")[1] for r in rows})

def prepare(mode):
    children, parents = newest_partitions()
    if mode == "analyzed":
        sql("ANALYZE " + ", ".join(children + parents))
    elif mode == "stale":
        for t in children:
            sql(f"ALTER TABLE {t} SET (autovacuum_enabled = off)")
            stale_statistics(t)
    elif mode == "cold":
        for t in children:
            sql(f"ALTER TABLE {t} SET (autovacuum_enabled = off)")
        names = ", ".join(f"'{t}'" for t in children + parents)
        sql(f"DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relname IN ({names}))")
        sql(f"UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0 WHERE relname IN ({names}) "
            "AND relkind = 'r'")

def stale_statistics(child):
    """Gives partition `child` the statistics of its oldest tenth (see `stale` above)."""
    key = sql(f"SELECT pg_get_partkeydef(i.inhparent) FROM pg_inherits i WHERE i.inhrelid = '{child}'::regclass")
    column = key[-1].strip("()") if key else None
    total = int(sql(f"SELECT count(*) FROM {child}")[0])
    if not column or total < 10:
        return
    sql(f"DROP TABLE IF EXISTS bench_stale_scratch; CREATE TABLE bench_stale_scratch AS "
        f"SELECT * FROM {child} ORDER BY {column} LIMIT {total // 10}; ANALYZE bench_stale_scratch")
    sql(f"DELETE FROM pg_statistic WHERE starelid = '{child}'::regclass")
    cols = ", ".join(f"s.{c}" for c in sql(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'pg_statistic'::regclass AND attnum > 0 "
        "AND attname NOT IN ('starelid', 'staattnum') ORDER BY attnum"))
    sql(f"INSERT INTO pg_statistic SELECT '{child}'::regclass, p.attnum, {cols} FROM pg_statistic s "
        f"JOIN pg_attribute a ON a.attrelid = s.starelid AND a.attnum = s.staattnum "
        f"JOIN pg_attribute p ON p.attrelid = '{child}'::regclass AND p.attname = a.attname "
        f"WHERE s.starelid = 'bench_stale_scratch'::regclass")
    sql(f"UPDATE pg_class c SET reltuples = s.reltuples, relpages = s.relpages, relallvisible = s.relallvisible "
        f"FROM pg_class s WHERE c.oid = '{child}'::regclass AND s.oid = 'bench_stale_scratch'::regclass")
    sql("DROP TABLE bench_stale_scratch")

def restore(mode):
    if mode in ("cold", "stale"):
        children, parents = newest_partitions()
        for t in children:
            sql(f"ALTER TABLE {t} RESET (autovacuum_enabled)")
        sql("ANALYZE " + ", ".join(children + parents))

def measure(name, make):
    lat, statuses = [], set()
    for _ in range(n):
        target = make()
        path, headers = target if isinstance(target, tuple) else (target, {})
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(api + path, headers=headers)) as r:
                r.read()
                statuses.add(r.status)
        except urllib.error.HTTPError as e:
            e.read()
            statuses.add(e.code)
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * (len(lat) - 1) + 0.5))]
    return q(0.5), q(0.95), q(0.99), sorted(statuses)

modes = [m for m in os.environ.get("MODES", "asis").split(",") if m]
only = [w for w in os.environ.get("ONLY", "").split(",") if w]
chosen = {k: v for k, v in endpoints.items() if not only or any(w in k for w in only)}
results = {}
for mode in modes:
    prepare(mode)
    try:
        for name, make in chosen.items():
            results[(mode, name)] = measure(name, make)
    finally:
        restore(mode)
if len(modes) == 1:
    print(f"{'endpoint':36} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  status")
    for name in chosen:
        p50, p95, p99, st = results[(modes[0], name)]
        print(f"{name:36} {p50:8.1f} {p95:8.1f} {p99:8.1f}  {st}")
else:
    base = "analyzed" if "analyzed" in modes else modes[0]
    print(f"{'endpoint':36} " + " ".join(f"{m + ' p50/p95':>18}" for m in modes) + "  p95 ratio to " + base + "  status")
    for name in chosen:
        cells = " ".join(f"{results[(m, name)][0]:8.1f}/{results[(m, name)][1]:<9.1f}" for m in modes)
        ratios = " ".join(f"{results[(m, name)][1] / max(results[(base, name)][1], 0.01):.2f}" for m in modes if m != base)
        statuses = sorted({s for m in modes for s in results[(m, name)][3]})
        print(f"{name:36} {cells}  {ratios:>16}  {statuses}")
