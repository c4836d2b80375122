//! Behaviour tests of the WAL's public API: order, group commit, recovery, truncation, budget, corruption.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wal::{AppendError, Kind, SyncPolicy, Wal, WalError, WalOptions};

// Tags as ollyscale uses them; the WAL gives them no meaning.
const TRACES: Kind = 0;
const LOGS: Kind = 1;
const METRICS: Kind = 2;

/// Incompressible bytes derived from `seed`, so that sizes on disk are honest and mix-ups are visible.
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            total += dir_size(&entry.path());
        } else {
            total += meta.len();
        }
    }
    total
}

#[test]
fn appends_are_read_back_in_order_with_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let kinds: [Kind; 3] = [0, 1, 7];
    let mut seqs = Vec::new();
    for i in 0..30u64 {
        let seq = wal
            .append_blocking(kinds[(i % 3) as usize], 1_700_000_000_000_000_000 + i, &payload(i, 100 + i as usize))
            .unwrap();
        seqs.push(seq);
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "sequences increase by one: {seqs:?}");

    let records = wal.read_from(seqs[0], 1000, usize::MAX).unwrap();
    assert_eq!(records.len(), 30);
    for (i, r) in records.iter().enumerate() {
        let i = i as u64;
        assert_eq!(r.seq, seqs[i as usize]);
        assert_eq!(r.kind, kinds[(i % 3) as usize]);
        assert_eq!(r.received_at_unix_nanos, 1_700_000_000_000_000_000 + i);
        assert_eq!(r.payload, payload(i, 100 + i as usize));
    }

    // A cursor in the middle, and the record and byte limits.
    let mid = wal.read_from(seqs[10], 5, usize::MAX).unwrap();
    assert_eq!(mid.iter().map(|r| r.seq).collect::<Vec<_>>(), seqs[10..15].to_vec());
    let by_bytes = wal.read_from(seqs[0], 1000, 250).unwrap();
    assert_eq!(by_bytes.len(), 2, "100 + 101 bytes fit in 250, the third does not");
    let at_least_one = wal.read_from(seqs[29], 1000, 1).unwrap();
    assert_eq!(at_least_one.len(), 1, "a record larger than max_bytes is still returned alone");
    assert!(wal.read_from(seqs[29] + 1, 10, usize::MAX).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_append_and_wait_for_new_records() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let first = wal.append(LOGS, 1, b"one").await.unwrap();

    let reader = wal.clone();
    let waiter = tokio::spawn(async move { reader.wait_for_records_after(first).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiter.is_finished(), "nothing new yet: the waiter must still wait");
    let second = wal.append(LOGS, 2, b"two").await.unwrap();
    let last = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap().unwrap();
    assert_eq!(last, second);

    // The blocking form times out when nothing arrives, and returns at once when something is there.
    assert_eq!(wal.wait_for_records_after_blocking(second, Duration::from_millis(20)).unwrap(), None);
    assert_eq!(wal.wait_for_records_after_blocking(first, Duration::from_millis(20)).unwrap(), Some(second));
}

#[test]
fn concurrent_appends_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let threads = 32;
    let per_thread = 40;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let wal = wal.clone();
            std::thread::spawn(move || {
                let mut seqs = Vec::new();
                for i in 0..per_thread {
                    seqs.push(wal.append_blocking(TRACES, i, &payload(t * 1000 + i, 2048)).unwrap());
                }
                seqs
            })
        })
        .collect();
    let mut all: Vec<u64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort_unstable();
    let appends = threads * per_thread;
    assert_eq!(all.len() as u64, appends);
    assert!(all.windows(2).all(|w| w[1] == w[0] + 1), "every append got its own sequence");

    let stats = wal.stats().unwrap();
    assert_eq!(stats.appends, appends);
    assert!(stats.fsyncs > 0, "sync mode fsyncs");
    assert!(stats.fsyncs * 4 <= appends, "group commit: {} fsyncs for {appends} appends", stats.fsyncs);
    assert_eq!(stats.records, appends);
}

#[test]
fn buffered_mode_does_not_fsync_and_still_recovers_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions { sync_policy: SyncPolicy::Buffered, ..WalOptions::default() };
    let last = {
        let wal = Wal::open(dir.path(), opts.clone()).unwrap();
        let mut last = 0;
        for i in 0..20 {
            last = wal.append_blocking(METRICS, i, &payload(i, 64)).unwrap();
        }
        assert_eq!(wal.stats().unwrap().fsyncs, 0);
        last
    };
    let wal = Wal::open(dir.path(), opts).unwrap();
    assert_eq!(wal.stats().unwrap().last_seq, Some(last));
}

#[test]
fn sequences_and_identity_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (id, last) = {
        let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
        let mut last = 0;
        for i in 0..10 {
            last = wal.append_blocking(TRACES, i, &payload(i, 10)).unwrap();
        }
        (wal.id().to_string(), last)
    };
    assert_eq!(id.len(), 32);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));

    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(wal.id(), id, "identity is stable across restarts");
    let next = wal.append_blocking(LOGS, 99, b"after").unwrap();
    assert_eq!(next, last + 1, "sequence continues after the last record");
    let all = wal.read_from(0, 100, usize::MAX).unwrap();
    assert_eq!(all.len(), 11);
    assert_eq!(all.last().unwrap().payload, b"after");

    let other = tempfile::tempdir().unwrap();
    let other_wal = Wal::open(other.path(), WalOptions::default()).unwrap();
    assert_ne!(other_wal.id(), id, "each WAL directory gets its own identity");
}

#[test]
fn truncation_hides_records_and_reclaims_disk_space() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions { segment_bytes: 1 << 20, ..WalOptions::default() };
    let wal = Wal::open(dir.path(), opts.clone()).unwrap();
    // 160 MiB of 4 KiB records in concurrent groups: well past fjall's 64 MB journal rotation point.
    let threads = 8u64;
    let per_thread = 5_120u64;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let wal = wal.clone();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    wal.append_blocking(LOGS, i, &payload(t * per_thread + i, 4096)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let before = wal.stats().unwrap();
    let last = before.last_seq.unwrap();
    assert!(before.segments > 100, "1 MiB segments: {}", before.segments);
    let disk_before = dir_size(dir.path());
    assert!(disk_before > 160 << 20, "the data is on disk: {disk_before}");

    let keep = 100;
    wal.truncate_through(last - keep).unwrap();
    let after = wal.stats().unwrap();
    assert_eq!(after.records, keep);
    assert_eq!(after.first_seq, Some(last - keep + 1));
    assert!(after.bytes < 1 << 20, "live bytes after truncation: {}", after.bytes);
    assert!(after.segments <= 2, "fully truncated segments are dropped: {}", after.segments);

    let first = wal.read_from(0, 10, usize::MAX).unwrap();
    assert_eq!(first[0].seq, last - keep + 1, "truncated records are not readable");

    // Space comes back as fjall deletes the dropped keyspaces and retires old journals.
    let mut disk_after = dir_size(dir.path());
    for _ in 0..100 {
        if disk_after < disk_before / 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        disk_after = dir_size(dir.path());
    }
    eprintln!("disk before truncation {disk_before} bytes, after {disk_after} bytes");
    assert!(disk_after < disk_before / 2, "disk usage {disk_before} -> {disk_after}");

    // After reopen the truncation point and the sequence hold.
    drop(wal);
    let wal = Wal::open(dir.path(), opts).unwrap();
    let s = wal.stats().unwrap();
    assert_eq!((s.first_seq, s.last_seq, s.records), (Some(last - keep + 1), Some(last), keep));
    assert_eq!(wal.append_blocking(LOGS, 0, b"x").unwrap(), last + 1);
    assert!(dir_size(dir.path()) < disk_before / 2);
}

#[test]
fn over_budget_appends_are_refused_until_truncation_frees_space() {
    let dir = tempfile::tempdir().unwrap();
    let budget = 64 * 1024;
    let opts = WalOptions { disk_budget_bytes: budget, ..WalOptions::default() };
    let wal = Wal::open(dir.path(), opts.clone()).unwrap();
    let mut last = 0;
    let refused = loop {
        match wal.append_blocking(TRACES, 0, &payload(last, 4096)) {
            Ok(seq) => last = seq,
            Err(e) => break e,
        }
        assert!(last < 100, "the budget must stop appends");
    };
    match refused {
        AppendError::OverBudget { used, budget: b } => {
            assert_eq!(b, budget);
            assert!(used <= budget && used + 4096 > budget, "used {used}");
        }
        other => panic!("expected OverBudget, got {other:?}"),
    }
    assert_eq!(last, 15, "16 records of ~4.1 KiB exceed 64 KiB");
    let stats = wal.stats().unwrap();
    assert!(stats.bytes <= budget);
    assert_eq!(stats.budget_bytes, budget);

    // The budget is restored across restarts without scanning: still refused after reopen.
    drop(wal);
    let wal = Wal::open(dir.path(), opts).unwrap();
    assert!(matches!(wal.append_blocking(TRACES, 0, &payload(0, 4096)), Err(WalError::OverBudget { .. })));

    wal.truncate_through(last).unwrap();
    assert_eq!(wal.stats().unwrap().bytes, 0);
    let seq = wal.append_blocking(TRACES, 0, &payload(0, 4096)).unwrap();
    assert_eq!(seq, last + 1);
}

#[test]
fn corrupt_records_are_reported_with_their_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let target = {
        let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
        let mut seqs = Vec::new();
        for i in 0..5 {
            seqs.push(wal.append_blocking(LOGS, i, &payload(i, 300)).unwrap());
        }
        seqs[2]
    };
    {
        // Flip one payload byte of record `target` behind the WAL's back.
        let db = fjall::Database::builder(dir.path()).open().unwrap();
        let names = db.list_keyspace_names();
        let seg = names.iter().find(|n| n.starts_with("seg-")).unwrap();
        let ks = db.keyspace(seg, fjall::KeyspaceCreateOptions::default).unwrap();
        let key = target.to_be_bytes();
        let mut value = ks.get(key).unwrap().unwrap().to_vec();
        let last = value.len() - 1;
        value[last] ^= 0x55;
        ks.insert(key, value).unwrap();
        db.persist(fjall::PersistMode::SyncAll).unwrap();
    }
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let good = wal.read_from(0, 100, usize::MAX).unwrap();
    assert_eq!(
        good.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![target - 2, target - 1],
        "the good records before it"
    );
    match wal.read_from(target, 100, usize::MAX) {
        Err(WalError::Corrupt { seq, .. }) => assert_eq!(seq, target),
        other => panic!("expected Corrupt for {target}, got {other:?}"),
    }
    match wal.summaries(target, 100) {
        Err(WalError::Corrupt { seq, .. }) => assert_eq!(seq, target),
        other => panic!("expected Corrupt for {target}, got {other:?}"),
    }
    assert_eq!(wal.summaries(0, 100).unwrap().len(), 2);
    // The reader can step over it; the operator can truncate through it.
    assert_eq!(wal.read_from(target + 1, 100, usize::MAX).unwrap().len(), 2);
    wal.truncate_through(target).unwrap();
    assert_eq!(wal.read_from(0, 100, usize::MAX).unwrap().len(), 2);
}

#[test]
fn stats_and_summaries_describe_the_backlog() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let empty = wal.stats().unwrap();
    assert_eq!((empty.records, empty.bytes, empty.first_seq, empty.last_seq), (0, 0, None, None));
    assert_eq!(empty.oldest_received_at_unix_nanos, None);

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let ten_s_ago = now - 10_000_000_000;
    let a = wal.append_blocking(TRACES, ten_s_ago, &[1; 500]).unwrap();
    let b = wal.append_blocking(METRICS, now, &[2; 700]).unwrap();
    let c = wal.append_blocking(LOGS, now, &[3; 900]).unwrap();

    let s = wal.stats().unwrap();
    assert_eq!((s.records, s.first_seq, s.last_seq), (3, Some(a), Some(c)));
    assert!(s.bytes > 2100 && s.bytes < 2400, "bytes {}", s.bytes);
    assert!(s.disk_bytes > 0);
    assert_eq!(s.oldest_received_at_unix_nanos, Some(ten_s_ago));
    let age = s.oldest_age().unwrap();
    assert!(age >= Duration::from_secs(10) && age < Duration::from_secs(60), "age {age:?}");

    let sums = wal.summaries(b, 10).unwrap();
    assert_eq!(sums.len(), 2);
    assert_eq!((sums[0].seq, sums[0].kind, sums[0].payload_len), (b, METRICS, 700));
    assert_eq!((sums[1].seq, sums[1].kind, sums[1].payload_len), (c, LOGS, 900));
    assert_eq!(sums[1].received_at_unix_nanos, now);
    assert_eq!(wal.summaries(a, 1).unwrap().len(), 1);
}

#[test]
fn truncating_beyond_the_durable_end_is_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let a = wal.append_blocking(TRACES, 0, &[0; 10]).unwrap();
    assert_eq!(wal.truncate_through(a + 1000).unwrap(), a);
    let b = wal.append_blocking(TRACES, 0, &[0; 10]).unwrap();
    assert_eq!(b, a + 1);
    assert_eq!(wal.read_from(0, 10, usize::MAX).unwrap().iter().map(|r| r.seq).collect::<Vec<_>>(), vec![b]);
}

#[test]
fn closed_wal_refuses_appends() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let other_handle = wal.clone();
    wal.check_writable().unwrap();
    wal.close();
    assert!(matches!(other_handle.append_blocking(LOGS, 0, &[1]), Err(WalError::Closed)));
    assert!(matches!(other_handle.check_writable(), Err(WalError::Closed)));
}

#[test]
fn a_directory_is_opened_by_one_wal_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let _wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert!(Wal::open(dir.path(), WalOptions::default()).is_err());
}

#[test]
fn invalid_options_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for (opts, says) in [
        (WalOptions { segment_bytes: 0, ..WalOptions::default() }, "segment_bytes"),
        (WalOptions { max_group_records: 0, ..WalOptions::default() }, "max_group_records"),
        (WalOptions { max_group_bytes: 0, ..WalOptions::default() }, "max_group_bytes"),
        (WalOptions { max_journal_bytes: 63 << 20, ..WalOptions::default() }, "64 MiB"),
    ] {
        match Wal::open(dir.path(), opts) {
            Err(WalError::InvalidOptions(m)) => assert!(m.contains(says), "{m:?} should name {says}"),
            Err(other) => panic!("expected InvalidOptions naming {says}, got {other:?}"),
            Ok(_) => panic!("expected InvalidOptions naming {says}, the WAL opened"),
        }
    }
    // A refused configuration leaves the directory usable.
    assert!(Wal::open(dir.path(), WalOptions::default()).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_records_ends_when_the_wal_closes() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let first = wal.append(TRACES, 1, b"one").await.unwrap();
    let reader = wal.clone();
    let waiter = tokio::spawn(async move { reader.wait_for_records_after(first).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    wal.close();
    let ended = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    assert!(matches!(ended, Err(WalError::Closed)), "{ended:?}");
    assert!(matches!(wal.wait_for_records_after(first).await, Err(WalError::Closed)));
    assert!(matches!(wal.wait_for_records_after_blocking(first, Duration::from_secs(5)), Err(WalError::Closed)));
}

#[test]
fn many_readers_and_a_writer_agree_on_order() {
    let dir = tempfile::tempdir().unwrap();
    let wal =
        Arc::new(Wal::open(dir.path(), WalOptions { segment_bytes: 64 * 1024, ..WalOptions::default() }).unwrap());
    let writer = {
        let wal = wal.clone();
        std::thread::spawn(move || {
            for i in 0..2000u64 {
                wal.append_blocking(TRACES, i, &payload(i, 200)).unwrap();
            }
        })
    };
    // A tailing reader follows the writer through segment rolls and sees every record once, releasing what it
    // has read the way the pipeline does, so segments are deleted under the writer's feet.
    let mut next = 1u64;
    while next <= 2000 {
        let batch = wal.read_from(next, 64, usize::MAX).unwrap();
        if batch.is_empty() {
            wal.wait_for_records_after_blocking(next - 1, Duration::from_millis(100)).unwrap();
            continue;
        }
        for r in &batch {
            assert_eq!(r.seq, next);
            assert_eq!(r.received_at_unix_nanos, next - 1);
            assert_eq!(r.payload, payload(next - 1, 200));
            next += 1;
        }
        assert_eq!(wal.truncate_through(next - 1).unwrap(), next - 1);
    }
    writer.join().unwrap();
    let s = wal.stats().unwrap();
    assert_eq!((s.records, s.bytes, s.truncated_through), (0, 0, Some(2000)));
    assert!(s.segments <= 2, "released segments are deleted: {}", s.segments);
}

#[test]
fn resume_after_a_downstream_checkpoint_never_reuses_sequences() {
    // Buffered mode can lose the newest records on a power cut while PostgreSQL already committed them: the
    // writer then resumes after its checkpoint, and the WAL must not hand out those numbers again.
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    for i in 0..5 {
        wal.append_blocking(LOGS, i, &payload(i, 100)).unwrap();
    }
    assert_eq!(wal.resume_after(3).unwrap(), 3, "inside the log it is a truncation");
    assert_eq!(wal.read_from(0, 10, usize::MAX).unwrap().iter().map(|r| r.seq).collect::<Vec<_>>(), vec![4, 5]);

    assert_eq!(wal.resume_after(100).unwrap(), 100);
    assert!(wal.read_from(0, 10, usize::MAX).unwrap().is_empty());
    let s = wal.stats().unwrap();
    assert_eq!((s.records, s.bytes, s.truncated_through), (0, 0, Some(100)));
    assert_eq!(wal.append_blocking(LOGS, 0, b"next").unwrap(), 101);
    drop(wal);

    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(wal.append_blocking(LOGS, 0, b"after reopen").unwrap(), 102);
    let all = wal.read_from(0, 10, usize::MAX).unwrap();
    assert_eq!(all.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![101, 102]);
}
