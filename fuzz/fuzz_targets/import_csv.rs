//! Feeds arbitrary bytes, seeded with CSV text (the field export or an e-PPGBM CSV with `;`), to the server's file
//! import (`tumbuh_server::import::read_bytes`, what `read_file` runs on
//! the file's bytes; the container is detected from the bytes, not the
//! name). Must hold: rows and problems or an `ImportError`, never a panic;
//! kept rows are in file order and free of errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tumbuh_fuzz::import(data);
});
