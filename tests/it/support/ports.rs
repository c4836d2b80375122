//! Free local ports for the servers and helper processes a test run starts.
//!
//! A port is free when the kernel hands it out for `127.0.0.1:0`, but it stays free only until something
//! binds it: between closing the probe and the child process binding it, a concurrent test could be handed
//! the same port. Every port this process hands out is remembered and never handed out again, so servers
//! of one run never race each other; what is left (another process taking the port in that gap) is rare,
//! and [`super::server::Server`] starts again on fresh ports when it happens.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;

static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A local port that is free now and that no other caller in this process has been given.
pub fn free_port() -> u16 {
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port();
        if handed_out.insert(port) {
            return port;
        }
    }
}

/// `127.0.0.1` with a port from [`free_port`].
pub fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}
