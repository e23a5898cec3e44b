//! Reading one cell into a typed value: numbers with decimal commas, dates
//! in the formats kader and e-PPGBM use, NIKs that Excel may have mangled.
//!
//! Every function takes a [`Cell`] (text, as in CSV and HTML, or a typed
//! spreadsheet value) and returns the value or a short reason in plain
//! words; the caller turns the reason into a
//! [`RowProblem`](super::RowProblem) with the line and column.

use chrono::{Days, NaiveDate};

/// One cell as the container gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    /// Text (all of CSV and HTML; text cells of spreadsheets).
    Text(String),
    /// A spreadsheet number without a date format.
    Number(f64),
    /// A spreadsheet date (a number with a date format), already converted.
    Date(NaiveDate),
}

impl Cell {
    /// The text of the cell, trimmed; `-` (the usual "nothing" mark in
    /// e-PPGBM) counts as empty.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => {
                let t = collapse_spaces(t);
                if t == "-" { String::new() } else { t }
            }
            Cell::Number(n) => format!("{n}"),
            Cell::Date(d) => d.to_string(),
        }
    }

    /// True when nothing was entered.
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(_) => self.text().is_empty(),
            _ => false,
        }
    }
}

/// Trims and collapses runs of whitespace (including non-breaking spaces,
/// which HTML exports are full of) into one space.
pub fn collapse_spaces(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A header or name key: lower case, letters and digits only.
pub fn key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A decimal number as typed: `12.5`, `12,5`, `12`. Nothing else — no
/// signs, no thousands separators, no `83..9`.
pub fn parse_decimal(cell: &Cell) -> Result<f64, String> {
    match cell {
        Cell::Number(n) if n.is_finite() => Ok(*n),
        Cell::Number(_) | Cell::Date(_) => Err("not a number".into()),
        Cell::Empty => Err("empty".into()),
        Cell::Text(_) => {
            let t = cell.text();
            let mut seen_sep = false;
            let mut digits = 0;
            let mut normal = String::with_capacity(t.len());
            for c in t.chars() {
                match c {
                    '0'..='9' => {
                        digits += 1;
                        normal.push(c);
                    }
                    '.' | ',' if !seen_sep => {
                        seen_sep = true;
                        normal.push('.');
                    }
                    _ => return Err("not a number".into()),
                }
            }
            if digits == 0 {
                return Err("not a number".into());
            }
            normal.parse::<f64>().map_err(|_| "not a number".into())
        }
    }
}

/// Excel's day 0 for the 1900 date system (serials from 61 on; the fake
/// 1900-02-29 makes earlier serials off by one, and no child is that old).
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default()
}

/// A date from an Excel serial number (days since 1899-12-30).
pub fn date_from_serial(serial: f64) -> Option<NaiveDate> {
    if !(61.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    excel_epoch().checked_add_days(Days::new(serial.floor() as u64))
}

/// A date: `YYYY-MM-DD`, `DD/MM/YYYY`, `DD-MM-YYYY` (also with `.`), an
/// optional time after it, or an Excel date or serial.
pub fn parse_date(cell: &Cell) -> Result<NaiveDate, String> {
    match cell {
        Cell::Date(d) => Ok(*d),
        Cell::Number(n) => {
            date_from_serial(*n).ok_or_else(|| "not a date (nor an Excel date number)".into())
        }
        Cell::Empty => Err("empty".into()),
        Cell::Text(_) => {
            let t = cell.text();
            // Drop a time part: "2024-03-04 00:00:00", "2024-03-04T00:00".
            let day = t.split([' ', 'T']).next().unwrap_or("");
            let parts: Vec<&str> = day.split(['-', '/', '.']).collect();
            let bad = || "not a date (use YYYY-MM-DD or DD/MM/YYYY)".to_string();
            if parts.len() != 3
                || parts
                    .iter()
                    .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(bad());
            }
            let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
            let (y, m, d) = if parts[0].len() == 4 {
                (num(parts[0])?, num(parts[1])?, num(parts[2])?)
            } else if parts[2].len() == 4 {
                (num(parts[2])?, num(parts[1])?, num(parts[0])?)
            } else {
                return Err(bad());
            };
            NaiveDate::from_ymd_opt(y as i32, m, d)
                .ok_or_else(|| "no such day in the calendar".into())
        }
    }
}

/// What is wrong with a NIK-like cell (NIK, No. KK, mother's NIK).
#[derive(Debug, PartialEq)]
pub enum NikCell {
    /// Nothing entered.
    Empty,
    /// 16 digits with a valid structure.
    Digits(String),
    /// Present but not usable; the row is kept without it (a warning).
    Unusable(String),
    /// Excel turned it into a number and lost digits: the row is refused so
    /// that the file is exported again with the column as text.
    Mangled(String),
}

/// Reads a NIK or KK number as text, never through a float.
///
/// A spreadsheet number cell is accepted only when it holds exactly 16
/// digits, is below 2^53 (so the f64 holds it exactly) and its last digit
/// is not 0. Why: Excel keeps 15 significant digits, so a 16-digit number
/// typed into Excel always ends in 0 with the real last digit gone; a
/// non-zero 16th digit can only have been written by a program that kept
/// it. A genuine NIK ending in 0 stored as a number is refused too — it
/// cannot be told apart from a truncated one.
pub fn parse_nik(cell: &Cell) -> NikCell {
    let text = match cell {
        Cell::Empty => return NikCell::Empty,
        Cell::Date(_) => return NikCell::Unusable("a date, not a NIK".into()),
        Cell::Number(n) => {
            let exact =
                n.is_finite() && n.fract() == 0.0 && *n >= 1e15 && *n < 9_007_199_254_740_992.0;
            if exact {
                let digits = format!("{}", *n as u64);
                if digits.len() == 16 && !digits.ends_with('0') {
                    digits
                } else {
                    return NikCell::Mangled(excel_scientific(*n));
                }
            } else {
                return NikCell::Mangled(excel_scientific(*n));
            }
        }
        Cell::Text(_) => cell.text(),
    };
    // A leading apostrophe is Excel's "keep as text" mark.
    let text = text.trim_start_matches('\'').trim().to_string();
    if text.is_empty() {
        return NikCell::Empty;
    }
    if looks_scientific(&text) {
        return NikCell::Mangled(text);
    }
    match linkage::Nik::parse(&text) {
        Ok(nik) => NikCell::Digits(nik.as_str().to_string()),
        Err(e) => NikCell::Unusable(e.to_string()),
    }
}

/// `3.5301E+15`, `3,5301E+15`, `3.5301e15`: what Excel shows for a long
/// number.
fn looks_scientific(t: &str) -> bool {
    let Some((mantissa, exp)) = t.split_once(['E', 'e']) else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && mantissa.chars().any(|c| c.is_ascii_digit())
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

/// A number as Excel shows it in a narrow column: `3.5301E+15`.
fn excel_scientific(n: f64) -> String {
    let s = format!("{n:E}");
    match s.split_once('E') {
        Some((m, e)) if !e.starts_with('-') => format!("{m}E+{e}"),
        _ => s,
    }
}

/// Sex as written: `L`/`P`, `Laki-laki`/`Perempuan`.
pub fn parse_sex(cell: &Cell) -> Result<sync_protocol::Sex, String> {
    match key(&cell.text()).as_str() {
        "l" | "lk" | "laki" | "lakilaki" => Ok(sync_protocol::Sex::L),
        "p" | "pr" | "perempuan" => Ok(sync_protocol::Sex::P),
        "" => Err("empty".into()),
        _ => Err("not a sex (use L or P)".into()),
    }
}

/// Measuring position: `lying`/`standing`, `Terlentang`/`Berdiri`, or empty.
pub fn parse_position(cell: &Cell) -> Result<Option<sync_protocol::Position>, String> {
    match key(&cell.text()).as_str() {
        "" => Ok(None),
        "lying" | "terlentang" | "telentang" | "berbaring" => {
            Ok(Some(sync_protocol::Position::Lying))
        }
        "standing" | "berdiri" => Ok(Some(sync_protocol::Position::Standing)),
        _ => Err("not a position (use lying/standing or Terlentang/Berdiri)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn decimals_accept_commas_and_refuse_double_points() {
        assert_eq!(parse_decimal(&t("12,5")), Ok(12.5));
        assert_eq!(parse_decimal(&t(" 9.30 ")), Ok(9.3));
        assert_eq!(parse_decimal(&t("83..9")), Err("not a number".into()));
        assert_eq!(parse_decimal(&t("1.234,5")), Err("not a number".into()));
        assert_eq!(parse_decimal(&t("-3")), Err("not a number".into()));
    }

    #[test]
    fn dates_in_every_accepted_form() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 4);
        for s in [
            "2024-03-04",
            "04/03/2024",
            "04-03-2024",
            "4/3/2024",
            "2024-03-04 00:00:00",
        ] {
            assert_eq!(parse_date(&t(s)).ok(), d, "{s}");
        }
        assert_eq!(parse_date(&Cell::Number(45355.0)).ok(), d);
        assert!(parse_date(&t("31/02/2024")).is_err());
        assert!(parse_date(&t("2024/3")).is_err());
    }

    #[test]
    fn niks_are_read_as_text_and_mangled_ones_are_caught() {
        assert_eq!(
            parse_nik(&t("3530014512230001")),
            NikCell::Digits("3530014512230001".into())
        );
        assert_eq!(
            parse_nik(&t("'3530014512230001")),
            NikCell::Digits("3530014512230001".into())
        );
        assert_eq!(
            parse_nik(&t("3,5301E+15")),
            NikCell::Mangled("3,5301E+15".into())
        );
        assert_eq!(
            parse_nik(&Cell::Number(3.5301e15)),
            NikCell::Mangled("3.5301E+15".into())
        );
        assert_eq!(
            parse_nik(&Cell::Number(3530014512230001.0)),
            NikCell::Digits("3530014512230001".into())
        );
        assert!(matches!(
            parse_nik(&t("353001451223001")),
            NikCell::Unusable(_)
        ));
        assert_eq!(parse_nik(&t("-")), NikCell::Empty);
    }
}
