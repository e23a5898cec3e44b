//! Reading import files (`tumbuh_server::import`): the real synthetic field
//! export, and small hand-made e-PPGBM files in every container (CSV with
//! `;`, `.xlsx` written here, an HTML table saved as `.xls`), each problem
//! checked at its exact line and column.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sync_protocol::{Grams, Millimetres, Position, Sex};
use tumbuh_server::import::{
    AreaDirectory, FileFormat, ImportError, ParsedFile, Severity, read_file, read_file_as_of,
};

/// The areas of the synthetic kabupaten used below (a part of
/// `shared/synthetic/areas.csv`).
const AREAS: &str = "code,level,name,parent_code
35,provinsi,Jawa Timur,
3530,kabupaten,Kabupaten Sukamakmur (fiktif),35
353001,kecamatan,Kedungjati,3530
3530011001,kelurahan,Mojoharjo,353001
353001100101,posyandu,Posyandu Mawar 1,3530011001
3530012001,desa,Mulyorejo,353001
353001200101,posyandu,Posyandu Kenanga 1,3530012001
353001200102,posyandu,Posyandu Nusa 2,3530012001
";

fn areas() -> AreaDirectory {
    AreaDirectory::from_csv_reader(AREAS.as_bytes()).expect("area directory")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 9, 30).expect("date")
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn read(path: &Path, areas: Option<&AreaDirectory>) -> Result<ParsedFile, ImportError> {
    read_file_as_of(path, areas, today(), &mut |_, _| {})
}

/// Asserts the problems, in order, as (line, column, value, severity) and a
/// piece of the reason.
fn check_problems(parsed: &ParsedFile, expected: &[(usize, &str, &str, Severity, &str)]) {
    let got: Vec<String> = parsed
        .problems
        .iter()
        .map(|p| format!("{p} [{:?}]", p.severity))
        .collect();
    assert_eq!(parsed.problems.len(), expected.len(), "problems: {got:#?}");
    for (p, (line, column, value, severity, reason)) in parsed.problems.iter().zip(expected) {
        assert_eq!(
            (p.line, p.column.as_str(), p.value.as_str(), p.severity),
            (*line, *column, *value, *severity),
            "{got:#?}"
        );
        assert!(
            p.reason.contains(reason),
            "`{}` should contain `{reason}`",
            p.reason
        );
    }
}

#[test]
fn synthetic_field_export_reads_every_row_without_errors() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/synthetic/measurements.csv");
    let areas_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/synthetic/areas.csv");
    let areas = AreaDirectory::from_path(&areas_path).expect("areas.csv");
    assert_eq!(areas.len(), 80);
    let mut calls = 0;
    let mut last = (0, 0);
    let parsed = read_file(&path, Some(&areas), &mut |done, total| {
        calls += 1;
        last = (done, total);
    })
    .expect("measurements.csv");
    assert_eq!(parsed.format, FileFormat::FieldCsv);
    assert_eq!(parsed.total_rows, 10_554);
    assert_eq!(parsed.rows.len(), 10_554);
    let errors: Vec<String> = parsed
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.to_string())
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    assert!(parsed.ignored_columns.is_empty() && parsed.missing_columns.is_empty());
    assert!(calls > 2 && last == (10_554, 10_554));

    let first = &parsed.rows[0];
    assert_eq!(first.line, 2);
    assert_eq!(first.external_id, "8a22fa42-44ca-4e82-a1ed-251215c9a648");
    assert_eq!(first.round.as_deref(), Some("2024-03"));
    assert_eq!(first.posyandu, "353001200205");
    assert_eq!(first.desa.as_deref(), Some("3530012002"));
    assert_eq!(first.kader.as_deref(), Some("353001200205-K1"));
    assert_eq!(first.name, "Mochammad Rafa");
    assert_eq!(first.sex, Sex::L);
    assert_eq!(
        first.birth_date,
        NaiveDate::from_ymd_opt(2020, 12, 8).expect("date")
    );
    assert_eq!(first.nik, None);
    assert_eq!(first.no_kk.as_deref(), Some("3530010109131126"));
    assert_eq!(first.birth_weight, Some(Grams(3400)));
    assert_eq!(
        first.address.as_deref(),
        Some("Dk. Klampok, Desa Plosomanik")
    );
    let m = first.measurement.as_ref().expect("measurement");
    assert_eq!(
        (m.weight, m.length, m.position, m.muac),
        (
            Some(Grams(13400)),
            Some(Millimetres(962)),
            Some(Position::Standing),
            None
        )
    );
    // Birth weights typed in grams are read as grams.
    assert!(
        parsed
            .rows
            .iter()
            .any(|r| r.birth_weight == Some(Grams(3500)))
    );
    // The gross errors of the set (a weight of 151 kg, a height of 15.3 cm)
    // are warnings: the row stays, the value is left out.
    assert!(
        parsed
            .problems
            .iter()
            .any(|p| p.column == "weight_kg" && p.value == "151")
    );
    assert!(
        parsed
            .problems
            .iter()
            .any(|p| p.column == "height_cm" && p.value == "015.3")
    );
}

/// A field export made by hand: its own problems.
#[test]
fn field_csv_problems_are_reported_at_their_cell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let header = "record_id,round,measured_on,posyandu_code,desa_code,kader_id,nik,no_kk,name,sex,birth_date,birth_weight_kg,mother_name,mother_nik,father_name,rt,rw,address,weight_kg,height_cm,measure_position,muac_cm";
    let mut text = format!("{header}\r\n");
    text.push_str("r1,2024-08,2024-08-12,353001200101,3530012001,K1,3530014512230001,,Siti,P,2023-12-05,3200,Sri,,,3,5,Krajan,\"8,5\",70.1,lying,\r\n");
    text.push_str("r2,2024-08,2024-08-12,353001200101,3530012001,K1,,,Budi,L,2023-12-05,,Sri,,,3,5,Krajan,83..9,70.1,lying,\r\n");
    text.push_str("r1,2024-08,2024-08-12,353001200101,3530012001,K1,3530014512230001,,Siti,P,2023-12-05,3200,Sri,,,3,5,Krajan,\"8,5\",70.1,lying,\r\n");
    text.push_str("r3,2024-08,2024-08-12,353001200101,3530012001,K1,3.5301E+15,,Ani,P,2023-12-05,,Sri,,,3,5,Krajan,8.1,,,\r\n");
    text.push_str("r4,2024-8,2024-08-12,353001200101,3530012001,K1,,,Ani,X,2023-12-05,,Sri,,,3,5,Krajan,8.1,,,\r\n");
    text.push_str("r1,2024-08,2024-08-12,353001200101,3530012001,K1,,,Sita,P,2023-12-05,,Sri,,,3,5,Krajan,8.1,,,\r\n");
    let path = write(&dir, "field.csv", text.as_bytes());
    let parsed = read(&path, None).expect("read");
    assert_eq!(parsed.format, FileFormat::FieldCsv);
    assert_eq!(parsed.total_rows, 6);
    check_problems(
        &parsed,
        &[
            (3, "weight_kg", "83..9", Severity::Error, "not a number"),
            (4, "", "", Severity::Warning, "duplicate of line 2"),
            (
                5,
                "nik",
                "3.5301E+15",
                Severity::Error,
                "NIK was converted to a number by Excel (3.5301E+15); digits lost — re-export with the column as text",
            ),
            (6, "sex", "X", Severity::Error, "not a sex"),
            (6, "round", "2024-8", Severity::Error, "not a month"),
            (
                7,
                "record_id",
                "r1",
                Severity::Error,
                "the same id as line 2, with other values",
            ),
        ],
    );
    assert_eq!(
        parsed.problems[0].to_string(),
        "line 3, column `weight_kg` (\"83..9\"): not a number"
    );
    assert_eq!(parsed.rows.len(), 1);
    let row = &parsed.rows[0];
    assert_eq!(row.birth_weight, Some(Grams(3200)));
    assert_eq!(
        row.measurement.as_ref().and_then(|m| m.weight),
        Some(Grams(8500))
    );
    assert_eq!(row.nik.as_deref(), Some("3530014512230001"));
}

const PPGBM_HEADER: &str = "No;NIK;Nama Anak;JK;Tgl Lahir;BB Lahir;Nama Ortu;Prov;Kab/Kota;Kec;Pukesmas;Desa/Kel;Posyandu;RT;RW;Alamat;Usia Saat Ukur;Tanggal Pengukuran;Berat;Tinggi;Cara Ukur;BB/U;ZS BB/U;KPSP";

fn ppgbm_line(
    no: u32,
    nik: &str,
    name: &str,
    birth: &str,
    (desa, posyandu): (&str, &str),
    measured: &str,
    weight: &str,
) -> String {
    format!(
        "{no};{nik};{name};P;{birth};3,2;Ibu Sri;JAWA TIMUR;Kab. Sukamakmur;Kedungjati;Kedungjati;{desa};{posyandu};003;005;Dsn Krajan;8 bln;{measured};{weight};70,1;Terlentang;Normal;-0,5;Sesuai\r\n"
    )
}

#[test]
fn ppgbm_csv_with_semicolons_commas_and_title_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text =
        String::from("Daftar Anak Berdasarkan Status Gizi;;;\r\nBulan: Agustus 2024;;;\r\n\r\n");
    text.push_str(PPGBM_HEADER);
    text.push_str("\r\n");
    let ok = |no, name: &str| {
        ppgbm_line(
            no,
            "3530014512230001",
            name,
            "05/12/2023",
            ("Desa Mulyorejo", "Posyandu Kenanga 1"),
            "12-08-2024",
            "8,5",
        )
    };
    text.push_str(&ok(1, "Siti Aminah")); // line 5
    text.push_str(&ppgbm_line(
        2,
        "",
        "Budi",
        "05/12/2023",
        ("Mulyorejo", "Kenanga 1"),
        "12/08/2024",
        "83..9",
    )); // 6
    text.push_str(&ppgbm_line(
        3,
        "3,5301E+15",
        "Ani",
        "05/12/2023",
        ("Mulyorejo", "Kenanga 1"),
        "12/08/2024",
        "8",
    )); // 7
    text.push_str(&ppgbm_line(
        4,
        "",
        "Ana",
        "05/12/2023",
        ("Mulyorejo", "Anggrek 9"),
        "12/08/2024",
        "8",
    )); // 8
    text.push_str(&ppgbm_line(
        5,
        "",
        "Ayu",
        "31/02/2023",
        ("Mulyorejo", "Kenanga 1"),
        "12/08/2024",
        "8",
    )); // 9
    text.push_str(&ok(1, "Siti Aminah")); // 10: duplicate of 5
    text.push_str(&ppgbm_line(
        7,
        "353001451223001",
        "Rina",
        "2023-12-05",
        ("MULYOREJO", "NUSA 2"),
        "2024-08-12",
        "8,25",
    )); // 11
    text.push_str(&ppgbm_line(
        8,
        "",
        "Dewi",
        "13/08/2024",
        ("Mulyorejo", "Kenanga 1"),
        "12/08/2024",
        "8",
    )); // 12
    text.push_str(&ppgbm_line(
        9,
        "",
        "Lia",
        "05/12/2023",
        ("Mulyorejo", "Kenanga 1"),
        "01/01/2025",
        "8",
    )); // 13
    text.push_str(&ppgbm_line(
        10,
        "",
        "Nia",
        "05/12/2023",
        ("Sukamaju", "Kenanga 1"),
        "12/08/2024",
        "8",
    )); // 14
    let path = write(&dir, "ppgbm.csv", text.as_bytes());

    assert!(matches!(
        read(&path, None),
        Err(ImportError::NeedsAreaDirectory(FileFormat::PpgbmCsv))
    ));
    let areas = areas();
    let parsed = read(&path, Some(&areas)).expect("read");
    assert_eq!(parsed.format, FileFormat::PpgbmCsv);
    assert_eq!(parsed.total_rows, 10);
    assert_eq!(parsed.ignored_columns, ["No", "BB/U", "ZS BB/U", "KPSP"]);
    assert_eq!(parsed.missing_columns, ["TB Lahir", "LiLA"]);
    check_problems(
        &parsed,
        &[
            (6, "Berat", "83..9", Severity::Error, "not a number"),
            (
                7,
                "NIK",
                "3,5301E+15",
                Severity::Error,
                "converted to a number by Excel (3,5301E+15)",
            ),
            (
                8,
                "Posyandu",
                "Anggrek 9",
                Severity::Error,
                "posyandu `Anggrek 9` not found in desa/kelurahan Mulyorejo",
            ),
            (9, "Tgl Lahir", "31/02/2023", Severity::Error, "no such day"),
            (10, "", "", Severity::Warning, "duplicate of line 5"),
            (
                11,
                "NIK",
                "353001451223001",
                Severity::Warning,
                "NIK left out",
            ),
            (
                12,
                "Tgl Lahir",
                "13/08/2024",
                Severity::Error,
                "born after the measurement date 2024-08-12",
            ),
            (
                13,
                "Tanggal Pengukuran",
                "01/01/2025",
                Severity::Error,
                "in the future",
            ),
            (
                14,
                "Desa/Kel",
                "Sukamaju",
                Severity::Error,
                "desa/kelurahan `Sukamaju` not found in kecamatan Kedungjati",
            ),
        ],
    );
    let lines: Vec<usize> = parsed.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [5, 11]);
    let siti = &parsed.rows[0];
    assert_eq!(siti.posyandu, "353001200101");
    assert_eq!(siti.desa.as_deref(), Some("3530012001"));
    assert_eq!(siti.round.as_deref(), Some("2024-08"));
    assert_eq!(siti.mother_name, "Ibu Sri");
    assert_eq!(
        (siti.rt.as_deref(), siti.rw.as_deref()),
        (Some("003"), Some("005"))
    );
    assert_eq!(siti.birth_weight, Some(Grams(3200)));
    let m = siti.measurement.as_ref().expect("measurement");
    assert_eq!(m.date, NaiveDate::from_ymd_opt(2024, 8, 12).expect("date"));
    assert_eq!(
        (m.weight, m.length, m.position),
        (
            Some(Grams(8500)),
            Some(Millimetres(701)),
            Some(Position::Lying)
        )
    );
    assert!(siti.external_id.starts_with("ppgbm:") && siti.external_id.len() == 6 + 64);
    let rina = &parsed.rows[1];
    assert_eq!(
        (rina.posyandu.as_str(), rina.nik.as_deref()),
        ("353001200102", None)
    );
    assert_eq!(
        rina.measurement.as_ref().and_then(|m| m.weight),
        Some(Grams(8250))
    );

    // The same file read again gives the same ids.
    let again = read(&path, Some(&areas)).expect("read again");
    let ids = |p: &ParsedFile| {
        p.rows
            .iter()
            .map(|r| r.external_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&again), ids(&parsed));
}

#[test]
fn ppgbm_xlsx_with_numbers_for_nik_and_serial_dates() {
    use rust_xlsxwriter::{Format, Workbook};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ppgbm.xlsx");
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    // A summary sheet first: the reader takes the sheet whose header matches.
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
        "ZS TB/U",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(2, c as u16, *h).expect("header");
    }
    // Row 4: a NIK Excel turned into 3.5301E+15.
    // Row 5: a NIK stored as an exact 16-digit number; dates as serials.
    // Row 6: a text NIK; the measurement date a plain serial number.
    let rows: [(f64, &str, &str, f64, &str); 3] = [
        (3.5301e15, "Ani", "P", 45265.0, "8.5"),
        (3530014512230001.0, "Budi", "L", 45265.0, "8.5"),
        (0.0, "Citra", "Perempuan", 45265.0, "7,9"),
    ];
    for (i, (nik, name, sex, birth, weight)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        if *nik > 0.0 {
            sheet.write_number(r, 0, *nik).expect("nik");
        } else {
            sheet.write_string(r, 0, "3530015512230002").expect("nik");
        }
        sheet.write_string(r, 1, *name).expect("name");
        sheet.write_string(r, 2, *sex).expect("sex");
        sheet
            .write_number_with_format(r, 3, *birth, &date)
            .expect("birth");
        sheet.write_string(r, 4, "Mulyorejo").expect("desa");
        sheet.write_string(r, 5, "Kenanga 1").expect("posyandu");
        if i == 2 {
            sheet.write_number(r, 6, 45516.0).expect("measured");
        } else {
            sheet
                .write_number_with_format(r, 6, 45516.0, &date)
                .expect("measured");
        }
        sheet.write_string(r, 7, *weight).expect("weight");
        sheet.write_number(r, 8, 70.1).expect("height");
        sheet.write_string(r, 9, "Berdiri").expect("position");
        sheet.write_number(r, 10, 13.5).expect("lila");
        sheet.write_number(r, 11, -1.2).expect("zs");
    }
    book.save(&path).expect("save xlsx");

    let areas = areas();
    let parsed = read(&path, Some(&areas)).expect("read");
    assert_eq!(parsed.format, FileFormat::PpgbmXlsx);
    assert_eq!(parsed.ignored_columns, ["ZS TB/U"]);
    check_problems(
        &parsed,
        &[(
            4,
            "NIK",
            "3530100000000000",
            Severity::Error,
            "NIK was converted to a number by Excel (3.5301E+15); digits lost",
        )],
    );
    assert_eq!(parsed.rows.len(), 2);
    let budi = &parsed.rows[0];
    assert_eq!(
        (budi.line, budi.nik.as_deref()),
        (5, Some("3530014512230001"))
    );
    assert_eq!(
        budi.birth_date,
        NaiveDate::from_ymd_opt(2023, 12, 5).expect("date")
    );
    let m = budi.measurement.as_ref().expect("measurement");
    assert_eq!(m.date, NaiveDate::from_ymd_opt(2024, 8, 12).expect("date"));
    assert_eq!(
        (m.weight, m.length, m.position, m.muac),
        (
            Some(Grams(8500)),
            Some(Millimetres(701)),
            Some(Position::Standing),
            Some(Millimetres(135))
        )
    );
    let citra = &parsed.rows[1];
    assert_eq!(
        (citra.line, citra.sex, citra.nik.as_deref()),
        (6, Sex::P, Some("3530015512230002"))
    );
    assert_eq!(
        citra.measurement.as_ref().map(|m| (m.date, m.weight)),
        Some((
            NaiveDate::from_ymd_opt(2024, 8, 12).expect("date"),
            Some(Grams(7900))
        ))
    );
}

#[test]
fn ppgbm_html_saved_as_xls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = "<html><head><meta charset=\"utf-8\"></head><body>\
        <h3>Daftar Anak Berdasarkan Status Gizi</h3>\
        <table border=1>\
        <tr><td colspan=\"8\">Posyandu Kenanga 1 — Agustus 2024</td></tr>\
        <tr><th>Nama</th><th>JK</th><th>Tgl Lahir</th><th>Desa/Kel</th><th>Posyandu</th><th>Tanggal Pengukuran</th><th>Berat</th><th>Cara Ukur</th><th>Tinggi</th></tr>\
        <tr><td>Dimas&nbsp;Pratama</td><td>L</td><td>05-12-2023</td><td>Mulyorejo</td><td>Kenanga 1</td><td>12-08-2024</td><td>8,4</td><td>Terlentang</td><td>70</td></tr>\
        <tr><td>Eka</td><td>P</td><td>05-12-2023</td><td>Mulyorejo</td><td>Kenanga 1</td><td>12-08-2024</td><td>8,4</td><td>Duduk</td><td>70</td></tr>\
        <tr><td></td><td></td><td></td><td></td><td></td><td></td><td></td><td></td><td></td></tr>\
        <tr><td>Fitri</td><td>P</td><td>05-12-2023</td><td>Mulyorejo</td><td>Kenanga 1</td><td></td><td></td><td></td><td></td></tr>\
        </table></body></html>";
    let path = write(&dir, "laporan.xls", html.as_bytes());
    let areas = areas();
    let parsed = read(&path, Some(&areas)).expect("read");
    assert_eq!(parsed.format, FileFormat::PpgbmHtml);
    assert_eq!(parsed.total_rows, 3);
    check_problems(
        &parsed,
        &[(4, "Cara Ukur", "Duduk", Severity::Error, "not a position")],
    );
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!(parsed.rows[0].name, "Dimas Pratama");
    assert_eq!(parsed.rows[0].line, 3);
    // A child listed without a measurement.
    assert_eq!(
        (
            parsed.rows[1].line,
            parsed.rows[1].measurement.is_none(),
            parsed.rows[1].round.is_none()
        ),
        (6, true, true)
    );
}

#[test]
fn unknown_layout_names_the_headers_seen_and_expected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "other.csv", b"foo,bar,baz\n1,2,3\n");
    let err = read(&path, None).expect_err("unknown layout");
    let message = err.to_string();
    assert!(
        matches!(err, ImportError::UnknownLayout { ref seen } if seen == &["foo", "bar", "baz"]),
        "{message}"
    );
    assert!(message.contains("seen: foo, bar, baz"), "{message}");
    assert!(
        message.contains("record_id, round, measured_on"),
        "{message}"
    );
    assert!(
        message.contains("Nama, JK, Tgl Lahir, Tanggal Pengukuran, Posyandu"),
        "{message}"
    );
}

#[test]
fn missing_required_columns_are_a_file_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "short.csv",
        "NIK;Nama;Tgl Lahir;Desa/Kel;Posyandu;Berat\n;Ani;05/12/2023;Mulyorejo;Kenanga 1;8\n"
            .as_bytes(),
    );
    let err = read(&path, Some(&areas())).expect_err("missing columns");
    match &err {
        ImportError::MissingColumns { format, missing } => {
            assert_eq!(*format, FileFormat::PpgbmCsv);
            assert_eq!(missing, &["JK", "Tanggal Pengukuran"]);
        }
        other => panic!("expected missing columns, got {other}"),
    }
    assert_eq!(
        err.to_string(),
        "the e-PPGBM (CSV) file lacks the required column(s): JK, Tanggal Pengukuran"
    );
}

#[test]
fn windows_1252_and_empty_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = b"Nama;JK;Tgl Lahir;Desa/Kel;Posyandu;Tanggal Pengukuran;Berat\r\n".to_vec();
    bytes.extend_from_slice(b"Jos\xe9;L;05/12/2023;Mulyorejo;Kenanga 1;12/08/2024;8\r\n");
    let path = write(&dir, "ansi.csv", &bytes);
    let parsed = read(&path, Some(&areas())).expect("read");
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.rows[0].name, "José");
    assert_eq!(parsed.rows[0].line, 2);

    let empty = write(&dir, "empty.csv", b"\n");
    assert!(matches!(read(&empty, None), Err(ImportError::Empty)));
    let missing = dir.path().join("nothing.csv");
    assert!(matches!(read(&missing, None), Err(ImportError::Io { .. })));
    let broken = write(&dir, "broken.xlsx", b"PK\x03\x04 not really a zip");
    assert!(matches!(
        read(&broken, None),
        Err(ImportError::Unreadable(_))
    ));
}
