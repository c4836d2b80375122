//! Every query parameter parser: time windows, durations, limits, enums, attribute filters, ids, cursors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ollyscale::hostile_input::query_params(data);
});
