//! WAL benchmark: append throughput and ack latency per durability mode, then backlog reopen and read-back speed.
//!
//! Run by hand, in release mode:
//! `cargo run --release -p ollyscale-wal --example wal_bench -- --appenders 64 --seconds 10 --backlog-gb 2`
//!
//! Options: `--dir PATH` (default: a directory under /tmp, deleted afterwards), `--appenders N` (64),
//! `--seconds S` per mode (10), `--payload-min B` (1024), `--payload-max B` (4096), `--modes sync,buffered`,
//! `--rate N` (total appends/s to offer, for latency below saturation; default: as fast as acknowledged),
//! `--segment-mb M` (segment size, default the WAL's 64 MiB),
//! `--backlog-gb G` (0 = skip the backlog part), `--drop-caches` (write 3 to /proc/sys/vm/drop_caches before
//! reading the backlog back, so reads come from disk; needs root).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wal::{SyncPolicy, Wal, WalOptions};

struct Args {
    dir: Option<PathBuf>,
    appenders: usize,
    seconds: u64,
    payload_min: usize,
    payload_max: usize,
    modes: Vec<SyncPolicy>,
    backlog_gb: f64,
    drop_caches: bool,
    rate: Option<u64>,
    segment_mb: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        dir: None,
        appenders: 64,
        seconds: 10,
        payload_min: 1024,
        payload_max: 4096,
        modes: vec![SyncPolicy::Sync, SyncPolicy::Buffered],
        backlog_gb: 0.0,
        drop_caches: false,
        rate: None,
        segment_mb: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--drop-caches" {
            a.drop_caches = true;
            continue;
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--dir" => a.dir = Some(PathBuf::from(value)),
            "--appenders" => a.appenders = num(&value)? as usize,
            "--seconds" => a.seconds = num(&value)?,
            "--rate" => a.rate = Some(num(&value)?).filter(|r| *r > 0),
            "--segment-mb" => a.segment_mb = Some(num(&value)?.max(1)),
            "--payload-min" => a.payload_min = num(&value)? as usize,
            "--payload-max" => a.payload_max = num(&value)? as usize,
            "--backlog-gb" => a.backlog_gb = value.parse().map_err(|e| format!("--backlog-gb {value}: {e}"))?,
            "--modes" => {
                a.modes = value
                    .split(',')
                    .map(|m| match m {
                        "sync" => Ok(SyncPolicy::Sync),
                        "buffered" => Ok(SyncPolicy::Buffered),
                        other => Err(format!("unknown mode {other}")),
                    })
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if a.appenders == 0 || a.payload_min == 0 || a.payload_max < a.payload_min {
        return Err("need --appenders >= 1 and 0 < --payload-min <= --payload-max".into());
    }
    Ok(a)
}

/// A pool of incompressible payloads with sizes spread over [min, max], so that encoding cost is not measured.
fn payload_pool(min: usize, max: usize) -> Arc<Vec<Vec<u8>>> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let pool = (0..256)
        .map(|_| {
            let len = min + (next() as usize) % (max - min + 1);
            (0..len).map(|_| next() as u8).collect()
        })
        .collect();
    Arc::new(pool)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs `appenders` tasks appending until `deadline` (or until `target_bytes` are appended); returns latencies.
async fn append_load(
    wal: &Wal,
    appenders: usize,
    pool: Arc<Vec<Vec<u8>>>,
    run_for: Option<Duration>,
    target_bytes: Option<u64>,
    rate: Option<u64>,
) -> (Vec<Duration>, u64) {
    // Each task offers its share of the rate on a fixed schedule (catching up after a slow append). Latency is
    // measured from the call, not from the scheduled time: tokio's millisecond timer would otherwise dominate.
    let interval = rate.map(|r| Duration::from_secs_f64(appenders as f64 / r as f64));
    let appended = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..appenders {
        let wal = wal.clone();
        let pool = pool.clone();
        let appended = appended.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = t;
            let mut scheduled = start + interval.map_or(Duration::ZERO, |iv| iv.mul_f64(t as f64 / appenders as f64));
            loop {
                if run_for.is_some_and(|d| start.elapsed() >= d) {
                    break;
                }
                if target_bytes.is_some_and(|b| appended.load(std::sync::atomic::Ordering::Relaxed) >= b) {
                    break;
                }
                let p = &pool[i % pool.len()];
                i += 7;
                if let Some(iv) = interval {
                    tokio::time::sleep_until(scheduled.into()).await;
                    scheduled += iv;
                }
                let t0 = Instant::now();
                match wal.append(0, now_nanos(), p).await {
                    Ok(_) => {
                        lat.push(t0.elapsed());
                        appended.fetch_add(p.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                    Err(e) => {
                        eprintln!("append failed: {e}");
                        break;
                    }
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(lat) = t.await {
            all.extend(lat);
        }
    }
    (all, appended.load(std::sync::atomic::Ordering::Relaxed))
}

fn fresh_dir(base: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = base.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    Ok(dir)
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

async fn run(args: Args) -> Result<(), String> {
    let base = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("wal-bench-{}", std::process::id())),
    };
    std::fs::create_dir_all(&base).map_err(|e| format!("creating {}: {e}", base.display()))?;
    let pool = payload_pool(args.payload_min, args.payload_max);
    println!(
        "wal_bench: {} appenders, offered rate {}, payloads {}-{} bytes, {} s per mode, dir {}",
        args.appenders,
        args.rate.map_or("unlimited".to_string(), |r| format!("{r} appends/s")),
        args.payload_min,
        args.payload_max,
        args.seconds,
        base.display()
    );

    for mode in &args.modes {
        let dir = fresh_dir(&base, "append")?;
        let mut opts = WalOptions { sync_policy: *mode, disk_budget_bytes: u64::MAX, ..WalOptions::default() };
        if let Some(mb) = args.segment_mb {
            opts.segment_bytes = mb << 20;
        }
        let wal = Wal::open(&dir, opts).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let (mut lat, bytes) =
            append_load(&wal, args.appenders, pool.clone(), Some(Duration::from_secs(args.seconds)), None, args.rate)
                .await;
        let elapsed = started.elapsed().as_secs_f64();
        lat.sort_unstable();
        let stats = wal.stats().map_err(|e| e.to_string())?;
        println!(
            "{mode:?}: {} appends in {elapsed:.1} s = {:.0} appends/s, {:.1} MiB/s; ack latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} groups (avg {:.1} records), {} fsyncs",
            lat.len(),
            lat.len() as f64 / elapsed,
            mib(bytes) / elapsed,
            percentile(&lat, 0.50).as_secs_f64() * 1e3,
            percentile(&lat, 0.99).as_secs_f64() * 1e3,
            lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            stats.groups,
            stats.appends as f64 / stats.groups.max(1) as f64,
            stats.fsyncs,
        );
        drop(wal);
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    }

    if args.backlog_gb > 0.0 {
        let dir = fresh_dir(&base, "backlog")?;
        let target = (args.backlog_gb * (1u64 << 30) as f64) as u64;
        let opts =
            WalOptions { sync_policy: SyncPolicy::Buffered, disk_budget_bytes: u64::MAX, ..WalOptions::default() };
        let wal = Wal::open(&dir, opts.clone()).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let (lat, bytes) = append_load(&wal, args.appenders, pool.clone(), None, Some(target), None).await;
        let fill = started.elapsed().as_secs_f64();
        println!(
            "backlog: wrote {} records, {:.0} MiB of payload in {fill:.1} s ({:.1} MiB/s, buffered)",
            lat.len(),
            mib(bytes),
            mib(bytes) / fill
        );
        wal.close();
        drop(wal);
        println!("backlog: {:.0} MiB on disk", mib(dir_size(&dir)));

        if args.drop_caches {
            drop_caches();
        }
        let t0 = Instant::now();
        let wal = Wal::open(&dir, opts.clone()).map_err(|e| e.to_string())?;
        let reopen = t0.elapsed();
        let stats = wal.stats().map_err(|e| e.to_string())?;
        println!(
            "backlog: reopen took {:.3} s; {} records, {:.0} MiB live, {} segments",
            reopen.as_secs_f64(),
            stats.records,
            mib(stats.bytes),
            stats.segments
        );

        if args.drop_caches {
            drop_caches();
        }
        let t0 = Instant::now();
        let mut next = stats.first_seq.unwrap_or(1);
        let (mut records, mut payload_bytes) = (0u64, 0u64);
        loop {
            let batch = wal.read_from(next, 4096, 64 << 20).map_err(|e| e.to_string())?;
            let Some(last) = batch.last() else { break };
            next = last.seq + 1;
            records += batch.len() as u64;
            payload_bytes += batch.iter().map(|r| r.payload.len() as u64).sum::<u64>();
        }
        let read = t0.elapsed().as_secs_f64();
        println!(
            "backlog: read back {records} records, {:.0} MiB of payload in {read:.1} s = {:.1} MiB/s, {:.0} records/s{}",
            mib(payload_bytes),
            mib(payload_bytes) / read,
            records as f64 / read,
            if args.drop_caches { " (page cache dropped first)" } else { "" }
        );
        let t0 = Instant::now();
        let last = stats.last_seq.unwrap_or(0);
        wal.truncate_through(last).map_err(|e| e.to_string())?;
        println!("backlog: truncate_through(all) took {:.3} s", t0.elapsed().as_secs_f64());
        drop(wal);
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&base);
    }
    Ok(())
}

fn drop_caches() {
    // drop_caches only drops clean pages: write dirty ones back first.
    if let Err(e) = std::process::Command::new("sync").status() {
        println!("(sync failed: {e})");
    }
    match std::fs::write("/proc/sys/vm/drop_caches", "3") {
        Ok(()) => println!("(dropped the page cache)"),
        Err(e) => println!("(could not drop the page cache: {e})"),
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("wal_bench: {e}");
            std::process::exit(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wal_bench: cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(args)) {
        eprintln!("wal_bench: {e}");
        std::process::exit(1);
    }
}
