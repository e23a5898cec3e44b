//! Dates as kader type them: `YYYY-MM-DD`, `DD-MM-YYYY` or `DD/MM/YYYY`.

use chrono::NaiveDate;

/// Parses a date in any of the accepted forms; `None` if it is none of them
/// or not a real calendar date (31 February).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    // Fast path for the common `YYYY-MM-DD` (batch files hold millions).
    if let Some(d) = parse_iso(s.as_bytes()) {
        return Some(d);
    }
    ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        // chrono accepts a 1- or 5-digit year with %Y; a posyandu date has 4.
        .filter(|d| (1900..=9999).contains(&chrono::Datelike::year(d)) && s.len() >= 8)
}

/// `YYYY-MM-DD` with exactly these widths, or `None`.
fn parse_iso(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    if year < 1900 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
}

/// Parses a month `YYYY-MM`, returning its first day.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn accepts_the_three_forms() {
        assert_eq!(parse_date("2023-05-17"), ymd(2023, 5, 17));
        assert_eq!(parse_date("17-05-2023"), ymd(2023, 5, 17));
        assert_eq!(parse_date("17/05/2023"), ymd(2023, 5, 17));
        assert_eq!(parse_date(" 1/5/2023 "), ymd(2023, 5, 1));
    }

    #[test]
    fn refuses_impossible_and_other_forms() {
        assert_eq!(parse_date("2023-02-30"), None);
        assert_eq!(parse_date("05/17/2023"), None);
        assert_eq!(parse_date("17 Mei 2023"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("23-5-17"), None);
    }

    #[test]
    fn months() {
        assert_eq!(parse_month("2024-08"), ymd(2024, 8, 1));
        assert_eq!(parse_month("2024-13"), None);
    }
}
