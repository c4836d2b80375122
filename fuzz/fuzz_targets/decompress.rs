//! Request body decompression (gzip, zstd, deflate) against the decompressed-size limit, bombs included.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ollyscale::hostile_input::decompress(data);
});
