//! Protobuf decode and validate of a traces export request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ollyscale::hostile_input::{Body, request};
use ollyscale::otlp::Signal;

fuzz_target!(|data: &[u8]| {
    request(Signal::Traces, Body::Protobuf, data);
});
