//! Settings: command-line flags, then `OLLYSCALE_*` environment variables, then an optional TOML
//! config file, then defaults, in that order of precedence.
//!
//! One struct, [`Settings`], is both the clap argument group and the file's schema, so a setting
//! cannot exist in one place and be missing in the other. Every field is optional there; [`Settings::resolve`]
//! layers the sources and fills defaults into a [`Config`].

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::units::{ByteSize, HumanDuration};

/// A setting that could not be used; start-up stops with this message.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or names an unknown or invalid setting.
    #[error("config file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line and the allowed names or values.
        message: String,
    },
    /// An `OLLYSCALE_*` variable that names no setting.
    #[error("unknown environment variable {name}; the settings are: {allowed}")]
    UnknownEnv {
        /// The variable.
        name: String,
        /// The known variables.
        allowed: String,
    },
    /// A value that is out of range or inconsistent with another.
    #[error("invalid setting {name}: {message}")]
    Invalid {
        /// The setting (flag name).
        name: &'static str,
        /// Why.
        message: String,
    },
}

/// How the WAL makes an append durable before the sender gets its answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// fsync before the answer: an acknowledged export survives a power cut.
    #[default]
    Sync,
    /// OS buffers before the answer: survives a crash of this process, not of the machine.
    Buffered,
}

/// Which parts of the server run in this process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Receivers, pipeline and query API.
    #[default]
    All,
    /// Receivers and pipeline only.
    Ingest,
    /// Query API only.
    Api,
}

/// Every setting of the server, as given on the command line, in the environment or in the config file.
#[derive(Args, Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Settings {
    /// TOML config file with any of these settings (snake_case names); flags and environment win over it.
    #[arg(long, env = "OLLYSCALE_CONFIG", global = true)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Directory holding the WAL and the managed PostgreSQL [default: ./ollyscale-data].
    #[arg(long, env = "OLLYSCALE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL to use instead of a managed local one, e.g. postgres://user:pass@host/db.
    #[arg(long, env = "OLLYSCALE_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Which parts run here [default: all].
    #[arg(long, env = "OLLYSCALE_ROLE", global = true)]
    pub role: Option<Role>,
    /// OTLP/gRPC listen address [default: 0.0.0.0:4317].
    #[arg(long, env = "OLLYSCALE_GRPC_LISTEN", global = true)]
    pub grpc_listen: Option<SocketAddr>,
    /// OTLP/HTTP listen address [default: 0.0.0.0:4318].
    #[arg(long, env = "OLLYSCALE_HTTP_LISTEN", global = true)]
    pub http_listen: Option<SocketAddr>,
    /// Query API, health and metrics listen address [default: 0.0.0.0:8080].
    #[arg(long, env = "OLLYSCALE_API_LISTEN", global = true)]
    pub api_listen: Option<SocketAddr>,
    /// Largest accepted export request after decompression, gRPC and HTTP [default: 20MiB].
    #[arg(long, env = "OLLYSCALE_MAX_REQUEST_SIZE", global = true)]
    pub max_request_size: Option<ByteSize>,
    /// WAL durability before acknowledging [default: sync].
    #[arg(long, env = "OLLYSCALE_WAL_DURABILITY", global = true)]
    pub wal_durability: Option<Durability>,
    /// Disk budget of the WAL; beyond it exports get retryable push-back [default: 10GiB].
    #[arg(long, env = "OLLYSCALE_WAL_BUDGET", global = true)]
    pub wal_budget: Option<ByteSize>,
    /// TLS certificate (PEM) for both receivers; needs --tls-key.
    #[arg(long, env = "OLLYSCALE_TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for both receivers; needs --tls-cert.
    #[arg(long, env = "OLLYSCALE_TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Bearer token required on the receivers and the API when set.
    #[arg(long, env = "OLLYSCALE_AUTH_TOKEN", global = true, hide_env_values = true)]
    pub auth_token: Option<String>,
    /// How long spans are kept [default: 7d].
    #[arg(long, env = "OLLYSCALE_RETENTION_TRACES", global = true)]
    pub retention_traces: Option<HumanDuration>,
    /// How long log records are kept [default: 3d].
    #[arg(long, env = "OLLYSCALE_RETENTION_LOGS", global = true)]
    pub retention_logs: Option<HumanDuration>,
    /// How long metric data points are kept [default: 30d].
    #[arg(long, env = "OLLYSCALE_RETENTION_METRICS", global = true)]
    pub retention_metrics: Option<HumanDuration>,
    /// Daily partitions created ahead of today [default: 2].
    #[arg(long, env = "OLLYSCALE_PARTITIONS_AHEAD", global = true)]
    pub partitions_ahead: Option<u32>,
    /// How often `serve` runs partition maintenance [default: 1h].
    #[arg(long, env = "OLLYSCALE_MAINTENANCE_INTERVAL", global = true)]
    pub maintenance_interval: Option<HumanDuration>,
    /// TOML file of attribute promotion rules (which keys go to typed tables, which are dropped)
    /// [default: the shipped OpenTelemetry semantic-convention rules].
    #[arg(long, env = "OLLYSCALE_ATTRIBUTES_CONFIG", global = true)]
    pub attributes_config: Option<PathBuf>,
    /// Most WAL records (export requests) per database batch [default: 512].
    #[arg(long, env = "OLLYSCALE_BATCH_MAX_RECORDS", global = true)]
    pub batch_max_records: Option<usize>,
    /// Most WAL payload bytes (decompressed export requests) per database batch [default: 32MiB].
    #[arg(long, env = "OLLYSCALE_BATCH_MAX_BYTES", global = true)]
    pub batch_max_bytes: Option<ByteSize>,
    /// Longest wait before a partial batch is written [default: 100ms].
    #[arg(long, env = "OLLYSCALE_BATCH_MAX_DELAY", global = true)]
    pub batch_max_delay: Option<HumanDuration>,
    /// Batches written to PostgreSQL at once, each in its own transaction, committed in WAL order [default: 2].
    #[arg(long, env = "OLLYSCALE_WRITES_IN_FLIGHT", global = true)]
    pub writes_in_flight: Option<usize>,
    /// Origins allowed to call the query API from a browser, comma-separated (`*` for any) [default: none].
    #[arg(long, env = "OLLYSCALE_CORS_ORIGINS", global = true, value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,
    /// Widest time window a search may ask for [default: 7d].
    #[arg(long, env = "OLLYSCALE_MAX_QUERY_WINDOW", global = true)]
    pub max_query_window: Option<HumanDuration>,
    /// PostgreSQL statement timeout of every API query [default: 10s].
    #[arg(long, env = "OLLYSCALE_QUERY_TIMEOUT", global = true)]
    pub query_timeout: Option<HumanDuration>,
}

/// The resolved settings, with defaults filled in.
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory holding the WAL and the managed PostgreSQL.
    pub data_dir: PathBuf,
    /// External PostgreSQL, or None for the managed one.
    pub database_url: Option<String>,
    /// Which parts run here.
    pub role: Role,
    /// OTLP/gRPC listen address.
    pub grpc_listen: SocketAddr,
    /// OTLP/HTTP listen address.
    pub http_listen: SocketAddr,
    /// API listen address.
    pub api_listen: SocketAddr,
    /// Largest export request after decompression, bytes.
    pub max_request_size: u64,
    /// WAL durability mode.
    pub wal_durability: Durability,
    /// WAL disk budget, bytes.
    pub wal_budget: u64,
    /// TLS certificate and key, when both are set.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Required bearer token.
    pub auth_token: Option<String>,
    /// Retention of spans.
    pub retention_traces: Duration,
    /// Retention of log records.
    pub retention_logs: Duration,
    /// Retention of metric data points.
    pub retention_metrics: Duration,
    /// Daily partitions created ahead.
    pub partitions_ahead: u32,
    /// Interval of partition maintenance inside `serve`.
    pub maintenance_interval: Duration,
    /// Attribute promotion rules file, or None for the shipped defaults.
    pub attributes_config: Option<PathBuf>,
    /// Most WAL records per database batch.
    pub batch_max_records: usize,
    /// Most WAL payload bytes per database batch.
    pub batch_max_bytes: usize,
    /// Longest wait before a partial batch is written.
    pub batch_max_delay: Duration,
    /// Batches written to PostgreSQL at once.
    pub writes_in_flight: usize,
    /// Origins allowed by CORS on the query API.
    pub cors_origins: Vec<String>,
    /// Widest time window of a search.
    pub max_query_window: Duration,
    /// Statement timeout of API queries.
    pub query_timeout: Duration,
}

impl Config {
    /// Where the WAL lives.
    pub fn wal_dir(&self) -> PathBuf {
        self.data_dir.join("wal")
    }

    /// Where the managed PostgreSQL cluster lives.
    pub fn postgres_dir(&self) -> PathBuf {
        self.data_dir.join("postgres")
    }

    /// Where records PostgreSQL rejected permanently are kept.
    pub fn dead_letter_dir(&self) -> PathBuf {
        self.data_dir.join("dead-letters")
    }
}

/// Stops start-up on an `OLLYSCALE_*` variable that is not among `known` (the variables the command line reads;
/// anything else is most often a typo), given the environment's (name, value) pairs. Kubernetes' service-link variables are let through: a pod sees them
/// for every Service of its namespace, so a Service named `ollyscale` or `ollyscale-*` puts
/// `OLLYSCALE_SERVICE_HOST`, `OLLYSCALE_DB_RW_PORT_5432_TCP_ADDR` and the like into every container.
pub fn check_environment<I: IntoIterator<Item = (String, String)>>(
    vars: I,
    known: &BTreeSet<String>,
) -> Result<(), ConfigError> {
    for (name, value) in vars {
        if name.starts_with("OLLYSCALE_") && !known.contains(&name) && !is_service_link(&name, &value) {
            let allowed = known.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
            return Err(ConfigError::UnknownEnv { name, allowed });
        }
    }
    Ok(())
}

/// Whether `name=value` has the shape of a variable Kubernetes injects for a Service (`enableServiceLinks`):
/// `{SVC}_SERVICE_HOST=<ip>`, `{SVC}_SERVICE_PORT[_{PORT_NAME}]=<port>`, `{SVC}_PORT=<proto>://<ip>:<port>`,
/// `{SVC}_PORT_{N}_{PROTO}=<proto>://<ip>:<N>` and its `_PROTO`, `_PORT` and `_ADDR` parts. The value is
/// checked too, so a mistyped setting such as `OLLYSCALE_GRPC_PORT=4317` is still refused.
fn is_service_link(name: &str, value: &str) -> bool {
    let is_port = |v: &str| v.parse::<u16>().is_ok_and(|p| p > 0);
    let is_ip = |v: &str| v.parse::<std::net::IpAddr>().is_ok();
    let is_proto = |v: &str| matches!(v, "tcp" | "udp" | "sctp");
    // `tcp://10.0.0.1:4317` or `tcp://[fd00::1]:4317`; with `port`, that port exactly.
    let is_url = |v: &str, port: Option<&str>| {
        v.split_once("://").is_some_and(|(proto, addr)| {
            is_proto(proto) && addr.parse::<SocketAddr>().is_ok_and(|a| port.is_none_or(|p| p == a.port().to_string()))
        })
    };
    // `{SVC}_PORT_{N}_{PROTO}[_{PART}]`: the last `_PORT_{N}_` starts the tail.
    let parts: Vec<&str> = name.split('_').collect();
    if let Some(at) = parts.windows(2).rposition(|w| w[0] == "PORT" && is_port(w[1])) {
        let n = parts[at + 1];
        let proto = |p: &str| Some(p.to_ascii_lowercase()).filter(|p| is_proto(p));
        let matched = match &parts[at + 2..] {
            [p] => proto(p).is_some() && is_url(value, Some(n)),
            [p, "PROTO"] => proto(p).is_some_and(|p| value == p),
            [p, "PORT"] => proto(p).is_some() && value == n,
            [p, "ADDR"] => proto(p).is_some() && is_ip(value),
            _ => false,
        };
        if matched {
            return true;
        }
    }
    if name.ends_with("_SERVICE_HOST") {
        is_ip(value)
    } else if name.ends_with("_SERVICE_PORT") || name.contains("_SERVICE_PORT_") {
        is_port(value)
    } else if name.ends_with("_PORT") {
        is_url(value, None)
    } else {
        false
    }
}

/// Reads a TOML config file into [`Settings`], naming the line of any error.
pub fn load_file(path: &Path) -> Result<Settings, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    parse_file(path, &text)
}

fn parse_file(path: &Path, text: &str) -> Result<Settings, ConfigError> {
    toml::from_str::<Settings>(text).map_err(|e| {
        let line =
            e.span().map(|s| text.as_bytes()[..s.start.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1);
        let message = e.message().trim().to_string();
        let message = match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        };
        ConfigError::File { path: path.to_path_buf(), message }
    })
}

impl Settings {
    /// Layers these (flag and environment) settings over the config file's and fills in defaults.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => load_file(path)?,
            None => Settings::default(),
        };
        let s = self.clone().or(file);
        let tls = match (s.tls_cert, s.tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "tls-cert/tls-key",
                    message: "TLS needs both a certificate and a key".into(),
                });
            }
        };
        let max_request_size = s.max_request_size.map_or(20 << 20, |b| b.0);
        if max_request_size == 0 || max_request_size > u32::MAX as u64 {
            return Err(ConfigError::Invalid {
                name: "max-request-size",
                message: format!("{max_request_size} bytes; allowed: 1B to 4GiB"),
            });
        }
        let ret = |v: Option<HumanDuration>, d: u64, name: &'static str| -> Result<Duration, ConfigError> {
            let v = v.map_or(Duration::from_secs(d * 86_400), |s| s.0);
            if v < Duration::from_secs(3600) {
                return Err(ConfigError::Invalid { name, message: format!("{v:?}; retention must be at least 1h") });
            }
            Ok(v)
        };
        // A count or size with its default when unset, refused (naming the setting) outside `allowed`.
        let bounded = |v: Option<u64>, default: u64, allowed: RangeInclusive<u64>, name: &'static str, shown: &str| {
            let v = v.unwrap_or(default);
            if !allowed.contains(&v) {
                return Err(ConfigError::Invalid { name, message: format!("{v}; allowed: {shown}") });
            }
            usize::try_from(v).map_err(|_| ConfigError::Invalid { name, message: format!("{v} is too large here") })
        };
        Ok(Config {
            data_dir: s.data_dir.unwrap_or_else(|| PathBuf::from("ollyscale-data")),
            database_url: s.database_url.filter(|u| !u.is_empty()),
            role: s.role.unwrap_or_default(),
            grpc_listen: s.grpc_listen.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 4317))),
            http_listen: s.http_listen.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 4318))),
            api_listen: s.api_listen.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 8080))),
            max_request_size,
            wal_durability: s.wal_durability.unwrap_or_default(),
            wal_budget: s.wal_budget.map_or(10 << 30, |b| b.0),
            tls,
            auth_token: s.auth_token.filter(|t| !t.is_empty()),
            retention_traces: ret(s.retention_traces, 7, "retention-traces")?,
            retention_logs: ret(s.retention_logs, 3, "retention-logs")?,
            retention_metrics: ret(s.retention_metrics, 30, "retention-metrics")?,
            partitions_ahead: s.partitions_ahead.unwrap_or(2).min(60),
            maintenance_interval: s.maintenance_interval.map_or(Duration::from_secs(3600), |s| s.0),
            attributes_config: s.attributes_config,
            batch_max_records: bounded(
                s.batch_max_records.map(|n| n as u64),
                512,
                1..=100_000,
                "batch-max-records",
                "1 to 100000",
            )?,
            batch_max_bytes: bounded(
                s.batch_max_bytes.map(|b| b.0),
                32 << 20,
                64 << 10..=1 << 30,
                "batch-max-bytes",
                "64KiB to 1GiB",
            )?,
            batch_max_delay: s.batch_max_delay.map_or(Duration::from_millis(100), |s| s.0),
            writes_in_flight: bounded(s.writes_in_flight.map(|n| n as u64), 2, 1..=8, "writes-in-flight", "1 to 8")?,
            cors_origins: s.cors_origins.unwrap_or_default(),
            max_query_window: s.max_query_window.map_or(Duration::from_secs(7 * 86_400), |s| s.0),
            query_timeout: s.query_timeout.map_or(Duration::from_secs(10), |s| s.0),
        })
    }

    /// Each field of `self` where set, else `other`'s.
    fn or(self, other: Settings) -> Settings {
        // Going through JSON keeps this to one line per struct, not per field: unset fields are null.
        let mut mine = serde_json::to_value(&self).unwrap_or_default();
        let theirs = serde_json::to_value(&other).unwrap_or_default();
        if let (Some(mine), Some(theirs)) = (mine.as_object_mut(), theirs.as_object()) {
            for (k, v) in theirs {
                if mine.get(k).is_none_or(|m| m.is_null()) {
                    mine.insert(k.clone(), v.clone());
                }
            }
        }
        let mut merged: Settings = serde_json::from_value(mine).unwrap_or(other);
        merged.config = self.config;
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Settings::default().resolve().unwrap();
        assert_eq!(c.grpc_listen.port(), 4317);
        assert_eq!(c.http_listen.port(), 4318);
        assert_eq!(c.api_listen.port(), 8080);
        assert_eq!(c.data_dir, PathBuf::from("ollyscale-data"));
        assert_eq!(c.max_request_size, 20 << 20);
        assert_eq!(c.wal_durability, Durability::Sync);
        assert_eq!(c.retention_traces, Duration::from_secs(7 * 86_400));
        assert_eq!(c.retention_logs, Duration::from_secs(3 * 86_400));
        assert_eq!(c.retention_metrics, Duration::from_secs(30 * 86_400));
        assert!(c.database_url.is_none());
        assert_eq!(c.writes_in_flight, 2);
        assert_eq!(c.batch_max_bytes, 32 << 20);
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ollyscale.toml");
        std::fs::write(&path, "data_dir = \"/from/file\"\nwal_budget = \"1GiB\"\nwal_durability = \"buffered\"\n")
            .unwrap();
        let s = Settings { config: Some(path), data_dir: Some("/from/flag".into()), ..Default::default() };
        let c = s.resolve().unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from/flag"));
        assert_eq!(c.wal_budget, 1 << 30);
        assert_eq!(c.wal_durability, Durability::Buffered);
    }

    #[test]
    fn unknown_file_setting_names_the_line_and_the_allowed_names() {
        let text = "data_dir = \"x\"\n\nwal_budgett = \"1GiB\"\n";
        let err = parse_file(Path::new("c.toml"), text).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("wal_budgett"), "{err}");
        assert!(err.contains("wal_budget"), "{err}");
    }

    #[test]
    fn invalid_file_value_names_the_allowed_values() {
        let err = parse_file(Path::new("c.toml"), "wal_durability = \"maybe\"\n").unwrap_err().to_string();
        assert!(
            err.contains("line 1") && err.contains("maybe") && err.contains("sync") && err.contains("buffered"),
            "{err}"
        );
        let err = parse_file(Path::new("c.toml"), "grpc_listen = \"nowhere\"\n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn unreadable_file_is_reported_with_its_path() {
        let s = Settings { config: Some("/nonexistent/ollyscale.toml".into()), ..Default::default() };
        let err = s.resolve().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ollyscale.toml"), "{err}");
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The variables the settings read.
    fn known() -> BTreeSet<String> {
        let command = Settings::augment_args(clap::Command::new("settings"));
        command.get_arguments().filter_map(|a| a.get_env()).map(|e| e.to_string_lossy().into_owned()).collect()
    }

    fn check_environment(vars: Vec<(String, String)>) -> Result<(), ConfigError> {
        super::check_environment(vars, &known())
    }

    #[test]
    fn unknown_environment_variable_is_refused() {
        let err = check_environment(env(&[("OLLYSCALE_DATA_DIRR", "/x")])).unwrap_err().to_string();
        assert!(err.contains("OLLYSCALE_DATA_DIRR") && err.contains("OLLYSCALE_DATA_DIR"), "{err}");
        check_environment(env(&[("OLLYSCALE_DATA_DIR", "/x"), ("PATH", "/bin")])).unwrap();
    }

    /// What a pod sees with `enableServiceLinks` on, for a Service `ollyscale` (ports named api and
    /// otlp-grpc) and the CloudNativePG Services `ollyscale-db-rw` and `ollyscale-db-ro`.
    #[test]
    fn kubernetes_service_link_variables_are_accepted() {
        let vars = env(&[
            ("OLLYSCALE_SERVICE_HOST", "10.96.12.7"),
            ("OLLYSCALE_SERVICE_PORT", "4317"),
            ("OLLYSCALE_SERVICE_PORT_API", "8080"),
            ("OLLYSCALE_SERVICE_PORT_OTLP_GRPC", "4317"),
            ("OLLYSCALE_PORT", "tcp://10.96.12.7:4317"),
            ("OLLYSCALE_PORT_4317_TCP", "tcp://10.96.12.7:4317"),
            ("OLLYSCALE_PORT_4317_TCP_PROTO", "tcp"),
            ("OLLYSCALE_PORT_4317_TCP_PORT", "4317"),
            ("OLLYSCALE_PORT_4317_TCP_ADDR", "10.96.12.7"),
            ("OLLYSCALE_PORT_8080_TCP", "tcp://10.96.12.7:8080"),
            ("OLLYSCALE_DB_RW_SERVICE_HOST", "10.96.40.2"),
            ("OLLYSCALE_DB_RW_SERVICE_PORT", "5432"),
            ("OLLYSCALE_DB_RW_SERVICE_PORT_POSTGRES", "5432"),
            ("OLLYSCALE_DB_RW_PORT", "tcp://10.96.40.2:5432"),
            ("OLLYSCALE_DB_RW_PORT_5432_TCP", "tcp://10.96.40.2:5432"),
            ("OLLYSCALE_DB_RW_PORT_5432_TCP_ADDR", "10.96.40.2"),
            ("OLLYSCALE_DB_RO_SERVICE_HOST", "fd00:10:96::a"),
            ("OLLYSCALE_DB_RO_PORT_5432_TCP", "tcp://[fd00:10:96::a]:5432"),
            ("OLLYSCALE_OTLP_RECEIVER_PORT_4318_TCP_PROTO", "tcp"),
        ]);
        check_environment(vars).unwrap();
    }

    /// Names that look like service links but whose values do not are typos of settings, and refused.
    #[test]
    fn look_alike_typos_are_still_refused() {
        for (name, value) in [
            ("OLLYSCALE_GRPC_PORT", "4317"),
            ("OLLYSCALE_API_PORT", "0.0.0.0:8080"),
            ("OLLYSCALE_SERVICE_HOST", "my-db.example.com"),
            ("OLLYSCALE_SERVICE_PORT", "http"),
            ("OLLYSCALE_PORT_4317_TCP", "tcp://10.96.12.7:4318"),
            ("OLLYSCALE_PORT_4317_TCP_ADDR", "localhost"),
            ("OLLYSCALE_PORT_4317_HTTP", "tcp://10.96.12.7:4317"),
            ("OLLYSCALE_PORT_4317_TCP_PORT", "4318"),
            ("OLLYSCALE_WAL_BUDGET_PORT_1_TCP_X", "tcp"),
            ("OLLYSCALE_DATABSE_URL", "postgres://db/ollyscale"),
        ] {
            let err = check_environment(env(&[(name, value)]));
            assert!(err.is_err(), "{name}={value} was accepted");
        }
    }

    #[test]
    fn inconsistent_values_are_refused() {
        let s = Settings { tls_cert: Some("c.pem".into()), ..Default::default() };
        assert!(s.resolve().unwrap_err().to_string().contains("tls-cert"));
        let s = Settings { retention_logs: Some(HumanDuration(Duration::from_secs(60))), ..Default::default() };
        assert!(s.resolve().unwrap_err().to_string().contains("retention-logs"));
        let s = Settings { batch_max_records: Some(0), ..Default::default() };
        let err = s.resolve().unwrap_err().to_string();
        assert!(err.contains("batch-max-records") && err.contains("allowed: 1 to 100000"), "{err}");
        let s = Settings { batch_max_bytes: Some(ByteSize(1000)), ..Default::default() };
        assert!(s.resolve().unwrap_err().to_string().contains("allowed: 64KiB to 1GiB"));
        let s = Settings { writes_in_flight: Some(0), ..Default::default() };
        assert!(s.resolve().unwrap_err().to_string().contains("writes-in-flight"));
        let s = Settings { writes_in_flight: Some(9), ..Default::default() };
        assert!(s.resolve().unwrap_err().to_string().contains("allowed: 1 to 8"));
    }
}
