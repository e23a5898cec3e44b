//! Verval verification checks (*verifikasi*): what a bidan, kader or the
//! district confirmed about a child after its record was flagged.
//!
//! A check is recorded, never applied: the entered profile and measurements
//! stay as they were, and the server derives the verified view (the birth
//! date and sex it uses, which measurement counts) from the checks. Each check
//! is its own entry in the document's `verifications` map, keyed by a fresh
//! UUID, so checks made offline on several devices all survive the merge.
//! When two checks of the same kind disagree, the later one (by
//! `recorded_at`, then id) is the one in force, and both stay visible.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::ids::{MeasurementId, VerificationId};
use crate::record::Sex;

/// The document a fact was read from during a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentSource {
    /// Buku KIA (Kesehatan Ibu dan Anak), the mother-and-child health book.
    Kia,
    /// Kartu Keluarga, the family card.
    Kk,
    /// Akta kelahiran, the birth certificate.
    Akta,
}

impl DocumentSource {
    /// Every source, in the order they are offered.
    pub const ALL: [DocumentSource; 3] = [Self::Kia, Self::Kk, Self::Akta];

    /// `kia`, `kk` or `akta`, as stored.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Kia => "kia",
            Self::Kk => "kk",
            Self::Akta => "akta",
        }
    }

    /// The document's name in Bahasa Indonesia.
    #[must_use]
    pub fn label_id(self) -> &'static str {
        match self {
            Self::Kia => "buku KIA",
            Self::Kk => "Kartu Keluarga",
            Self::Akta => "akta kelahiran",
        }
    }
}

impl fmt::Display for DocumentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for DocumentSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "kia" | "buku-kia" => Ok(Self::Kia),
            "kk" => Ok(Self::Kk),
            "akta" => Ok(Self::Akta),
            other => Err(format!(
                "unknown document `{other}`: use kia (buku KIA), kk (Kartu Keluarga) or akta"
            )),
        }
    }
}

/// What was checked, and what was found.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The birth date read from a document.
    BirthDate {
        date: NaiveDate,
        source: DocumentSource,
    },
    /// The sex read from a document.
    Sex { sex: Sex, source: DocumentSource },
    /// The child was measured again for the check; this measurement (in the
    /// same document) replaces the flagged one in its round.
    Remeasured { measurement: MeasurementId },
    /// The record was checked and is correct as it stands.
    Confirmed,
}

impl Check {
    /// `birth_date`, `sex`, `remeasured` or `confirmed`, as stored.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BirthDate { .. } => "birth_date",
            Self::Sex { .. } => "sex",
            Self::Remeasured { .. } => "remeasured",
            Self::Confirmed => "confirmed",
        }
    }
}

/// One recorded check.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub id: VerificationId,
    pub check: Check,
    /// The verval round (`YYYY-MM`) the check was made for.
    pub round: Option<String>,
    /// Who checked (kader or bidan name, or a district user).
    pub by: String,
    /// Unix milliseconds when it was recorded.
    pub recorded_at_ms: i64,
}

/// The check of each kind that is in force: the latest by `recorded_at`, then id.
#[must_use]
pub fn latest<'a>(verifications: &'a [Verification], kind: &str) -> Option<&'a Verification> {
    verifications
        .iter()
        .filter(|v| v.check.kind() == kind)
        .max_by_key(|v| (v.recorded_at_ms, v.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind_date: u32, at: i64) -> Verification {
        Verification {
            id: VerificationId::new(),
            check: Check::BirthDate {
                date: NaiveDate::from_ymd_opt(2023, 1, kind_date).expect("date"),
                source: DocumentSource::Kia,
            },
            round: Some("2024-08".into()),
            by: "Bidan Sri".into(),
            recorded_at_ms: at,
        }
    }

    #[test]
    fn the_latest_check_of_a_kind_is_in_force() {
        let all = vec![
            check(5, 20),
            check(9, 10),
            Verification {
                check: Check::Confirmed,
                ..check(1, 99)
            },
        ];
        let Some(v) = latest(&all, "birth_date") else {
            panic!("a birth-date check");
        };
        assert_eq!(v.recorded_at_ms, 20);
        assert!(latest(&all, "sex").is_none());
        assert_eq!(
            latest(&all, "confirmed").map(|v| v.recorded_at_ms),
            Some(99)
        );
    }

    #[test]
    fn sources_parse_from_their_codes_and_refuse_others() {
        for s in DocumentSource::ALL {
            assert_eq!(s.code().parse::<DocumentSource>(), Ok(s));
        }
        let err = "ingatan"
            .parse::<DocumentSource>()
            .expect_err("memory is not a document");
        assert!(err.contains("ingatan"), "{err}");
    }
}
