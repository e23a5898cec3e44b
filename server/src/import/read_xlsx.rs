//! Spreadsheet containers (`.xlsx`, binary `.xls`) through `calamine`: each
//! worksheet becomes rows of typed cells, numbered as Excel numbers them, so
//! that a problem's line is the row the user sees.

use std::io::Cursor;

use calamine::{Data, Reader};

use super::fields::{Cell, date_from_serial};
use super::{ImportError, RawRow};

/// Every worksheet of the workbook, in order, as rows.
pub fn read_sheets(bytes: Vec<u8>) -> Result<Vec<Vec<RawRow>>, ImportError> {
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
