//! Fuzzing by property: every decoder that takes bytes from outside — framed
//! sync messages, bundles, the compact change encoding, Automerge documents
//! and changes from devices — answers arbitrary or damaged input with an
//! error, never a panic. (proptest keeps failing inputs in
//! `proptest-regressions/` as regression cases.)

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_bytes::ByteBuf;
use sync_protocol::bundle::{self, Direction, bundle_key};
use sync_protocol::wire::{
    self, ChildChanges, RepairRequest, SnapshotRequest, SnapshotResponse, SyncRequest, SyncResponse,
};
use sync_protocol::{
    ChildDocument, ChildId, DeviceId, Grams, MeasurementId, MeasurementInput, Millimetres,
    Position, Profile, Sex, compact,
};

fn document() -> ChildDocument {
    let profile = Profile {
        name: "Siti".into(),
        sex: Sex::P,
        birth_date: NaiveDate::from_ymd_opt(2023, 5, 17).expect("date"),
        mother_name: "Sri".into(),
        nik: Some("3530015705230001".into()),
        no_kk: None,
        mother_nik: None,
        father_name: None,
        rt: None,
        rw: None,
        address: None,
        posyandu: "353001200205".into(),
        desa: None,
        birth_weight: None,
        birth_length: None,
        consent_by: None,
        consent_on: None,
    };
    let mut doc =
        ChildDocument::create(DeviceId::new().actor(), ChildId::new(), &profile, 1).expect("doc");
    let m = MeasurementInput {
        date: NaiveDate::from_ymd_opt(2024, 8, 5).expect("date"),
        weight: Some(Grams(9800)),
        length: Some(Millimetres(795)),
        position: Some(Position::Lying),
        muac: None,
        head: None,
        oedema: false,
        posyandu: "353001200205".into(),
        by: "Sri".into(),
        round: None,
    };
    doc.add_measurement(MeasurementId::new(), &m, 2)
        .expect("measure");
    doc
}

fn sync_request_bytes() -> Vec<u8> {
    let mut doc = document();
    let changes = doc
        .changes_since(&[])
        .into_iter()
        .map(|c| ByteBuf::from(compact::compact(&c.bytes, |_| true)))
        .collect();
    wire::encode(&SyncRequest {
        batch: uuid::Uuid::now_v7(),
        cursor: 7,
        upload: vec![ChildChanges {
            child: doc.id(),
            changes,
        }],
        max_page_bytes: 0,
    })
    .expect("encode")
}

/// A valid input with some bytes changed and maybe cut short.
fn damaged(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len();
    (
        proptest::collection::vec((0..len, any::<u8>()), 1..8),
        1..=len,
    )
        .prop_map(move |(edits, cut)| {
            let mut bytes = valid.clone();
            for (i, b) in edits {
                bytes[i] = b;
            }
            bytes.truncate(cut);
            bytes
        })
}

/// One sealed upload bundle, the same for every case.
static BUNDLE: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    bundle::seal(
        Direction::Upload,
        uuid::Uuid::nil(),
        &bundle_key("t"),
        &sync_request_bytes(),
    )
});

fn decode_all(bytes: &[u8]) {
    let cap = 1 << 20;
    let _ = wire::decode::<SyncRequest>(bytes, cap);
    let _ = wire::decode::<SyncResponse>(bytes, cap);
    let _ = wire::decode::<SnapshotRequest>(bytes, cap);
    let _ = wire::decode::<SnapshotResponse>(bytes, cap);
    let _ = wire::decode::<RepairRequest>(bytes, cap);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_any_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        decode_all(&bytes);
        let _ = bundle::header(&bytes);
        let _ = bundle::open(&bytes, Direction::Upload, &bundle_key("t"));
        let _ = compact::expand(&bytes, |_| Some([7u8; 32]));
        let _ = ChildDocument::load(DeviceId::new().actor(), &bytes);
        let _ = automerge::Change::from_bytes(bytes);
    }

    #[test]
    fn damaged_sync_messages_are_errors(bytes in damaged(sync_request_bytes())) {
        decode_all(&bytes);
    }

    #[test]
    fn garbage_after_a_valid_header_is_an_error(
        body in proptest::collection::vec(any::<u8>(), 0..512)
    ) {
        // Past the header, straight into zstd and postcard.
        let mut bytes = sync_request_bytes()[..6].to_vec();
        bytes.extend(body);
        decode_all(&bytes);
    }

    #[test]
    fn damaged_documents_are_errors_or_readable(bytes in damaged(document().save())) {
        if let Ok(doc) = ChildDocument::load(DeviceId::new().actor(), &bytes) {
            let _ = doc.child();
            let _ = doc.conflicts();
        }
    }

    #[test]
    fn damaged_changes_are_errors(bytes in damaged(document().changes_since(&[])[1].bytes.clone())) {
        let _ = automerge::Change::from_bytes(bytes.clone());
        let encoded = compact::compact(&bytes, |_| true);
        let _ = compact::expand(&encoded, |_| Some([1u8; 32]));
    }

    #[test]
    fn damaged_bundles_are_refused(bytes in damaged(BUNDLE.clone())) {
        if bytes != *BUNDLE {
            prop_assert!(bundle::open(&bytes, Direction::Upload, &bundle_key("t")).is_err());
        }
    }
}
