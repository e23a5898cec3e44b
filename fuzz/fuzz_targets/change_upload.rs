//! Feeds arbitrary bytes as one change a device uploads for an existing
//! child: `compact::expand` (dependency prefixes resolve against the
//! child's stored changes), `automerge::Change::from_bytes`, then
//! `ChildDocument::apply_changes` on a valid document and `child()`.
//! Must hold: never a panic; a refused change leaves the document reading
//! back exactly as before (same heads, same record) — a malformed change
//! does not poison the child; and an accepted change leaves a document
//! that everyone else can load from its saved bytes and read the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_protocol::{ChildDocument, compact};
use tumbuh_fuzz::{BASE, other_device, uploading_device};

fuzz_target!(|data: &[u8]| {
    tumbuh_fuzz::let_caught_panics_be();
    let base = &*BASE;
    let mut doc = ChildDocument::load(uploading_device().actor(), &base.saved).expect("base loads");
    let before = doc.child().expect("base reads");
    let heads = doc.heads();
    let resolve = |prefix: &[u8; compact::PREFIX]| {
        base.hashes
            .iter()
            .find(|h| h[..compact::PREFIX] == prefix[..])
            .copied()
    };
    let applied = compact::expand(data, resolve)
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            automerge::Change::from_bytes(bytes.clone())
                .map(|_| bytes)
                .map_err(|e| e.to_string())
        })
        .and_then(|bytes| {
            doc.apply_changes([bytes.as_slice()])
                .map_err(|e| e.to_string())
        });
    match applied {
        Err(_) => {
            assert_eq!(doc.heads(), heads, "a refused change moved the heads");
            let after = doc.child().expect("a refused change broke the record");
            assert_eq!(after, before, "a refused change altered the record");
        }
        Ok(()) => {
            let after = doc.child();
            let _ = doc.conflicts();
            let saved = doc.save();
            let other = ChildDocument::load(other_device().actor(), &saved)
                .expect("the document with an accepted change loads elsewhere");
            assert_eq!(
                other.child().ok(),
                after.ok(),
                "reads differently elsewhere"
            );
        }
    }
});
