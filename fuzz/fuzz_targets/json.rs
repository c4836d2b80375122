//! The lenient OTLP/JSON decoder and validate; the first byte picks the signal (traces, logs, metrics).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ollyscale::hostile_input::{Body, request, split_signal};

fuzz_target!(|data: &[u8]| {
    if let Some((signal, bytes)) = split_signal(data) {
        request(signal, Body::Json, bytes);
    }
});
