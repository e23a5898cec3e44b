//! Fuzzing by property, in every CI run, of the server's file import — the
//! decoder of the largest outside input a district hands us (field CSV
//! exports, e-PPGBM `.csv`, `.xlsx` and the HTML table saved as `.xls`).
//!
//! The coverage-guided targets in `fuzz/` explore deeper but need an
//! instrumented build; these properties run with the normal test suite and
//! hold the same promise: any bytes give rows and row-level problems or an
//! [`ImportError`], never a panic, and what comes back is consistent — rows
//! in file order, no row kept that carries an error, progress never past its
//! total. Inputs are arbitrary bytes, damaged copies of the committed seed
//! files (`fuzz/corpus/import_*`), and well-formed files whose every cell is
//! arbitrary text (the cell parsers: dates, NIKs, decimal commas, positions).

use std::path::Path;

use chrono::NaiveDate;
use proptest::prelude::*;
use tumbuh_server::import::{AreaDirectory, ImportError, ParsedFile, Severity, read_bytes};

const AREAS: &str = "code,level,name,parent_code
35,provinsi,Jawa Timur,
3530,kabupaten,Kabupaten Sukamakmur (fiktif),35
353001,kecamatan,Kedungjati,3530
3530012001,desa,Mulyorejo,353001
353001200101,posyandu,Posyandu Kenanga 1,3530012001
";

/// The field export's columns, as the import expects them.
const FIELD_HEADER: &[&str] = tumbuh_server::import::FIELD_COLUMNS;
/// e-PPGBM's header, in its order and spelling (as our export writes it).
const PPGBM_HEADER: &[&str] = &tumbuh_server::verval::export::PPGBM_HEADER;

fn areas() -> AreaDirectory {
    AreaDirectory::from_csv_reader(AREAS.as_bytes()).expect("constant area directory")
}

/// Runs the import on `bytes` and checks what must hold of any answer.
fn import_holds(bytes: Vec<u8>, directory: &AreaDirectory) -> Result<ParsedFile, ImportError> {
    let today = NaiveDate::from_ymd_opt(2024, 9, 30).expect("constant date");
    let mut progress_ok = true;
    let result = read_bytes(bytes, Some(directory), today, &mut |done, all| {
        progress_ok &= done <= all;
    });
    assert!(progress_ok, "progress went past its total");
    if let Ok(parsed) = &result {
        assert!(
            parsed.rows.len() <= parsed.total_rows,
            "more rows than seen"
        );
        assert!(
            parsed.rows.windows(2).all(|w| w[0].line < w[1].line),
            "rows out of file order"
        );
        for row in &parsed.rows {
            let error = parsed
                .problems
                .iter()
                .any(|p| p.line == row.line && p.severity == Severity::Error);
            assert!(!error, "row {} kept despite an error", row.line);
        }
        for p in &parsed.problems {
            assert!(!p.reason.is_empty(), "a problem without a reason");
        }
    }
    result
}

/// The committed seed files of the coverage-guided import targets.
fn seeds() -> Vec<Vec<u8>> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut out = Vec::new();
    for target in ["import_csv", "import_html", "import_xlsx"] {
        let dir = corpus.join(target);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("seed corpus {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            out.push(std::fs::read(&path).expect("seed file"));
        }
    }
    out.sort();
    assert!(out.len() >= 5, "the import seed corpus is missing files");
    out
}

/// One way to damage a file: flip a byte, cut it short, insert or delete a
/// run of bytes.
#[derive(Debug, Clone)]
enum Damage {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, x)| Damage::Flip(at, x)),
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, b)| Damage::Insert(at, b)),
        (any::<usize>(), 1..200usize).prop_map(|(at, n)| Damage::Delete(at, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    for d in damages {
        let len = bytes.len().max(1);
        match d {
            Damage::Flip(at, x) => {
                if !bytes.is_empty() {
                    bytes[at % len] ^= x;
                }
            }
            Damage::Truncate(at) => bytes.truncate(at % len),
            Damage::Insert(at, b) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Damage::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
        }
    }
    bytes
}

/// Text a kader or a spreadsheet might put in a cell, and worse.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[0-9]{1,20}",
        "[0-9]{1,3}[.,][0-9]{0,3}",
        "[0-9]\\.[0-9]{1,4}E\\+[0-9]{1,2}",
        "[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}",
        "(lying|standing|Terlentang|Berdiri|L|P|H|x)",
        "\\PC{0,24}",
        any::<String>(),
    ]
}

fn table(width: usize) -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(prop::collection::vec(cell(), width), 0..8)
}

fn csv_file(header: &[&str], rows: &[Vec<String>], delimiter: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    w.write_record(header).expect("header");
    for r in rows {
        w.write_record(r).expect("row");
    }
    w.into_inner().expect("csv bytes")
}

fn xlsx_file(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header cell");
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            // A number-looking cell goes in as a number, as Excel stores a
            // NIK typed without a leading apostrophe.
            match v.parse::<f64>() {
                Ok(n) if n.is_finite() => sheet.write_number(r, c, n),
                _ => sheet.write_string(r, c, v.as_str()),
            }
            .expect("cell");
        }
    }
    book.save_to_buffer().expect("xlsx bytes")
}

fn html_file(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = String::from("<html><body><table>\n<tr>");
    for h in header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr>\n");
    for r in rows {
        out.push_str("<tr>");
        for v in r {
            out.push_str(&format!("<td>{}</td>", escape(v)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></body></html>\n");
    out.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_an_error_or_rows_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2048)
    ) {
        let _ = import_holds(bytes, &areas());
    }

    #[test]
    fn damaged_seed_files_are_an_error_or_rows_never_a_panic(
        which in any::<prop::sample::Index>(),
        damages in prop::collection::vec(damage(), 1..6),
    ) {
        let seeds = seeds();
        let seed = seeds[which.index(seeds.len())].clone();
        let _ = import_holds(apply(seed, &damages), &areas());
    }

    #[test]
    fn any_cell_text_in_a_field_export_gives_rows_or_row_problems(
        rows in table(FIELD_HEADER.len())
    ) {
        let n = rows.len();
        let parsed = import_holds(csv_file(FIELD_HEADER, &rows, b','), &areas());
        // A well-formed file with the right header is never refused whole:
        // each bad cell is a problem at its row, every row is accounted for.
        let parsed = parsed.map_err(|e| TestCaseError::fail(format!("refused whole: {e}")))?;
        prop_assert_eq!(parsed.total_rows, n);
    }

    #[test]
    fn any_cell_text_in_an_eppgbm_file_gives_rows_or_row_problems(
        rows in table(PPGBM_HEADER.len()),
        container in 0..3u8,
    ) {
        let n = rows.len();
        let bytes = match container {
            0 => csv_file(PPGBM_HEADER, &rows, b';'),
            1 => xlsx_file(PPGBM_HEADER, &rows),
            _ => html_file(PPGBM_HEADER, &rows),
        };
        let parsed = import_holds(bytes, &areas())
            .map_err(|e| TestCaseError::fail(format!("refused whole: {e}")))?;
        // Blank rows (every cell empty) are skipped, not counted.
        let blank = rows.iter().filter(|r| r.iter().all(|c| c.trim().is_empty())).count();
        prop_assert!(parsed.total_rows + blank >= n && parsed.total_rows <= n,
            "{} rows seen of {n} ({blank} blank)", parsed.total_rows);
    }
}

/// Every input the coverage-guided `import_*` targets found a crash with,
/// kept in `server/tests/fuzz-regressions/<target>/` as the whole file the
/// import reads: each must now be an error or rows, in bounded memory.
#[test]
fn every_import_fuzz_crash_reads_as_an_error_or_rows() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&dir).expect("fuzz-regressions") {
        for entry in std::fs::read_dir(target.expect("target dir").path()).expect("inputs") {
            let path = entry.expect("input").path();
            let _ = import_holds(std::fs::read(&path).expect("input bytes"), &areas());
            n += 1;
        }
    }
    assert!(n > 0, "no kept inputs in {}", dir.display());
}

/// The first one: a cell reference whose column overflows (`FPPP…P4`) made
/// the reader allocate every cell between it and column A, and abort. The
/// rest of the sheet still reads: the table's rows come back, each at its
/// Excel row number.
#[test]
fn a_cell_far_to_the_right_does_not_blow_up_the_sheet() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions/import_xlsx/crash-89c28dc4-huge-column.xlsx");
    let parsed = import_holds(std::fs::read(&path).expect("input bytes"), &areas())
        .expect("the workbook reads");
    // The seed's table: three children on Excel rows 4, 5 and 6.
    assert_eq!(parsed.total_rows, 3, "{:#?}", parsed.problems);
    let mut lines: Vec<usize> = parsed.problems.iter().map(|p| p.line).collect();
    lines.extend(parsed.rows.iter().map(|r| r.line));
    assert!(lines.iter().all(|l| (4..=6).contains(l)), "lines {lines:?}");

    // And a well-formed workbook with a value in the sheet's last cell.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in PPGBM_HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    sheet
        .write_string(1_048_575, 16_383, "far away")
        .expect("last cell");
    let parsed =
        import_holds(book.save_to_buffer().expect("xlsx"), &areas()).expect("the workbook reads");
    assert_eq!(parsed.rows.len(), 0);
}
