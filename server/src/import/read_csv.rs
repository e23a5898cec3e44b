//! CSV container: decoding (UTF-8 with or without BOM, else Windows-1252, as
//! Excel on an Indonesian Windows saves), the delimiter (`,` from our own
//! exports, `;` from Excel in a locale with decimal commas, or tab), and the
//! row numbers a spreadsheet user sees.

use super::fields::Cell;
use super::{ImportError, RawRow};

/// Decodes the bytes of a text file.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            text.into_owned()
        }
    }
}

/// The delimiter used most outside quotes in the first lines.
fn detect_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    let mut lines = 0;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            '\n' if !quoted => {
                lines += 1;
                if lines >= 30 {
                    break;
                }
            }
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|&i| (counts[i], usize::from(i == 0)))
        .unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// Reads every record; `line` is the 1-based row a spreadsheet shows (blank
/// lines count as rows, a quoted field over several lines does not).
///
/// Tokenizing is the `csv` crate's. Its `Position::line()` cannot give that
/// row: it is the line count once the previous record's terminator was read
/// (before the blank lines the crate skips, and with `\r\n` before the
/// `\n`), and it counts the line breaks inside quoted fields. The row is
/// therefore counted from `Position::byte()`: the line breaks in the text
/// before the record's first byte, less those inside earlier records'
/// fields.
pub fn read_rows(text: &str) -> Result<Vec<RawRow>, ImportError> {
    let bytes = text.as_bytes();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(detect_delimiter(text))
        .from_reader(bytes);
    let mut rows = Vec::new();
    // Line breaks in `text[..scanned]`, and those inside fields read so far.
    let (mut scanned, mut breaks, mut inside_fields) = (0usize, 0usize, 0usize);
    let mut last: Option<(usize, usize, csv::StringRecord)> = None;
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Unreadable(format!("CSV: {e}")))?;
        // The reader stands after the previous record's last byte; the
        // record begins after the line breaks of any blank lines.
        let from = record
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(bytes.len());
        let start = from
            + bytes[from..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        breaks += line_breaks(&bytes[scanned..start]);
        scanned = start;
        let line = breaks - inside_fields + 1;
        inside_fields += record
            .iter()
            .map(|f| line_breaks(f.as_bytes()))
            .sum::<usize>();
        let cells: Vec<Cell> = record
            .iter()
            .map(|field| {
                if field.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(field.to_string())
                }
            })
            .collect();
        // A line of only spaces reads as one empty field: a blank row.
        if !(cells.len() == 1 && cells[0] == Cell::Empty) {
            rows.push(RawRow { line, cells });
        }
        last = Some((line, start, record));
    }
    if let Some((line, start, record)) = last
        && let Some(field) = record.iter().next_back()
        && unclosed_quote(&bytes[start..], field)
    {
        return Err(ImportError::Unreadable(format!(
            "CSV: a quote opened on row {line} is never closed"
        )));
    }
    Ok(rows)
}

/// Line breaks (`\n`, `\r\n` or a lone `\r`, all record terminators for the
/// `csv` crate) in `s`.
fn line_breaks(b: &[u8]) -> usize {
    b.iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count()
}

/// Whether the last record (`tail`, from its first byte to the end of the
/// text) ends inside a quoted field: the `csv` crate then takes the rest of
/// the file as that field, which is the file's end after the opening quote
/// (with its `""` escapes). A closed quoted field is followed by its closing
/// quote, so the text cannot end with its opening quote and value.
fn unclosed_quote(tail: &[u8], last_field: &str) -> bool {
    let opened = format!("\"{}", last_field.replace('"', "\"\""));
    !last_field.is_empty() && tail.ends_with(opened.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_and_bom() {
        assert_eq!(decode(b"\xEF\xBB\xBFa;b"), "a;b");
        assert_eq!(decode(b"Nama;Ibu\nJos\xE9"), "Nama;Ibu\nJosé");
    }

    #[test]
    fn delimiter_and_line_numbers_with_blank_lines() {
        let rows = read_rows("a;b\r\n\r\n1;\"x\ny\"\r\n2;\"z \"\"q\"\"\"").expect("rows");
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 3, 4]);
        assert_eq!(rows[1].cells[1], Cell::Text("x\ny".into()));
        assert_eq!(
            rows[2].cells,
            [Cell::Text("2".into()), Cell::Text("z \"q\"".into())]
        );
    }

    fn lines(text: &str) -> Vec<usize> {
        read_rows(text)
            .expect("rows")
            .iter()
            .map(|r| r.line)
            .collect()
    }

    /// The rows a spreadsheet shows, whatever the line endings: blank lines
    /// (several, at the start, or of spaces) count, a line break inside a
    /// quoted field does not.
    #[test]
    fn line_numbers_are_spreadsheet_rows() {
        for eol in ["\n", "\r\n", "\r"] {
            let text = [
                "", // a blank first row
                "a,b", "", "", "1,\"x", "y", "z\"", "   ", "2,\"p", "q\",3", "4,", "",
            ]
            .join(eol);
            assert_eq!(lines(&text), [2, 5, 7, 8], "{text:?}");
        }
        // No final line break; a quoted field with `\r\n` inside.
        assert_eq!(lines("a,b\r\n\"1\r\n2\",x\r\n\r\n3,y"), [1, 2, 4]);
    }

    #[test]
    fn rows_of_empty_cells_are_kept_and_quoted_text_is_taken_as_is() {
        let rows = read_rows("a,b\n,\n\" x \",\"\"\"q\"\"\"\n").expect("rows");
        assert_eq!(rows[1].line, 2);
        assert_eq!(rows[1].cells, [Cell::Empty, Cell::Empty]);
        assert_eq!(
            rows[2].cells,
            [Cell::Text(" x ".into()), Cell::Text("\"q\"".into())]
        );
    }

    #[test]
    fn unclosed_quote_is_a_file_error() {
        for (text, row) in [
            ("a,b\n1,2\n3,\"x\n4,5\n", 3),
            ("a,b\n\n3,\"x \"\" y\n4,5", 3),
            ("a,b\n\"  \n", 2),
        ] {
            match read_rows(text) {
                Err(ImportError::Unreadable(m)) => assert_eq!(
                    m,
                    format!("CSV: a quote opened on row {row} is never closed"),
                    "{text:?}"
                ),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        // A closed quote at the end of the file is not.
        for text in [
            "a,b\n1,\"x\ny\"\n",
            "a,b\n1,\"x\"",
            "a,b\n1,\"\"",
            "a,b\n1,\"x\"\"\"",
        ] {
            assert!(read_rows(text).is_ok(), "{text:?}");
        }
    }
}
