//! Inputs that crashed a cargo-fuzz target (`fuzz/`), kept as regression
//! tests: each must now be answered with an error, never a panic, and must
//! not poison the child's document. The inputs live in
//! `tests/fuzz-regressions/<target>/`, byte for byte as the fuzzer wrote
//! them (`crash-*`: refused when applied and left out when loaded;
//! `apply-*`: refused when applied).

use std::path::{Path, PathBuf};

use sync_protocol::{ChildDocument, DeviceId, compact};

fn dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target)
}

fn device(n: u128) -> DeviceId {
    DeviceId::from_uuid(uuid::Uuid::from_u128(n))
}

/// The `change_upload` target's base document (`fuzz/src/lib.rs`, saved
/// by `fuzz/examples/seeds.rs`) and the hashes of its changes.
fn base() -> (Vec<u8>, Vec<[u8; 32]>) {
    let saved = std::fs::read(dir("change_upload").join("base.automerge")).expect("base document");
    let mut doc = ChildDocument::load(device(2).actor(), &saved).expect("base loads");
    let hashes = doc.changes_since(&[]).iter().map(|c| c.hash.0).collect();
    (saved, hashes)
}

/// Feeds one upload as the fuzz target does and asserts it is refused
/// without altering the document when applied to a loaded document, and
/// left out when loaded after the document's bytes (how the server and
/// devices rebuild a child from stored changes).
fn assert_change_refused(input: &[u8]) {
    let (saved, hashes) = base();
    let resolve = |p: &[u8; compact::PREFIX]| {
        hashes
            .iter()
            .find(|h| h[..compact::PREFIX] == p[..])
            .copied()
    };
    let Ok(bytes) = compact::expand(input, resolve) else {
        return;
    };
    let mut doc = ChildDocument::load(device(2).actor(), &saved).expect("base loads");
    let before = doc.child().expect("base reads");
    let heads = doc.heads();
    assert!(
        doc.apply_changes([bytes.as_slice()]).is_err(),
        "the change must be refused"
    );
    assert_eq!(doc.heads(), heads);
    assert_eq!(doc.child().expect("still reads"), before);

    // Stored once, the change must not poison the child for everyone:
    // the document loads without it and reads as before.
    let mut both = saved.clone();
    both.extend_from_slice(&bytes);
    let mut elsewhere = ChildDocument::load(device(3).actor(), &both).expect("still loads");
    assert_eq!(elsewhere.heads(), heads);
    assert_eq!(elsewhere.child().expect("still reads"), before);
}

/// A 12-byte compact upload that rebuilds into a change whose author (an
/// empty actor id, sequence 5, no dependencies) the document has never
/// seen: Automerge 0.12 panicked on an `unwrap` looking the actor up.
#[test]
fn change_upload_unknown_actor_is_refused() {
    let input = std::fs::read(dir("change_upload").join("crash-unknown-actor")).expect("input");
    assert_change_refused(&input);
}

/// Changes Automerge applied but could not save: the saved document failed
/// to load ("missing ops"; "mismatching heads" for a change not in
/// Automerge's own encoding, which gets another hash when saved), or
/// whose ops name an actor index past the change's actor table.
#[test]
fn change_upload_unsaveable_change_is_refused() {
    for name in ["apply-missing-ops", "apply-mismatching-heads"] {
        assert_apply_refused(&std::fs::read(dir("change_upload").join(name)).expect("input"));
    }
}

/// A change whose ops name an actor index past its own actor table:
/// `Change::from_bytes` accepts it and Automerge 0.12 panics on it
/// (`InvalidActorIndex`, an `unwrap` in `op_set2/change/batch.rs`) in
/// `apply_changes`, in `load` and in `Change::decode`. Every change is now
/// decoded under a panic guard before it is applied: refused when applied,
/// left out when loaded.
#[test]
fn change_upload_op_actor_index_out_of_range_is_refused() {
    let input = std::fs::read(dir("change_upload").join("apply-actor-index")).expect("input");
    assert_apply_refused(&input);
    assert_change_refused(&input);
}

/// Applying `input` is refused, the document untouched; loading it after
/// the document's bytes does not panic.
fn assert_apply_refused(input: &[u8]) {
    let (saved, hashes) = base();
    let resolve = |p: &[u8; compact::PREFIX]| {
        hashes
            .iter()
            .find(|h| h[..compact::PREFIX] == p[..])
            .copied()
    };
    let bytes = compact::expand(input, resolve).expect("expands");
    let mut doc = ChildDocument::load(device(2).actor(), &saved).expect("base loads");
    let before = doc.child().expect("base reads");
    let heads = doc.heads();
    assert!(doc.apply_changes([bytes.as_slice()]).is_err());
    assert_eq!(doc.heads(), heads);
    assert_eq!(doc.child().expect("still reads"), before);
    let mut both = saved.clone();
    both.extend_from_slice(&bytes);
    let _ = ChildDocument::load(device(3).actor(), &both);
}

/// Every input kept for the target, including ones added later.
#[test]
fn every_change_upload_crash_is_refused() {
    let mut n = 0;
    for entry in std::fs::read_dir(dir("change_upload")).expect("dir") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("crash-"))
        {
            assert_change_refused(&std::fs::read(&path).expect("input"));
            n += 1;
        }
    }
    assert!(n > 0);
}
