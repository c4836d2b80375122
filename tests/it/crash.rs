//! Durability under SIGKILL: what the server acknowledged is in the WAL after any number of kill -9s,
//! in order, exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message;
use rand::{Rng, SeedableRng};
use tokio::sync::Mutex;

use crate::receive::NO_DATABASE;
use crate::support::otlp::{span_names, traces, wal_records};
use crate::support::server::Server;

/// Sends one-span exports named `c{client}-{n}` until told to stop; every attempt gets a fresh name, so
/// an acknowledged name can only be in the WAL once if the WAL stores each append once. Returns the
/// acknowledged names in the order they were acknowledged.
async fn client(id: usize, grpc: String, http: String, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut acked = Vec::new();
    let http_client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut grpc_client = None;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let name = format!("c{id}-{n}");
        n += 1;
        let request = traces(&name, 1);
        // The span is named `{marker}-0` by the helper; the marker is what we track.
        let ok = if id.is_multiple_of(2) {
            if grpc_client.is_none() {
                grpc_client = tonic::transport::Channel::from_shared(grpc.clone())
                    .unwrap()
                    .connect_timeout(Duration::from_secs(1))
                    .connect()
                    .await
                    .ok()
                    .map(TraceServiceClient::new);
            }
            match grpc_client.as_mut() {
                Some(c) => match c.export(request).await {
                    Ok(_) => true,
                    Err(_) => {
                        grpc_client = None;
                        false
                    }
                },
                None => false,
            }
        } else {
            http_client
                .post(format!("{http}/v1/traces"))
                .header("content-type", "application/x-protobuf")
                .body(request.encode_to_vec())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        };
        if ok {
            acked.push(format!("{name}-0"));
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_exports_survive_repeated_sigkill_in_order_exactly_once() {
    let seed: u64 = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Mutex::new(Server::start(dir.path(), NO_DATABASE, &[])));
    let (grpc, http) = {
        let s = server.lock().await;
        (s.grpc_url(), s.http_url())
    };
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4).map(|id| tokio::spawn(client(id, grpc.clone(), http.clone(), stop.clone()))).collect();
    let kills = 12;
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..600))).await;
        let server = server.clone();
        // Restarting waits for the ports: keep it off the async workers the clients run on.
        tokio::task::spawn_blocking(move || server.blocking_lock().restart()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for c in clients {
        acked.push(c.await.unwrap());
    }
    server.lock().await.stop();

    let names = span_names(&wal_records(dir.path()));
    let mut position: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        assert!(position.insert(name, i).is_none(), "{name} is in the WAL twice (seed {seed})");
    }
    let total: usize = acked.iter().map(Vec::len).sum();
    assert!(total > 50, "the clients got too few acknowledgements to test anything: {total}");
    for (id, names) in acked.iter().enumerate() {
        let mut last = None;
        for name in names {
            let pos = *position.get(name.as_str()).unwrap_or_else(|| {
                panic!("acknowledged export {name} of client {id} is missing from the WAL (seed {seed})")
            });
            assert!(last < Some(pos), "client {id}'s exports are out of order in the WAL at {name} (seed {seed})");
            last = Some(pos);
        }
    }
    eprintln!("{kills} kills: {total} acknowledged, {} in the WAL (seed {seed})", names.len());
}
