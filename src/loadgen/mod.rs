//! `ollyscale loadgen`: synthetic OTLP traffic for benchmarks and demos, with an acknowledgement-latency
//! summary at the end.

pub mod generate;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, ValueEnum};
use prost::Message;
use tokio::sync::Mutex;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

use crate::units::HumanDuration;
use generate::{Generator, Shape};

/// Transport and encoding of the generated exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// OTLP/gRPC.
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    HttpJson,
}

/// Which signal to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LoadSignal {
    /// Spans.
    Traces,
    /// Log records correlated with spans.
    Logs,
    /// Data points of all five metric types.
    Metrics,
}

/// Arguments of `ollyscale loadgen`.
#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// Receiver address, e.g. http://127.0.0.1:4317 (gRPC) or http://127.0.0.1:4318 (HTTP).
    #[arg(long, default_value = "http://127.0.0.1:4317")]
    pub endpoint: String,
    /// Transport and encoding.
    #[arg(long, value_enum, default_value = "grpc")]
    pub protocol: Protocol,
    /// Signals to send, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "traces")]
    pub signals: Vec<LoadSignal>,
    /// Items (spans, log records, data points) per export request.
    #[arg(long, default_value_t = 512)]
    pub batch_size: usize,
    /// Concurrent exporters.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Target items per second across all exporters; 0 sends as fast as acknowledgements allow.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Stop after this many items (per signal); 0 for no limit.
    #[arg(long, default_value_t = 100_000)]
    pub items: u64,
    /// Stop after this long, e.g. 30s.
    #[arg(long)]
    pub duration: Option<HumanDuration>,
    /// Distinct services.
    #[arg(long, default_value_t = 20)]
    pub services: usize,
    /// Distinct operations per service.
    #[arg(long, default_value_t = 30)]
    pub operations: usize,
    /// Spans per trace.
    #[arg(long, default_value_t = 8)]
    pub spans_per_trace: usize,
    /// Extra attributes per span and log record.
    #[arg(long, default_value_t = 6)]
    pub attributes: usize,
    /// Distinct values of high-cardinality attributes.
    #[arg(long, default_value_t = 10_000)]
    pub cardinality: u64,
    /// Data time between two points of a metric series, like an SDK's export interval: a load of N points
    /// is stamped over the N / series intervals that end now.
    #[arg(long, default_value = "10s")]
    pub metric_interval: HumanDuration,
    /// Compress requests with gzip.
    #[arg(long)]
    pub gzip: bool,
    /// Seed of the generator: the same seed sends the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Distinct requests per exporter, generated and encoded once then sent in turn, so that the generator
    /// does not compete with the server for CPU in benchmarks; 0 generates every request afresh.
    #[arg(long, default_value_t = 0)]
    pub distinct: usize,
    /// Bearer token to send.
    #[arg(long, env = "OLLYSCALE_LOADGEN_TOKEN")]
    pub token: Option<String>,
    /// No progress lines, only the summary.
    #[arg(long)]
    pub quiet: bool,
}

/// Counters shared by the exporters.
#[derive(Default)]
struct Progress {
    sent: AtomicU64,
    acknowledged: AtomicU64,
    rejected: AtomicU64,
    failed_requests: AtomicU64,
}

/// What a run achieved.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Items sent.
    pub sent: u64,
    /// Items acknowledged (accepted, not rejected).
    pub acknowledged: u64,
    /// Items refused: partial-success rejections and failed requests.
    pub rejected: u64,
    /// Export requests that failed as a whole.
    pub failed_requests: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Acknowledgement latencies of successful requests, sorted.
    pub latencies: Vec<Duration>,
}

impl Summary {
    /// Latency at quantile `q` (0..=1).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(f, "sent          {}", self.sent)?;
        writeln!(f, "acknowledged  {}", self.acknowledged)?;
        writeln!(f, "rejected      {} (failed requests: {})", self.rejected, self.failed_requests)?;
        writeln!(f, "elapsed       {:.2}s", secs)?;
        writeln!(f, "throughput    {:.0} items/s acknowledged", self.acknowledged as f64 / secs)?;
        write!(
            f,
            "ack latency   p50 {:.2}ms  p90 {:.2}ms  p99 {:.2}ms  max {:.2}ms",
            ms(self.quantile(0.5)),
            ms(self.quantile(0.9)),
            ms(self.quantile(0.99)),
            ms(self.latencies.last().copied().unwrap_or_default())
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One export: a request of `items` items in both encodings' source form.
enum Request {
    Traces(opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest),
    Logs(opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest),
    Metrics(opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest),
}

/// A request encoded for the wire, ready to be sent (again).
#[derive(Clone)]
struct Encoded {
    signal: crate::otlp::Signal,
    items: u64,
    body: Bytes,
}

impl Request {
    /// Encodes the request in the protocol's encoding (JSON for OTLP/HTTP JSON, protobuf otherwise).
    fn encode(self, protocol: Protocol) -> anyhow::Result<Encoded> {
        use crate::otlp::{OtlpRequest, Signal};
        fn enc<T: OtlpRequest + serde::Serialize>(r: &T, protocol: Protocol) -> anyhow::Result<Bytes> {
            Ok(if protocol == Protocol::HttpJson {
                Bytes::from(serde_json::to_vec(r)?)
            } else {
                Bytes::from(r.encode_to_vec())
            })
        }
        let (signal, items, body) = match &self {
            Request::Traces(r) => (Signal::Traces, r.item_count(), enc(r, protocol)?),
            Request::Logs(r) => (Signal::Logs, r.item_count(), enc(r, protocol)?),
            Request::Metrics(r) => (Signal::Metrics, r.item_count(), enc(r, protocol)?),
        };
        Ok(Encoded { signal, items: items as u64, body })
    }
}

/// A connection to the receiver in the chosen protocol.
#[derive(Clone)]
enum Client {
    Grpc(Channel),
    Http(reqwest::Client),
}

/// Runs the load described by `args` and returns its summary.
pub async fn run(args: LoadArgs) -> anyhow::Result<Summary> {
    let client = match args.protocol {
        Protocol::Grpc => Client::Grpc(Channel::from_shared(args.endpoint.clone())?.connect().await?),
        _ => Client::Http(reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?),
    };
    let progress = Arc::new(Progress::default());
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = args.duration.map(|d| started + d.0);
    let shape = Shape {
        services: args.services,
        operations: args.operations,
        spans_per_trace: args.spans_per_trace,
        attributes: args.attributes,
        cardinality: args.cardinality,
    };
    let total_limit = if args.items == 0 { u64::MAX } else { args.items.saturating_mul(args.signals.len() as u64) };
    let issued = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    // Each exporter owns every concurrency-th service's metric series, so no series gets points from two
    // exporters; the rounds needed for the points asked for end now.
    let exporters = args.concurrency.max(1);
    let series = shape.metric_series() as u64;
    let metric_interval = u64::try_from(args.metric_interval.0.as_nanos()).unwrap_or(u64::MAX).max(1);
    let rounds = if args.items == 0 { 1 } else { args.items.div_ceil(series) };
    let metric_start =
        crate::time::now_unix_nanos().saturating_sub(rounds.saturating_sub(1).saturating_mul(metric_interval));
    for worker in 0..exporters {
        let own_services: Vec<usize> = (worker..args.services.max(1)).step_by(exporters).collect();
        let args = args.clone();
        let client = client.clone();
        let progress = progress.clone();
        let latencies = latencies.clone();
        let stop = stop.clone();
        let issued = issued.clone();
        let shape = shape.clone();
        tasks.push(tokio::spawn(async move {
            let generator = Generator::new(shape, args.seed.wrapping_mul(1_000_003).wrapping_add(worker as u64));
            let mut generator = generator.with_metric_stream(own_services, metric_start, metric_interval);
            let per_worker_rate = args.rate as f64 / exporters as f64;
            // A paced exporter sends on its own schedule, offset from the others' by a fraction of its period:
            // independent SDKs and collectors do not send in step, and exporters that all woke at the same
            // moment made bursts that queued behind each other (a p99 several times the p50 in the
            // acknowledgement benchmark).
            let mut next_send = (per_worker_rate > 0.0).then(|| {
                let period = args.batch_size as f64 / per_worker_rate;
                tokio::time::Instant::now() + Duration::from_secs_f64(period * worker as f64 / exporters as f64)
            });
            let mut round = 0usize;
            let mut pool: Vec<Encoded> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let signal = args.signals[round % args.signals.len()];
                round += 1;
                let request = if args.distinct > 0 && pool.len() >= args.distinct {
                    pool[round % pool.len()].clone()
                } else {
                    let request = match signal {
                        LoadSignal::Traces => Request::Traces(generator.traces(args.batch_size).0),
                        LoadSignal::Logs => {
                            // Logs come from traces, so ask for enough spans to yield a full batch.
                            let mut logs = generator.traces(args.batch_size * 3).1;
                            trim_logs(&mut logs, args.batch_size);
                            Request::Logs(logs)
                        }
                        LoadSignal::Metrics => Request::Metrics(generator.metrics(args.batch_size)),
                    };
                    match request.encode(args.protocol) {
                        Ok(encoded) => encoded,
                        Err(e) => {
                            eprintln!("cannot encode a request: {e}");
                            break;
                        }
                    }
                };
                if args.distinct > 0 && pool.len() < args.distinct {
                    pool.push(request.clone());
                }
                let n = request.items;
                if n == 0 {
                    // An exporter that owns no metric series (more exporters than services) has nothing to send.
                    break;
                }
                if issued.fetch_add(n, Ordering::Relaxed) >= total_limit {
                    break;
                }
                if let Some(at) = next_send.as_mut() {
                    let now = tokio::time::Instant::now();
                    if *at > now {
                        tokio::time::sleep_until(*at).await;
                    } else if now - *at > Duration::from_secs(1) {
                        // Far behind (the server pushed back): resume the pace instead of a catch-up burst.
                        *at = now;
                    }
                    *at += Duration::from_secs_f64(n as f64 / per_worker_rate);
                }
                let t0 = Instant::now();
                let result = send(&client, &args, &request).await;
                let latency = t0.elapsed();
                progress.sent.fetch_add(n, Ordering::Relaxed);
                match result {
                    Ok(rejected) => {
                        progress.acknowledged.fetch_add(n.saturating_sub(rejected), Ordering::Relaxed);
                        progress.rejected.fetch_add(rejected, Ordering::Relaxed);
                        latencies.lock().await.push(latency);
                    }
                    Err(e) => {
                        progress.rejected.fetch_add(n, Ordering::Relaxed);
                        if progress.failed_requests.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("export failed: {e}");
                        }
                    }
                }
            }
        }));
    }
    let reporter = {
        let progress = progress.clone();
        let quiet = args.quiet;
        tokio::spawn(async move {
            let mut last = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if quiet {
                    continue;
                }
                let acked = progress.acknowledged.load(Ordering::Relaxed);
                eprintln!(
                    "[{:>5.1}s] sent {} acknowledged {} rejected {} ({} items/s)",
                    started.elapsed().as_secs_f64(),
                    progress.sent.load(Ordering::Relaxed),
                    acked,
                    progress.rejected.load(Ordering::Relaxed),
                    acked - last
                );
                last = acked;
            }
        })
    };
    for t in tasks {
        let _ = t.await;
    }
    stop.store(true, Ordering::Relaxed);
    reporter.abort();
    let mut latencies = std::mem::take(&mut *latencies.lock().await);
    latencies.sort();
    Ok(Summary {
        sent: progress.sent.load(Ordering::Relaxed),
        acknowledged: progress.acknowledged.load(Ordering::Relaxed),
        rejected: progress.rejected.load(Ordering::Relaxed),
        failed_requests: progress.failed_requests.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        latencies,
    })
}

fn trim_logs(logs: &mut opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest, max: usize) {
    let mut left = max;
    for rl in &mut logs.resource_logs {
        for sl in &mut rl.scope_logs {
            sl.log_records.truncate(left);
            left -= sl.log_records.len();
        }
    }
    logs.resource_logs.retain(|rl| rl.scope_logs.iter().any(|sl| !sl.log_records.is_empty()));
}

/// Sends one export; returns the number of items the receiver rejected (partial success).
async fn send(client: &Client, args: &LoadArgs, request: &Encoded) -> anyhow::Result<u64> {
    use crate::otlp::Signal;
    let response = match client {
        Client::Grpc(channel) => {
            // Raw bytes over tonic: the request is encoded once, however often it is sent.
            let mut grpc = tonic::client::Grpc::new(channel.clone()).max_encoding_message_size(64 << 20);
            if args.gzip {
                grpc = grpc.send_compressed(CompressionEncoding::Gzip);
            }
            grpc.ready().await?;
            let path = match request.signal {
                Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            };
            let mut req = tonic::Request::new(request.body.clone());
            if let Some(token) = &args.token {
                req.metadata_mut().insert("authorization", format!("Bearer {token}").parse()?);
            }
            let codec = crate::receive::grpc::BytesCodec;
            grpc.unary(req, http::uri::PathAndQuery::from_static(path), codec).await?.into_inner()
        }
        Client::Http(http) => {
            let content_type =
                if args.protocol == Protocol::HttpJson { "application/json" } else { "application/x-protobuf" };
            let mut req = http
                .post(format!("{}/v1/{}", args.endpoint.trim_end_matches('/'), request.signal.as_str()))
                .header("content-type", content_type);
            let body = if args.gzip {
                use std::io::Write;
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(&request.body)?;
                req = req.header("content-encoding", "gzip");
                Bytes::from(enc.finish()?)
            } else {
                request.body.clone()
            };
            if let Some(token) = &args.token {
                req = req.bearer_auth(token);
            }
            let resp = req.body(body).send().await?;
            let status = resp.status();
            let bytes = resp.bytes().await?;
            if !status.is_success() {
                anyhow::bail!("HTTP {status}: {}", String::from_utf8_lossy(&bytes));
            }
            if args.protocol == Protocol::HttpJson {
                let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
                let p = &v["partialSuccess"];
                let rejected = ["rejectedSpans", "rejectedLogRecords", "rejectedDataPoints"]
                    .iter()
                    .find_map(|k| p[k].as_str().and_then(|s| s.parse().ok()).or_else(|| p[k].as_u64()))
                    .unwrap_or(0);
                return Ok(rejected);
            }
            bytes
        }
    };
    use opentelemetry_proto::tonic::collector::{logs, metrics, trace};
    Ok(match request.signal {
        Signal::Traces => trace::v1::ExportTraceServiceResponse::decode(response)?
            .partial_success
            .map_or(0, |p| p.rejected_spans.max(0) as u64),
        Signal::Logs => logs::v1::ExportLogsServiceResponse::decode(response)?
            .partial_success
            .map_or(0, |p| p.rejected_log_records.max(0) as u64),
        Signal::Metrics => metrics::v1::ExportMetricsServiceResponse::decode(response)?
            .partial_success
            .map_or(0, |p| p.rejected_data_points.max(0) as u64),
    })
}
