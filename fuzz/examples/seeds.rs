//! Writes the seed corpus of every fuzz target into `fuzz/corpus/<target>/`:
//! valid inputs for libFuzzer to start mutating from. Run from `fuzz/` with
//! `cargo run --example seeds` (the files are committed; rerun only when a
//! format changes).

use std::fs;
use std::path::Path;

use serde_bytes::ByteBuf;
use sync_protocol::bundle::{self, Direction};
use sync_protocol::wire::{
    self, Ack, ChildChanges, ChildDigest, ChildSnapshot, Digest, RepairRequest, RepairResponse,
    ScopeChecksum, SnapshotRequest, SnapshotResponse, SyncRequest, SyncResponse,
};
use sync_protocol::{ChildDocument, ChildId};
use tumbuh_fuzz::{BASE, base_document, upload_seeds};
use uuid::Uuid;

fn put(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("corpus dir");
    fs::write(dir.join(name), bytes).expect("write seed");
}

fn main() {
    let child = ChildId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00c1));
    let batch = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0b01);
    let uploads = upload_seeds();
    let mut doc = base_document();
    let changes: Vec<ByteBuf> = doc
        .changes_since(&[])
        .into_iter()
        .map(|c| ByteBuf::from(c.bytes))
        .collect();
    let group = ChildChanges {
        child,
        changes: uploads.iter().cloned().map(ByteBuf::from).collect(),
    };
    let digest = Digest {
        changes: 2,
        xor: 0x1234_5678_9abc_def0,
    };
    let checksum = ScopeChecksum {
        children: 1,
        digest,
    };

    let request = wire::encode(&SyncRequest {
        batch,
        cursor: 7,
        upload: vec![group.clone()],
        max_page_bytes: 0,
    })
    .expect("encode");
    put("wire_decode", "sync_request", &request);
    let response = wire::encode(&SyncResponse {
        batch,
        acks: vec![Ack::Stored, Ack::Rejected("no".into())],
        feed: vec![ChildChanges { child, changes }],
        cursor: 9,
        more: false,
        checksum: Some(checksum),
    })
    .expect("encode");
    put("wire_decode", "sync_response", &response);
    put(
        "wire_decode",
        "snapshot_request",
        &wire::encode(&SnapshotRequest {
            upto: 0,
            after: Some(child),
            max_page_bytes: 1 << 20,
        })
        .expect("encode"),
    );
    put(
        "wire_decode",
        "snapshot_response",
        &wire::encode(&SnapshotResponse {
            upto: 9,
            children: vec![ChildSnapshot {
                child,
                document: ByteBuf::from(BASE.saved.clone()),
            }],
            next: None,
            total_children: 1,
        })
        .expect("encode"),
    );
    put(
        "wire_decode",
        "repair_request",
        &wire::encode(&RepairRequest {
            digests: vec![ChildDigest { child, digest }],
        })
        .expect("encode"),
    );
    put(
        "wire_decode",
        "repair_response",
        &wire::encode(&RepairResponse {
            children: vec![group],
            reupload: vec![child],
            checksum,
        })
        .expect("encode"),
    );

    let key = tumbuh_fuzz::bundle_key();
    let enrolment = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0e01);
    put(
        "bundle_decode",
        "upload",
        &bundle::seal(Direction::Upload, enrolment, &key, &request),
    );
    put(
        "bundle_decode",
        "reply",
        &bundle::seal(Direction::Reply, enrolment, &key, &response),
    );

    for (i, change) in uploads.iter().enumerate() {
        put("change_upload", &format!("compact_{i}"), change);
    }
    // One in full (tag 0): the first upload's change, expanded.
    let resolve = |p: &[u8; 8]| BASE.hashes.iter().find(|h| h[..8] == p[..]).copied();
    let full = sync_protocol::compact::expand(&uploads[0], resolve).expect("expand");
    let mut tagged = vec![0u8];
    tagged.extend_from_slice(&full);
    put("change_upload", "full_0", &tagged);
    let _ = ChildDocument::load(tumbuh_fuzz::other_device().actor(), &BASE.saved).expect("loads");
    // The base document itself, for the regression tests of this target.
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sync-protocol/tests/fuzz-regressions/change_upload");
    fs::create_dir_all(&regressions).expect("regressions dir");
    fs::write(regressions.join("base.automerge"), &BASE.saved).expect("write base");

    // Three rows of the synthetic field export.
    let measurements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/synthetic/measurements.csv");
    let text = fs::read_to_string(&measurements).expect("../shared/synthetic/measurements.csv");
    let head: Vec<&str> = text.lines().take(4).collect();
    put(
        "import_csv",
        "field_export.csv",
        format!("{}\n", head.join("\n")).as_bytes(),
    );
    put(
        "import_csv",
        "ppgbm.csv",
        "Daftar Anak Berdasarkan Status Gizi;;;\r\n\r\n\
         No;NIK;Nama Anak;JK;Tgl Lahir;BB Lahir;Nama Ortu;Desa/Kel;Posyandu;RT;RW;Tanggal Pengukuran;Berat;Tinggi;Cara Ukur;LiLA\r\n\
         1;3530014512230001;Siti Aminah;P;05/12/2023;3,2;Ibu Sri;Desa Mulyorejo;Posyandu Kenanga 1;003;005;12-08-2024;8,5;70,1;Terlentang;13,5\r\n\
         2;;Budi;L;31/02/2023;3,2;Ibu Sri;Mulyorejo;Kenanga 1;003;005;12-08-2024;8,5;70,1;Berdiri;\r\n"
            .as_bytes(),
    );

    let workbook = tumbuh_fuzz::seed_workbook();
    put("import_xlsx", "ppgbm.xlsx", &workbook);
    // The same sheet as XML, which the target wraps into a workbook.
    let mut parts = tumbuh_fuzz::part(tumbuh_fuzz::SHEET).to_vec();
    parts.push(0);
    parts.extend_from_slice(tumbuh_fuzz::part(tumbuh_fuzz::SHARED_STRINGS));
    put("import_xlsx", "ppgbm_sheet_xml", &parts);

    put(
        "import_html",
        "laporan.xls",
        "<html><head><meta charset=\"utf-8\"></head><body>\
        <h3>Daftar Anak Berdasarkan Status Gizi</h3><table border=1>\
        <tr><td colspan=\"8\">Posyandu Kenanga 1</td></tr>\
        <tr><th>Nama</th><th>JK</th><th>Tgl Lahir</th><th>Desa/Kel</th><th>Posyandu</th><th>Tanggal Pengukuran</th><th>Berat</th><th>Cara Ukur</th><th>Tinggi</th></tr>\
        <tr><td>Dimas&nbsp;Pratama</td><td>L</td><td>05-12-2023</td><td>Mulyorejo</td><td>Kenanga 1</td><td>12-08-2024</td><td>8,4</td><td>Terlentang</td><td>70</td></tr>\
        <tr><td>Eka</td><td>P</td><td>05-12-2023</td><td>Mulyorejo</td><td>Kenanga 1</td><td>12-08-2024</td><td>8,4</td><td>Duduk</td><td>70</td></tr>\
        </table></body></html>"
            .as_bytes(),
    );
    let field_html: String = std::iter::once(format!(
        "<table><tr>{}</tr>",
        head[0]
            .split(',')
            .map(|h| format!("<th>{h}</th>"))
            .collect::<String>()
    ))
    .chain(head[1..].iter().map(|line| {
        format!(
            "<tr>{}</tr>",
            line.split(',')
                .map(|c| format!("<td>{}</td>", c.trim_matches('"')))
                .collect::<String>()
        )
    }))
    .chain(std::iter::once("</table>".to_string()))
    .collect();
    put("import_html", "field_export.xls", field_html.as_bytes());
}
