//! Feeds arbitrary bytes to the bundle reader (`sync_protocol::bundle`:
//! `header`, then `open` in both directions with a fixed key, then the
//! framed sync message inside, as `tumbuh-server bundle import` does).
//! Must hold: never a panic; a forged or damaged bundle fails the MAC; the
//! same bytes sealed with the key open to exactly themselves and to nothing
//! under another key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_protocol::bundle::{self, Direction};
use sync_protocol::wire::{self, MAX_MESSAGE_BYTES, SyncRequest, SyncResponse};
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    let key = tumbuh_fuzz::bundle_key();
    if let Ok(h) = bundle::header(data) {
        for direction in [Direction::Upload, Direction::Reply] {
            if let Ok(message) = bundle::open(data, direction, &key) {
                // Only a bundle sealed with this key gets here.
                assert_eq!(h.direction, direction);
                let _ = wire::decode::<SyncRequest>(message, MAX_MESSAGE_BYTES);
                let _ = wire::decode::<SyncResponse>(message, MAX_MESSAGE_BYTES);
            }
        }
    } else {
        assert!(bundle::open(data, Direction::Upload, &key).is_err());
    }
    // The bytes as the message of a genuine bundle.
    let sealed = bundle::seal(Direction::Upload, Uuid::nil(), &key, data);
    let opened = bundle::open(&sealed, Direction::Upload, &key).expect("own bundle opens");
    assert_eq!(opened, data);
    assert!(bundle::open(&sealed, Direction::Upload, &bundle::bundle_key("other")).is_err());
    let _ = wire::decode::<SyncRequest>(opened, MAX_MESSAGE_BYTES);
});
