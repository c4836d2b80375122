//! Whatever protobuf decode and validate accept, normalize must turn into COPY streams; the first byte picks the
//! signal (traces, logs, metrics).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ollyscale::hostile_input::{Body, normalize, split_signal};

fuzz_target!(|data: &[u8]| {
    if let Some((signal, bytes)) = split_signal(data) {
        normalize(signal, Body::Protobuf, bytes);
    }
});
