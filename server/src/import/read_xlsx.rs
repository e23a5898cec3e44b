//! Spreadsheet containers (`.xlsx`, binary `.xls`) through `calamine`: each
//! worksheet becomes rows of typed cells, numbered as Excel numbers them, so
//! that a problem's line is the row the user sees.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader};

use super::fields::{Cell, date_from_serial};
use super::{ImportError, RawRow};

/// Columns past this are not read: an e-PPGBM export has a few dozen, and
/// a cell far to the right (or a reference whose column overflows, found by
/// the `import_xlsx` fuzz target) must not make the reader allocate the
/// whole sheet between it and column A.
pub const MAX_COLUMNS: u32 = 256;

/// Every worksheet of the workbook, in order, as rows.
pub fn read_sheets(bytes: Vec<u8>) -> Result<Vec<Vec<RawRow>>, ImportError> {
    // calamine parses outside bytes; should it panic on some input, that
    // file is unreadable, not the end of the import process (or server).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_any(bytes))).unwrap_or_else(
        |_| {
            Err(ImportError::Unreadable(
                "a workbook calamine cannot read (it failed on its contents)".into(),
            ))
        },
    )
}

fn read_any(bytes: Vec<u8>) -> Result<Vec<Vec<RawRow>>, ImportError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx_sheets(bytes);
    }
    // Binary `.xls` (BIFF8): calamine builds each sheet as a dense range,
    // which the format itself bounds (65,536 rows × 256 columns).
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| ImportError::Unreadable(format!("not a workbook calamine can open: {e}")))?;
    let mut sheets = Vec::new();
    for (_, range) in book.worksheets() {
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, row)| {
                let mut cells: Vec<Cell> = vec![Cell::Empty; first_col as usize];
                cells.extend(row.iter().map(cell));
                RawRow {
                    line: first_row as usize + i + 1,
                    cells,
                }
            })
            .collect();
        sheets.push(rows);
    }
    Ok(sheets)
}

/// `.xlsx`, read cell by cell (calamine's dense `Range` would allocate
/// rows × columns between the first and the last cell: a cell at XFD1048576
/// is 17 billion cells). Only rows that hold a value are kept, each as wide
/// as its last value, under their Excel row numbers.
fn read_xlsx_sheets(bytes: Vec<u8>) -> Result<Vec<Vec<RawRow>>, ImportError> {
    let unreadable = |e: calamine::XlsxError| {
        ImportError::Unreadable(format!("not a workbook calamine can open: {e}"))
    };
    let mut book = calamine::Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let mut sheets = Vec::new();
    for name in book.sheet_names() {
        let mut rows: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
        let mut reader = book.worksheet_cells_reader(&name).map_err(unreadable)?;
        while let Some(found) = reader.next_cell().map_err(unreadable)? {
            let (row, col) = found.get_position();
            if col >= MAX_COLUMNS {
                continue;
            }
            let value = cell(&Data::from(found.get_value().clone()));
            if matches!(value, Cell::Empty) {
                continue;
            }
            let cells = rows.entry(row).or_default();
            let col = col as usize;
            if cells.len() <= col {
                cells.resize(col + 1, Cell::Empty);
            }
            cells[col] = value;
        }
        sheets.push(
            rows.into_iter()
                .map(|(row, cells)| RawRow {
                    line: row as usize + 1,
                    cells,
                })
                .collect(),
        );
    }
    Ok(sheets)
}

fn cell(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
            if s.trim().is_empty() {
                Cell::Empty
            } else {
                Cell::Text(s.clone())
            }
        }
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            match chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)) {
                Some(date) => Cell::Date(date),
                None => date_from_serial(dt.as_f64()).map_or(Cell::Number(dt.as_f64()), Cell::Date),
            }
        }
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}
