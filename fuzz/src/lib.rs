//! Shared fixtures of the fuzz targets (`fuzz_targets/`) and of the seed
//! corpus writer (`examples/seeds.rs`): a fixed child document, fixed
//! device ids and bundle key, and the small area directory the import
//! targets read against. Everything here is built from constants, never
//! from fuzz input, so its `expect`s cannot be reached by an input.

use std::sync::LazyLock;

use chrono::NaiveDate;
use sync_protocol::{
    ChildDocument, ChildId, DeviceId, Grams, MeasurementId, MeasurementInput, Millimetres,
    Position, Profile, ProfileField, Sex, compact,
};
use tumbuh_server::import::{AreaDirectory, ImportError, ParsedFile, read_bytes};
use uuid::Uuid;

/// The device that registered the base document.
/// Lets a panic that our code catches stay caught. libfuzzer-sys installs
/// a panic hook that aborts on *every* panic, but Tumbuh runs Automerge on
/// outside bytes under a panic guard (`ChildDocument::apply_changes`: a
/// panic inside Automerge is a refused change, on a throw-away fork), and
/// that is the behaviour under test. A panic nobody catches still reaches
/// libfuzzer-sys's `catch_unwind` around the target and aborts there, so it
/// is still found; the target's own asserts check what a refusal must leave.
pub fn let_caught_panics_be() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|_| {}));
    });
}

pub fn registering_device() -> DeviceId {
    DeviceId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001))
}

/// The device whose uploads the `change_upload` target plays.
pub fn uploading_device() -> DeviceId {
    DeviceId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002))
}

/// Everyone else: the server or another device loading the saved document.
pub fn other_device() -> DeviceId {
    DeviceId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003))
}

/// The bundle key of the `bundle_decode` target.
pub fn bundle_key() -> [u8; 32] {
    sync_protocol::bundle::bundle_key("fuzz-enrolment-token")
}

fn measurement(day: u32, weight: u32) -> MeasurementInput {
    MeasurementInput {
        date: NaiveDate::from_ymd_opt(2024, 8, day).expect("constant date"),
        weight: Some(Grams(weight)),
        length: Some(Millimetres(795)),
        position: Some(Position::Lying),
        muac: None,
        head: None,
        oedema: false,
        posyandu: "353001200205".into(),
        by: "Sri".into(),
        round: Some("2024-08".into()),
    }
}

/// The first measurement's id in the base document.
pub const FIRST_MEASUREMENT: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0101;

/// A valid child document: registration and one measurement.
pub fn base_document() -> ChildDocument {
    let profile = Profile {
        name: "Siti".into(),
        sex: Sex::P,
        birth_date: NaiveDate::from_ymd_opt(2023, 5, 17).expect("constant date"),
        mother_name: "Sri".into(),
        nik: Some("3530015705230001".into()),
        no_kk: None,
        mother_nik: None,
        father_name: None,
        rt: Some("003".into()),
        rw: None,
        address: None,
        posyandu: "353001200205".into(),
        desa: None,
        birth_weight: Some(Grams(3200)),
        birth_length: None,
        consent_by: None,
        consent_on: None,
    };
    let id = ChildId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00c1));
    let mut doc = ChildDocument::create(registering_device().actor(), id, &profile, 1_700_000_000)
        .expect("create base document");
    doc.add_measurement(
        MeasurementId::from_uuid(Uuid::from_u128(FIRST_MEASUREMENT)),
        &measurement(5, 9800),
        1_700_000_001,
    )
    .expect("add measurement");
    doc
}

/// The base document saved, and the hashes of its changes (what the
/// server holds for the child, against which compact uploads resolve).
pub struct Base {
    pub saved: Vec<u8>,
    pub hashes: Vec<[u8; 32]>,
}

/// Built once per process.
pub static BASE: LazyLock<Base> = LazyLock::new(|| {
    let mut doc = base_document();
    let hashes = doc.changes_since(&[]).iter().map(|c| c.hash.0).collect();
    Base {
        saved: doc.save(),
        hashes,
    }
});

/// Changes a device could upload on top of the base document, one edit
/// each (every dependency is in the base), in the compact upload encoding.
pub fn upload_seeds() -> Vec<Vec<u8>> {
    let edits: Vec<Box<dyn Fn(&mut ChildDocument)>> = vec![
        Box::new(|d| {
            d.add_measurement(
                MeasurementId::from_uuid(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0102,
                )),
                &measurement(12, 10100),
                1_700_000_100,
            )
            .expect("measure");
        }),
        Box::new(|d| {
            d.set_fields(
                &[
                    (ProfileField::Name, Some("Siti Aminah".into())),
                    (ProfileField::Rt, None),
                ],
                1_700_000_200,
            )
            .expect("edit");
        }),
        Box::new(|d| {
            d.void_measurement(
                MeasurementId::from_uuid(Uuid::from_u128(FIRST_MEASUREMENT)),
                "typo",
                "Sri",
                1_700_000_300,
            )
            .expect("void");
        }),
    ];
    let mut out = Vec::new();
    for edit in edits {
        let mut doc =
            ChildDocument::load(uploading_device().actor(), &BASE.saved).expect("base loads");
        let heads = doc.heads();
        edit(&mut doc);
        for change in doc.changes_since(&heads) {
            out.push(compact::compact(&change.bytes, |_| true));
        }
    }
    out
}

/// The areas the import targets read against: the part of
/// `shared/synthetic/areas.csv` that the seed files name.
pub const AREAS: &str = "code,level,name,parent_code
35,provinsi,Jawa Timur,
3530,kabupaten,Kabupaten Sukamakmur (fiktif),35
353001,kecamatan,Kedungjati,3530
3530011001,kelurahan,Mojoharjo,353001
353001100101,posyandu,Posyandu Mawar 1,3530011001
3530012001,desa,Mulyorejo,353001
353001200101,posyandu,Posyandu Kenanga 1,3530012001
3530012002,desa,Plosomanik,353001
353001200205,posyandu,Posyandu Dahlia 5,3530012002
";

static AREA_DIRECTORY: LazyLock<AreaDirectory> =
    LazyLock::new(|| AreaDirectory::from_csv_reader(AREAS.as_bytes()).expect("area directory"));

/// Reads `bytes` as an uploaded import file (the path `read_file` takes
/// after reading the file), with the area directory and a fixed "today".
/// Checks what must hold of any answer; a panic is the finding.
pub fn import(bytes: &[u8]) -> Result<ParsedFile, ImportError> {
    let today = NaiveDate::from_ymd_opt(2024, 9, 30).expect("constant date");
    let mut last = (0u64, 0u64);
    let result = read_bytes(
        bytes.to_vec(),
        Some(&AREA_DIRECTORY),
        today,
        &mut |done, all| {
            assert!(done <= all, "progress {done} of {all}");
            last = (done, all);
        },
    );
    if let Ok(parsed) = &result {
        assert!(
            parsed.rows.len() <= parsed.total_rows,
            "more rows than seen"
        );
        assert!(
            parsed.rows.windows(2).all(|w| w[0].line < w[1].line),
            "rows out of file order"
        );
        // Every row kept is free of errors.
        for row in &parsed.rows {
            assert!(
                !parsed
                    .problems
                    .iter()
                    .any(|p| p.line == row.line
                        && p.severity == tumbuh_server::import::Severity::Error),
                "row {} kept despite an error",
                row.line
            );
        }
    }
    result
}

/// A small e-PPGBM workbook: a summary sheet, then a titled table with a
/// NIK as a number, dates as serials and a decimal comma.
pub fn seed_workbook() -> Vec<u8> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    // A fixed creation time, so that the seed is the same on every run.
    let created = ExcelDateTime::from_ymd(2024, 8, 1).expect("constant date");
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let date = Format::new().set_num_format("dd/mm/yyyy");
    book.add_worksheet()
        .set_name("Ringkasan")
        .expect("sheet name")
        .write_string(0, 0, "Jumlah balita")
        .expect("summary");
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "Daftar Anak Berdasarkan Status Gizi")
        .expect("title");
    let header = [
        "NIK",
        "Nama",
        "JK",
        "Tgl Lahir",
        "Desa/Kel",
        "Posyandu",
        "Tanggal Pengukuran",
        "Berat",
        "Tinggi",
        "Cara Ukur",
        "LiLA",
    ];
    for (c, h) in (0u16..).zip(header) {
        sheet.write_string(2, c, h).expect("header");
    }
    let rows: [(f64, &str, &str, &str); 3] = [
        (3.5301e15, "Ani", "P", "8.5"),
        (3530014512230001.0, "Budi", "L", "8.5"),
        (0.0, "Citra", "Perempuan", "7,9"),
    ];
    for (r, (nik, name, sex, weight)) in (3u32..).zip(rows) {
        if nik > 0.0 {
            sheet.write_number(r, 0, nik).expect("nik");
        } else {
            sheet.write_string(r, 0, "3530015512230002").expect("nik");
        }
        sheet.write_string(r, 1, name).expect("name");
        sheet.write_string(r, 2, sex).expect("sex");
        sheet
            .write_number_with_format(r, 3, 45265.0, &date)
            .expect("birth");
        sheet.write_string(r, 4, "Mulyorejo").expect("desa");
        sheet.write_string(r, 5, "Kenanga 1").expect("posyandu");
        sheet
            .write_number_with_format(r, 6, 45516.0, &date)
            .expect("measured");
        sheet.write_string(r, 7, weight).expect("weight");
        sheet.write_number(r, 8, 70.1).expect("height");
        sheet.write_string(r, 9, "Berdiri").expect("position");
        sheet.write_number(r, 10, 13.5).expect("lila");
    }
    book.save_to_buffer().expect("xlsx to buffer")
}

/// The worksheet of [`seed_workbook`] that holds the table.
pub const SHEET: &str = "xl/worksheets/sheet2.xml";
/// Its shared strings.
pub const SHARED_STRINGS: &str = "xl/sharedStrings.xml";

/// The parts of [`seed_workbook`], by name, in order.
static WORKBOOK_PARTS: LazyLock<Vec<(String, Vec<u8>)>> = LazyLock::new(|| {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(seed_workbook())).expect("seed zip");
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).expect("seed zip entry");
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).expect("seed zip entry reads");
            (file.name().expect("seed zip entry name").to_string(), bytes)
        })
        .collect()
});

/// One part of [`seed_workbook`] (empty if there is none of that name).
pub fn part(name: &str) -> &'static [u8] {
    WORKBOOK_PARTS
        .iter()
        .find(|(n, _)| n == name)
        .map_or(&[], |(_, b)| b.as_slice())
}

/// [`seed_workbook`] with its table sheet and shared strings replaced, so
/// that fuzz input reaches calamine's XML reading past the zip layer (whose
/// CRCs a mutated zip almost never passes).
pub fn workbook_with(sheet: &[u8], shared_strings: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in WORKBOOK_PARTS.iter() {
        let bytes = match name.as_str() {
            SHEET => sheet,
            SHARED_STRINGS => shared_strings,
            _ => bytes.as_slice(),
        };
        out.start_file(name.as_str(), stored)
            .expect("zip to memory");
        out.write_all(bytes).expect("zip to memory");
    }
    out.finish().expect("zip to memory").into_inner()
}
