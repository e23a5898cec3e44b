//! Area codes (the Kemendagri/BPS hierarchy) and the scope of a device.
//!
//! A code is 2 digits of province, +2 kabupaten/kota, +2 kecamatan, +4 desa/
//! kelurahan, +2 posyandu (12 digits for a posyandu). A child belongs to the
//! posyandu code in its profile; a device sees and writes the children whose
//! code starts with one of its scope's prefixes.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The level of an area code, by its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AreaLevel {
    Province,
    Kabupaten,
    Kecamatan,
    Desa,
    Posyandu,
}

impl AreaLevel {
    /// Number of digits of a code at this level.
    pub fn digits(self) -> usize {
        match self {
            AreaLevel::Province => 2,
            AreaLevel::Kabupaten => 4,
            AreaLevel::Kecamatan => 6,
            AreaLevel::Desa => 10,
            AreaLevel::Posyandu => 12,
        }
    }

    /// The Indonesian name of the level.
    pub fn name_id(self) -> &'static str {
        match self {
            AreaLevel::Province => "provinsi",
            AreaLevel::Kabupaten => "kabupaten/kota",
            AreaLevel::Kecamatan => "kecamatan",
            AreaLevel::Desa => "desa/kelurahan",
            AreaLevel::Posyandu => "posyandu",
        }
    }
}

/// A valid area code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

/// Why an area code was refused.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{code}` is not an area code: {reason}")]
pub struct AreaError {
    pub code: String,
    pub reason: &'static str,
}

impl AreaCode {
    /// Parses a code; separators `.` and spaces (as in "35.30.01") are removed.
    pub fn parse(text: &str) -> Result<AreaCode, AreaError> {
        let code: String = text.chars().filter(|c| !matches!(c, '.' | ' ')).collect();
        let err = |reason| AreaError {
            code: text.to_string(),
            reason,
        };
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("only digits are allowed"));
        }
        if !matches!(code.len(), 2 | 4 | 6 | 10 | 12) {
            return Err(err(
                "use 2 (province), 4 (kabupaten), 6 (kecamatan), 10 (desa) or 12 (posyandu) digits",
            ));
        }
        Ok(AreaCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> AreaLevel {
        match self.0.len() {
            2 => AreaLevel::Province,
            4 => AreaLevel::Kabupaten,
            6 => AreaLevel::Kecamatan,
            10 => AreaLevel::Desa,
            _ => AreaLevel::Posyandu,
        }
    }

    /// Whether `area` (a child's posyandu code) lies inside this area.
    pub fn contains(&self, area: &str) -> bool {
        area.starts_with(&self.0)
    }

    /// Whether this whole area lies inside `outer`.
    pub fn within(&self, outer: &AreaCode) -> bool {
        self.0.starts_with(&outer.0)
    }
}

impl TryFrom<String> for AreaCode {
    type Error = AreaError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AreaCode::parse(&s)
    }
}

impl From<AreaCode> for String {
    fn from(a: AreaCode) -> String {
        a.0
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a device may see and write: a set of areas, or everything (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    All,
    Areas(Vec<AreaCode>),
}

impl Scope {
    /// Whether a child with posyandu code `area` is in scope.
    pub fn contains(&self, area: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Areas(areas) => areas.iter().any(|a| a.contains(area)),
        }
    }

    /// Whether a whole area lies in scope.
    pub fn covers(&self, area: &AreaCode) -> bool {
        match self {
            Scope::All => true,
            Scope::Areas(areas) => areas.iter().any(|a| area.within(a)),
        }
    }

    /// The SQL condition "`column` (a child's posyandu code) lies in this
    /// scope", for the stores of both the server and the devices. Area codes
    /// are validated digits, so they are written into the SQL directly; a
    /// code's range is `[code, code + ':')` since `:` sorts right after `9`,
    /// which an index on `column` answers.
    pub fn sql_condition(&self, column: &str) -> String {
        match self {
            Scope::All => "1".to_string(),
            Scope::Areas(areas) if areas.is_empty() => "0".to_string(),
            Scope::Areas(areas) => {
                let parts: Vec<String> = areas
                    .iter()
                    .map(|a| format!("({column} >= '{a}' AND {column} < '{a}:')"))
                    .collect();
                format!("({})", parts.join(" OR "))
            }
        }
    }

    /// The scope as text: `*` or comma-separated codes.
    pub fn to_text(&self) -> String {
        match self {
            Scope::All => "*".into(),
            Scope::Areas(areas) => areas
                .iter()
                .map(AreaCode::as_str)
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// Reads [`Scope::to_text`]'s output.
    pub fn from_text(text: &str) -> Result<Scope, AreaError> {
        if text.trim() == "*" {
            return Ok(Scope::All);
        }
        text.split(',')
            .map(AreaCode::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Scope::Areas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_by_level_and_refuse_junk() {
        assert_eq!(
            AreaCode::parse("3530").map(|a| a.level()),
            Ok(AreaLevel::Kabupaten)
        );
        assert_eq!(
            AreaCode::parse("35.30.01.2002").map(|a| a.to_string()),
            Ok("3530012002".to_string())
        );
        assert!(AreaCode::parse("353").is_err());
        assert!(AreaCode::parse("35a0").is_err());
        assert!(AreaCode::parse("").is_err());
    }

    #[test]
    fn scope_is_a_prefix_match() {
        let scope = Scope::from_text("3530012002,3530012003").expect("scope");
        assert!(scope.contains("353001200205"));
        assert!(scope.contains("353001200301"));
        assert!(!scope.contains("353001200401"));
        assert!(!scope.contains("3530"));
        assert!(scope.covers(&AreaCode::parse("353001200205").expect("code")));
        assert!(!scope.covers(&AreaCode::parse("353001").expect("code")));
        assert!(Scope::All.contains("99"));
        assert_eq!(Scope::from_text(&scope.to_text()), Ok(scope));
    }

    #[test]
    fn sql_condition_is_a_range_per_code() {
        let scope = Scope::from_text("3530,3531").expect("scope");
        assert_eq!(
            scope.sql_condition("area"),
            "((area >= '3530' AND area < '3530:') OR (area >= '3531' AND area < '3531:'))"
        );
        assert_eq!(Scope::All.sql_condition("area"), "1");
        assert_eq!(Scope::Areas(Vec::new()).sql_condition("area"), "0");
    }
}
