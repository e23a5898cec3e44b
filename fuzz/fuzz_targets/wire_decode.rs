//! Feeds arbitrary bytes to `sync_protocol::wire::decode` for every message
//! type with the real cap (`MAX_MESSAGE_BYTES`), both as a whole frame and
//! as the body of a well-framed, zstd-compressed message (so the fuzzer
//! reaches postcard directly). Must hold: every decoder answers `Err` or a
//! message, never panics, and a decoded message re-encodes and decodes to
//! itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_protocol::wire::{
    self, MAGIC, MAX_MESSAGE_BYTES, Message, PROTOCOL_VERSION, RepairRequest, RepairResponse,
    SnapshotRequest, SnapshotResponse, SyncRequest, SyncResponse,
};

fn check<M: Message + PartialEq + std::fmt::Debug>(frame: &[u8]) {
    if let Ok(message) = wire::decode::<M>(frame, MAX_MESSAGE_BYTES) {
        let again = wire::encode(&message).expect("a decoded message encodes");
        let back = wire::decode::<M>(&again, MAX_MESSAGE_BYTES).expect("and decodes again");
        assert_eq!(back, message);
    }
}

fn all(frame: &[u8]) {
    check::<SyncRequest>(frame);
    check::<SyncResponse>(frame);
    check::<SnapshotRequest>(frame);
    check::<SnapshotResponse>(frame);
    check::<RepairRequest>(frame);
    check::<RepairResponse>(frame);
}

fuzz_target!(|data: &[u8]| {
    all(data);
    // The same bytes as a message body: frame them for each kind.
    if let Ok(packed) = zstd::bulk::compress(data, 1) {
        for kind in 1..=6u8 {
            let mut frame = Vec::with_capacity(6 + packed.len());
            frame.extend_from_slice(MAGIC);
            frame.push(PROTOCOL_VERSION);
            frame.push(kind);
            frame.extend_from_slice(&packed);
            all(&frame);
        }
    }
});
