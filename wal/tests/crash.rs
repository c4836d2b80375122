//! Crash test: a child process appends (and truncates) in a loop, printing each acknowledged sequence; the parent
//! SIGKILLs it at random moments, reopens the WAL, and checks that every acknowledged record is there exactly
//! once, in order, intact. Runs without the libtest harness so one binary can be both parent and child.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wal::{SyncPolicy, Wal, WalOptions};

const CHILD_ENV: &str = "WAL_CRASH_CHILD_DIR";
const ROUND_ENV: &str = "WAL_CRASH_ROUND";
const ROUNDS: u64 = 12;
const KEEP_BEHIND: u64 = 400;

fn options(sync_policy: SyncPolicy) -> WalOptions {
    // Small segments so that rolls and whole-segment deletions happen many times per round.
    WalOptions { segment_bytes: 256 * 1024, sync_policy, ..WalOptions::default() }
}

/// Odd rounds run in buffered mode: its promise (acknowledged records survive a process crash) is tested too.
fn round_policy(round: u64) -> SyncPolicy {
    if round.is_multiple_of(2) { SyncPolicy::Sync } else { SyncPolicy::Buffered }
}

/// The payload for (round, thread, counter): its identity, then deterministic filler of varying length.
fn payload(round: u64, thread: u64, counter: u64) -> Vec<u8> {
    let mut p = format!("{round}:{thread}:{counter}:").into_bytes();
    let mut x = (round << 48 ^ thread << 40 ^ counter).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let len = 100 + (x % 3000) as usize;
    while p.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p.push(x as u8);
    }
    p
}

fn identity(payload: &[u8]) -> (u64, u64, u64) {
    let text: Vec<&[u8]> = payload.splitn(4, |b| *b == b':').collect();
    let num = |b: &[u8]| std::str::from_utf8(b).unwrap().parse::<u64>().unwrap();
    (num(text[0]), num(text[1]), num(text[2]))
}

fn child(dir: &Path, round: u64) {
    let wal = Wal::open(dir, options(round_policy(round))).unwrap();
    let mut threads = Vec::new();
    for thread in 0..4u64 {
        let wal = wal.clone();
        threads.push(std::thread::spawn(move || {
            for counter in 0.. {
                let seq = wal.append_blocking(0, counter, &payload(round, thread, counter)).unwrap();
                println!("ACK {seq} {round} {thread} {counter}");
            }
        }));
    }
    // Release old records the way the pipeline does, so that kills also land inside truncation.
    loop {
        std::thread::sleep(Duration::from_millis(15));
        if let Some(last) = wal.last_seq()
            && last > KEEP_BEHIND
        {
            let through = wal.truncate_through(last - KEEP_BEHIND).unwrap();
            println!("TRUNC {through}");
        }
    }
}

struct Ack {
    seq: u64,
    id: (u64, u64, u64),
}

fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let dir = KeepOnPanic(Some(dir));
    eprintln!("crash test directory: {}", dir.path().display());
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<Ack> = Vec::new();
    let mut max_trunc_acked = 0u64;
    let mut rng_state =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rounds_with_acks = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .env(CHILD_ENV, dir.path())
            .env(ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (first_ack, acking) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.is_empty() && line.starts_with("ACK") {
                    let _ = first_ack.send(());
                }
                lines.push(line);
            }
            lines
        });
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        // The random moment is counted from the child's first acknowledgement, not from its start: on a slow
        // or loaded machine (a coverage build, a fresh CI runner) start-up alone can outlast a fixed delay,
        // and a round killed before it appends anything tests nothing.
        let kill_after = Duration::from_millis(rng_state % 800);
        let _ = acking.recv_timeout(Duration::from_secs(60));
        std::thread::sleep(kill_after);
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let lines = reader.join().unwrap();

        let before = acked.len();
        let prev_max = acked.iter().map(|a| a.seq).max().unwrap_or(0);
        for line in &lines {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.first() {
                Some(&"ACK") if f.len() == 5 => acked.push(Ack {
                    seq: f[1].parse().unwrap(),
                    id: (f[2].parse().unwrap(), f[3].parse().unwrap(), f[4].parse().unwrap()),
                }),
                Some(&"TRUNC") if f.len() == 2 => max_trunc_acked = max_trunc_acked.max(f[1].parse().unwrap()),
                _ => {} // a line cut short by the kill
            }
        }
        let new = &acked[before..];
        if !new.is_empty() {
            rounds_with_acks += 1;
            let min_new = new.iter().map(|a| a.seq).min().unwrap();
            assert!(min_new > prev_max, "round {round}: sequence {min_new} reused (earlier max {prev_max})");
        }

        verify(dir.path(), &acked, max_trunc_acked, round);
        eprintln!(
            "round {round} ({:?}): killed after {kill_after:?}, {} acks this round, {} in total",
            round_policy(round),
            acked.len() - before,
            acked.len()
        );
    }
    assert!(rounds_with_acks >= 10, "only {rounds_with_acks} rounds acknowledged anything");
}

fn verify(dir: &Path, acked: &[Ack], max_trunc_acked: u64, round: u64) {
    let wal = Wal::open(dir, options(SyncPolicy::Sync)).unwrap();
    let stats = wal.stats().unwrap();
    let truncated = stats.truncated_through.unwrap_or(0);
    assert!(
        truncated >= max_trunc_acked,
        "round {round}: acknowledged truncation {max_trunc_acked} lost ({truncated})"
    );

    let mut by_seq: HashMap<u64, (u64, u64, u64)> = HashMap::new();
    let mut ids = HashSet::new();
    let mut next = truncated + 1;
    loop {
        let batch = wal.read_from(next, 1000, usize::MAX).unwrap();
        if batch.is_empty() {
            break;
        }
        for r in batch {
            assert_eq!(r.seq, next, "round {round}: records in order without gaps");
            let id = identity(&r.payload);
            assert_eq!(r.payload, payload(id.0, id.1, id.2), "round {round}: record {} intact", r.seq);
            assert!(ids.insert(id), "round {round}: {id:?} stored twice");
            by_seq.insert(r.seq, id);
            next += 1;
        }
    }
    assert_eq!(stats.last_seq.unwrap_or(truncated), next - 1, "round {round}: stats agree with the log");
    for a in acked.iter().filter(|a| a.seq > truncated) {
        assert_eq!(
            by_seq.get(&a.seq),
            Some(&a.id),
            "round {round}: acknowledged record {} missing or different",
            a.seq
        );
    }
    assert!(acked.iter().all(|a| a.seq < next || a.seq <= truncated), "round {round}: acked beyond the end");
}

/// Leaves the WAL directory behind when the test fails, for inspection.
struct KeepOnPanic(Option<tempfile::TempDir>);

impl KeepOnPanic {
    fn path(&self) -> &Path {
        self.0.as_ref().unwrap().path()
    }
}

impl Drop for KeepOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.0.take()
        {
            eprintln!("keeping {} for inspection", dir.keep().display());
        }
    }
}

fn main() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let round = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
        child(Path::new(&dir), round);
        return;
    }
    let started = Instant::now();
    parent();
    let mut out = std::io::stdout();
    writeln!(out, "crash test: {ROUNDS} SIGKILL rounds passed in {:?}", started.elapsed()).unwrap();
}
