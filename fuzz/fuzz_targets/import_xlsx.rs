//! Feeds arbitrary bytes, seeded with an e-PPGBM workbook, to the server's
//! file import (`tumbuh_server::import::read_bytes`, what `read_file` runs
//! on the file's bytes). Input that starts like a workbook (`PK`, or the
//! OLE header of binary `.xls`) is read as the whole file; any other input
//! is the table sheet's XML, then a NUL, then the shared strings' XML,
//! wrapped into a valid `.xlsx` so that calamine's XML reading is reached.
//! Must hold: rows and problems or an `ImportError`, never a panic; kept
//! rows are in file order and free of errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"PK") || data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        let _ = tumbuh_fuzz::import(data);
    } else {
        let (sheet, shared) = match data.iter().position(|&b| b == 0) {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, tumbuh_fuzz::part(tumbuh_fuzz::SHARED_STRINGS)),
        };
        let _ = tumbuh_fuzz::import(&tumbuh_fuzz::workbook_with(sheet, shared));
    }
});
