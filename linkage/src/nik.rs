//! The Indonesian NIK (Nomor Induk Kependudukan): parsing, its structure,
//! and plausibility checks against a child's record.
//!
//! Why: a NIK is the strongest identifier a child can have, but in posyandu
//! data it is often wrong in recognisable ways: digit typos, the mother's NIK
//! or the family card (KK) number typed into the child's field, a sibling's
//! NIK, or a dummy such as all zeros or the region code followed by zeros.
//! Because the NIK encodes the region of registration, the birth date and
//! the sex, most of these errors can be caught at entry by comparing it with
//! the rest of the record, before a wrong NIK merges two children.
//!
//! Layout (16 digits): `PPKKCC DDMMYY SSSS` — province (2), kabupaten/kota
//! (2), kecamatan (2); birth date with the day plus 40 for females; a 4-digit
//! serial (0001 upward).

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};

/// Sex as the linkage code sees it (kept independent of other Tumbuh crates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Laki-laki (`L`).
    Male,
    /// Perempuan (`P`).
    Female,
}

impl Sex {
    /// Parses the register codes `L`/`P` (also `M`/`F`, any case, trimmed).
    pub fn from_code(code: &str) -> Option<Sex> {
        match code.trim() {
            "L" | "l" | "M" | "m" => Some(Sex::Male),
            "P" | "p" | "F" | "f" => Some(Sex::Female),
            _ => None,
        }
    }

    /// The register code: `L` or `P`.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "L",
            Sex::Female => "P",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Sex::Male => "laki-laki",
            Sex::Female => "perempuan",
        }
    }

    fn en(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// Why a string is not a NIK. `Display` is Indonesian (shown to kader);
/// [`NikError::en`] gives English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    /// Nothing entered (only spaces).
    #[error("NIK kosong")]
    Empty,
    /// A character that is not an ASCII digit; `position` is 1-based, in
    /// characters, counted after trimming the surrounding spaces.
    #[error("NIK hanya boleh berisi angka: '{found}' pada karakter ke-{position}")]
    NonDigit {
        /// 1-based character position.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// Only digits, but not 16 of them.
    #[error("NIK harus 16 angka, yang dimasukkan {len} angka")]
    WrongLength {
        /// Number of digits entered.
        len: usize,
    },
    /// Sixteen times the same digit (`0000000000000000`): a placeholder,
    /// not a number. Other dummy patterns parse; see [`Nik::is_dummy`].
    #[error("NIK {0}{0}{0}{0}... (semua angka sama) bukan NIK sebenarnya")]
    Dummy(char),
}

impl NikError {
    /// The message in English.
    pub fn en(&self) -> String {
        match self {
            NikError::Empty => "NIK is empty".to_owned(),
            NikError::NonDigit { position, found } => {
                format!("NIK may only contain digits: '{found}' at character {position}")
            }
            NikError::WrongLength { len } => format!("NIK must be 16 digits, got {len}"),
            NikError::Dummy(d) => {
                format!("NIK {d}{d}{d}{d}... (all the same digit) is not a real NIK")
            }
        }
    }
}

/// A syntactically valid NIK: exactly 16 ASCII digits, not all the same.
///
/// Valid syntax says nothing about plausibility: see [`Nik::is_dummy`] and
/// [`check_nik_against_record`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nik {
    digits: String,
}

impl Nik {
    /// Parses a NIK. Leading and trailing whitespace is ignored; anything
    /// else that is not exactly 16 ASCII digits is rejected (inner spaces or
    /// dots too: NIKs are printed without separators on KK and KIA cards).
    /// Sixteen equal digits are rejected as [`NikError::Dummy`].
    pub fn parse(s: &str) -> Result<Nik, NikError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(NikError::Empty);
        }
        if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(NikError::NonDigit {
                position: i + 1,
                found: c,
            });
        }
        if t.len() != 16 {
            return Err(NikError::WrongLength { len: t.len() });
        }
        let first = t.as_bytes()[0];
        if t.bytes().all(|b| b == first) {
            return Err(NikError::Dummy(char::from(first)));
        }
        Ok(Nik {
            digits: t.to_owned(),
        })
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// Region of registration: province + kabupaten/kota + kecamatan
    /// (6 digits, e.g. `353001`).
    pub fn region(&self) -> &str {
        &self.digits[0..6]
    }

    /// The province code (2 digits).
    pub fn province(&self) -> &str {
        &self.digits[0..2]
    }

    /// The kabupaten/kota code including the province (4 digits).
    pub fn kabupaten(&self) -> &str {
        &self.digits[0..4]
    }

    /// The birth-date part as written: `DDMMYY`, day + 40 for females.
    pub fn date_part(&self) -> &str {
        &self.digits[6..12]
    }

    /// The 4-digit serial.
    pub fn serial(&self) -> &str {
        &self.digits[12..16]
    }

    fn number(&self, from: usize) -> u32 {
        self.digits.as_bytes()[from..from + 2]
            .iter()
            .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
    }

    /// The raw day (with the +40), month and 2-digit year of the date part.
    fn raw_date(&self) -> (u32, u32, u32) {
        (self.number(6), self.number(8), self.number(10))
    }

    /// Sex from the day part: 01-31 male, 41-71 female; `None` when the day
    /// part is neither (a typo or not a NIK).
    pub fn sex(&self) -> Option<Sex> {
        match self.raw_date().0 {
            1..=31 => Some(Sex::Male),
            41..=71 => Some(Sex::Female),
            _ => None,
        }
    }

    /// Day (without the +40), month and 2-digit year, if the day and month
    /// are in range (the day is not checked against the month).
    pub fn birth_date_parts(&self) -> Option<(u32, u32, u32)> {
        let (d, m, y) = self.raw_date();
        let day = match d {
            1..=31 => d,
            41..=71 => d - 40,
            _ => return None,
        };
        (1..=12).contains(&m).then_some((day, m, y))
    }

    /// The birth date encoded in the NIK, or `None` if the date part is not
    /// a real date.
    ///
    /// A NIK has only a 2-digit year, so the century is chosen as the one
    /// that makes the date the latest date not after `reference`. Pass
    /// today's date (or the visit date): for anyone younger than 100 years,
    /// which includes every child, the result is then right.
    /// `310721...` with reference 2024-08-01 gives 2021-07-31; `...991`
    /// years (`YY` = 99) give 1999.
    pub fn birth_date(&self, reference: NaiveDate) -> Option<NaiveDate> {
        let (day, month, yy) = self.birth_date_parts()?;
        let ref_year = reference.year();
        let mut year = ref_year - ref_year.rem_euclid(100) + yy as i32;
        if year > ref_year {
            year -= 100;
        }
        let date = NaiveDate::from_ymd_opt(year, month, day);
        match date {
            Some(d) if d <= reference => Some(d),
            // Same 2-digit year as the reference but later in the year: a
            // century earlier.
            Some(_) => NaiveDate::from_ymd_opt(year - 100, month, day),
            None => None,
        }
    }

    /// Whether the date part says the holder was older than
    /// [`CHILD_NIK_MAX_AGE_YEARS`] on `on` (the day of a measurement): not
    /// the NIK of a child under five but an adult's (the mother's, the
    /// father's) or a KK number issued years ago, typed into the child's
    /// field. An unreadable date part is not judged here.
    pub fn is_too_old_for_a_child(&self, on: NaiveDate) -> bool {
        let Some(born) = self.birth_date(on) else {
            return false;
        };
        on.checked_sub_months(Months::new(12 * CHILD_NIK_MAX_AGE_YEARS))
            .is_some_and(|limit| born < limit)
    }

    /// Whether the NIK looks like a placeholder rather than a person's
    /// number: region `000000`, date part `000000`, serial `0000` (serials
    /// start at 0001), the last ten digits all zero (region + zeros), a run
    /// of consecutive digits (`1234567890123456`, `9876...`), or at least
    /// 13 of the 16 digits the same (`3500000000000001`).
    pub fn is_dummy(&self) -> bool {
        let b = self.digits.as_bytes();
        let all_zero = |s: &[u8]| s.iter().all(|&c| c == b'0');
        if all_zero(&b[0..6]) || all_zero(&b[6..12]) || all_zero(&b[12..16]) || all_zero(&b[6..16])
        {
            return true;
        }
        let ascending = b.windows(2).all(|w| (w[0] - b'0' + 1) % 10 == w[1] - b'0');
        let descending = b.windows(2).all(|w| (w[1] - b'0' + 1) % 10 == w[0] - b'0');
        if ascending || descending {
            return true;
        }
        let mut counts = [0usize; 10];
        for &c in b {
            counts[usize::from(c - b'0')] += 1;
        }
        counts.iter().any(|&n| n >= 13)
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digits)
    }
}

impl std::str::FromStr for Nik {
    type Err = NikError;
    fn from_str(s: &str) -> Result<Nik, NikError> {
        Nik::parse(s)
    }
}

/// Something about a (syntactically valid) NIK that does not fit the
/// child's record. `Display` is Indonesian (shown to kader); [`NikWarning::en`]
/// gives English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NikWarning {
    /// The NIK looks like a placeholder ([`Nik::is_dummy`]); no other check
    /// is reported then.
    Dummy,
    /// The NIK's region (prov+kab+kec) is not the posyandu's kecamatan. Can
    /// be right (a family registered elsewhere, moved in), hence a warning.
    RegionDiffers {
        /// First 6 digits of the NIK.
        nik_region: String,
        /// First 6 digits of the posyandu code.
        area_region: String,
    },
    /// The date part is not a date (day not 01-31 or 41-71, month not
    /// 01-12, or e.g. 31 February).
    InvalidDatePart {
        /// The `DDMMYY` digits.
        date_part: String,
    },
    /// The date part decodes to someone at least 12 years older than the
    /// child: most likely the mother's (or father's) NIK or the No. KK (whose
    /// middle digits are the issue date) typed into the child's field.
    LooksLikeAdult {
        /// The decoded year of birth.
        nik_birth_year: i32,
        /// How many years before the child's birth year.
        years_older: i32,
    },
    /// The date part is a valid date but not the child's birth date.
    BirthDateDiffers {
        /// The date part as `dd-mm-yy` with the day without the +40.
        nik_date: String,
        /// The birth date on the record.
        record: NaiveDate,
        /// The NIK has day and month of the record swapped.
        day_month_swapped: bool,
    },
    /// The day part says the other sex (day + 40 is for girls).
    SexDiffers {
        /// Sex according to the NIK.
        nik: Sex,
        /// Sex on the record.
        record: Sex,
    },
}

impl NikWarning {
    /// A stable identifier, e.g. for logs or translations.
    pub fn code(&self) -> &'static str {
        match self {
            NikWarning::Dummy => "nik_dummy",
            NikWarning::RegionDiffers { .. } => "nik_region_differs",
            NikWarning::InvalidDatePart { .. } => "nik_invalid_date",
            NikWarning::LooksLikeAdult { .. } => "nik_looks_adult",
            NikWarning::BirthDateDiffers { .. } => "nik_birth_date_differs",
            NikWarning::SexDiffers { .. } => "nik_sex_differs",
        }
    }

    /// The warning in English.
    pub fn en(&self) -> String {
        match self {
            NikWarning::Dummy => {
                "the NIK looks like a dummy value (zeros or a pattern), not a real NIK".to_owned()
            }
            NikWarning::RegionDiffers {
                nik_region,
                area_region,
            } => format!(
                "the NIK's region code {nik_region} differs from the posyandu's kecamatan \
                 {area_region} (fine if the child was registered elsewhere)"
            ),
            NikWarning::InvalidDatePart { date_part } => {
                format!("the NIK's birth-date digits {date_part} are not a valid date")
            }
            NikWarning::LooksLikeAdult {
                nik_birth_year,
                years_older,
            } => format!(
                "the NIK belongs to someone born in {nik_birth_year}, {years_older} years before \
                 the child: the mother's NIK or the KK number?"
            ),
            NikWarning::BirthDateDiffers {
                nik_date,
                record,
                day_month_swapped,
            } => {
                let swap = if *day_month_swapped {
                    " (day and month swapped)"
                } else {
                    ""
                };
                format!(
                    "the NIK's birth date {nik_date} differs from the birth date {}{swap}",
                    record.format("%d-%m-%Y")
                )
            }
            NikWarning::SexDiffers { nik, record } => format!(
                "the NIK is that of a {} child but the record says {}",
                nik.en(),
                record.en()
            ),
        }
    }
}

impl fmt::Display for NikWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NikWarning::Dummy => {
                f.write_str("NIK tampaknya isian sementara (nol atau pola angka), bukan NIK asli")
            }
            NikWarning::RegionDiffers {
                nik_region,
                area_region,
            } => write!(
                f,
                "kode wilayah NIK {nik_region} berbeda dengan kecamatan posyandu {area_region} \
                 (boleh jika anak terdaftar di tempat lain)"
            ),
            NikWarning::InvalidDatePart { date_part } => {
                write!(
                    f,
                    "angka tanggal lahir pada NIK ({date_part}) bukan tanggal yang benar"
                )
            }
            NikWarning::LooksLikeAdult {
                nik_birth_year,
                years_older,
            } => write!(
                f,
                "NIK ini milik orang yang lahir tahun {nik_birth_year}, {years_older} tahun \
                 sebelum anak: NIK ibu atau nomor KK?"
            ),
            NikWarning::BirthDateDiffers {
                nik_date,
                record,
                day_month_swapped,
            } => {
                let swap = if *day_month_swapped {
                    " (tanggal dan bulan tertukar)"
                } else {
                    ""
                };
                write!(
                    f,
                    "tanggal lahir pada NIK {nik_date} berbeda dengan tanggal lahir {}{swap}",
                    record.format("%d-%m-%Y")
                )
            }
            NikWarning::SexDiffers { nik, record } => write!(
                f,
                "menurut NIK anak {} tetapi tercatat {}",
                nik.id(),
                record.id()
            ),
        }
    }
}

/// Age gap (years) from which a NIK's birth year is taken as an adult's.
const ADULT_GAP_YEARS: i32 = 12;

/// Oldest age, in years, a child's own NIK can show on the day of a
/// measurement: posyandu weigh children under five; one more year leaves
/// room for a mistyped year.
pub const CHILD_NIK_MAX_AGE_YEARS: u32 = 6;

/// Compares a NIK with the child's sex, birth date and posyandu.
///
/// `area_code` is the posyandu code (12 digits: prov 2 + kab 2 + kec 2 +
/// desa 4 + posyandu 2; a 10-digit desa code works too): its first 6 digits
/// are compared with [`Nik::region`]. It is ignored when absent or when it
/// does not start with 6 digits.
///
/// Rules:
/// - a dummy NIK gives only [`NikWarning::Dummy`];
/// - the region is compared when `area_code` allows;
/// - an impossible date part gives [`NikWarning::InvalidDatePart`] (and no
///   sex check, since the day part is not readable);
/// - the date part is decoded with the century that puts it at most two
///   years after the child's birth (room for a year typo); if that is 12 or
///   more years before the child's birth,
///   [`NikWarning::LooksLikeAdult`] replaces the date and sex checks (the
///   mother's NIK would otherwise also raise a sex warning for a boy);
/// - otherwise day, month and 2-digit year are compared with the birth date
///   ([`NikWarning::BirthDateDiffers`], noting a day/month swap), and the
///   sex from the day part with `sex`.
pub fn check_nik_against_record(
    nik: &Nik,
    sex: Sex,
    birth_date: NaiveDate,
    area_code: Option<&str>,
) -> Vec<NikWarning> {
    if nik.is_dummy() {
        return vec![NikWarning::Dummy];
    }
    let mut out = Vec::new();
    if let Some(area) = area_code.map(str::trim)
        && let Some(area_region) = area.get(0..6)
        && area_region.bytes().all(|b| b.is_ascii_digit())
        && area_region != nik.region()
    {
        out.push(NikWarning::RegionDiffers {
            nik_region: nik.region().to_owned(),
            area_region: area_region.to_owned(),
        });
    }
    let reference = birth_date
        .checked_add_months(Months::new(24))
        .unwrap_or(birth_date);
    let Some(nik_date) = nik.birth_date(reference) else {
        out.push(NikWarning::InvalidDatePart {
            date_part: nik.date_part().to_owned(),
        });
        return out;
    };
    let years_older = birth_date.year() - nik_date.year();
    if years_older >= ADULT_GAP_YEARS {
        out.push(NikWarning::LooksLikeAdult {
            nik_birth_year: nik_date.year(),
            years_older,
        });
        return out;
    }
    let (day, month, yy) = (
        nik_date.day(),
        nik_date.month(),
        nik_date.year().rem_euclid(100),
    );
    let record_yy = birth_date.year().rem_euclid(100);
    if (day, month, yy) != (birth_date.day(), birth_date.month(), record_yy) {
        out.push(NikWarning::BirthDateDiffers {
            nik_date: format!("{day:02}-{month:02}-{yy:02}"),
            record: birth_date,
            day_month_swapped: day != month
                && day == birth_date.month()
                && month == birth_date.day()
                && yy == record_yy,
        });
    }
    if let Some(nik_sex) = nik.sex()
        && nik_sex != sex
    {
        out.push(NikWarning::SexDiffers {
            nik: nik_sex,
            record: sex,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn nik(s: &str) -> Nik {
        Nik::parse(s).expect("valid test NIK")
    }

    #[test]
    fn parses_and_exposes_parts() {
        let n = nik(" 3530015507210012 ");
        assert_eq!(n.as_str(), "3530015507210012");
        assert_eq!(n.region(), "353001");
        assert_eq!(n.province(), "35");
        assert_eq!(n.kabupaten(), "3530");
        assert_eq!(n.date_part(), "550721");
        assert_eq!(n.serial(), "0012");
        assert_eq!(n.sex(), Some(Sex::Female));
        assert_eq!(n.birth_date(date(2024, 8, 1)), Some(date(2021, 7, 15)));
        assert!(!n.is_dummy());
        assert_eq!(n.to_string(), "3530015507210012");
        assert_eq!(
            "3530011507210012".parse::<Nik>().map(|n| n.sex()),
            Ok(Some(Sex::Male))
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Nik::parse(""), Err(NikError::Empty));
        assert_eq!(Nik::parse("   "), Err(NikError::Empty));
        assert_eq!(
            Nik::parse("353001550721001"),
            Err(NikError::WrongLength { len: 15 })
        );
        assert_eq!(
            Nik::parse("35300155072100123"),
            Err(NikError::WrongLength { len: 17 })
        );
        assert_eq!(
            Nik::parse("3530 0155 0721 0012"),
            Err(NikError::NonDigit {
                position: 5,
                found: ' '
            })
        );
        assert_eq!(
            Nik::parse("35300155O7210012"),
            Err(NikError::NonDigit {
                position: 9,
                found: 'O'
            })
        );
        assert_eq!(
            Nik::parse("😊530015507210012"),
            Err(NikError::NonDigit {
                position: 1,
                found: '😊'
            })
        );
        // Non-ASCII digits are not digits.
        assert!(matches!(
            Nik::parse("٣530015507210012"),
            Err(NikError::NonDigit { position: 1, .. })
        ));
        assert_eq!(Nik::parse("0000000000000000"), Err(NikError::Dummy('0')));
        assert_eq!(Nik::parse("1111111111111111"), Err(NikError::Dummy('1')));
        // Messages exist in both languages.
        let e = Nik::parse("12").expect_err("too short");
        assert!(e.to_string().contains("16"));
        assert!(e.en().contains("16"));
    }

    #[test]
    fn sex_and_date_edge_cases() {
        assert_eq!(nik("3530013207210012").sex(), None);
        assert_eq!(nik("3530017207210012").sex(), None);
        assert_eq!(nik("3530010007210012").sex(), None);
        assert_eq!(nik("3530013107210012").sex(), Some(Sex::Male));
        assert_eq!(nik("3530017107210012").sex(), Some(Sex::Female));
        // Month 13, day 31 in February: no date.
        assert_eq!(nik("3530011513210012").birth_date(date(2024, 1, 1)), None);
        assert_eq!(nik("3530013102210012").birth_date(date(2024, 1, 1)), None);
        // 29 February: 2020 exists, 1920 did not matter.
        assert_eq!(
            nik("3530012902200012").birth_date(date(2024, 1, 1)),
            Some(date(2020, 2, 29))
        );
        // Century: latest date not after the reference.
        assert_eq!(
            nik("3530011508240012").birth_date(date(2024, 8, 1)),
            Some(date(1924, 8, 15))
        );
        assert_eq!(
            nik("3530011507240012").birth_date(date(2024, 8, 1)),
            Some(date(2024, 7, 15))
        );
        assert_eq!(
            nik("3530015504900012").birth_date(date(2024, 8, 1)),
            Some(date(1990, 4, 15))
        );
    }

    #[test]
    fn dummies() {
        for s in [
            "3530010000000000",
            "3530010000000001",
            "3530011507210000",
            "0000001507210012",
            "1234567890123456",
            "6543210987654321",
            "3500000000000001",
        ] {
            assert!(nik(s).is_dummy(), "{s}");
        }
        assert!(!nik("3530011507210012").is_dummy());
    }

    #[test]
    fn consistent_nik_gives_no_warning() {
        let w = check_nik_against_record(
            &nik("3530015507210012"),
            Sex::Female,
            date(2021, 7, 15),
            Some("353001200205"),
        );
        assert_eq!(w, vec![]);
        let w =
            check_nik_against_record(&nik("3530011507210012"), Sex::Male, date(2021, 7, 15), None);
        assert_eq!(w, vec![]);
    }

    #[test]
    fn warns_about_region() {
        let w = check_nik_against_record(
            &nik("3530025507210012"),
            Sex::Female,
            date(2021, 7, 15),
            Some("353001200205"),
        );
        assert_eq!(
            w,
            vec![NikWarning::RegionDiffers {
                nik_region: "353002".into(),
                area_region: "353001".into()
            }]
        );
        // Unusable area codes are ignored.
        for area in ["", "35", "35.30.01", "abcdefghijkl"] {
            let w = check_nik_against_record(
                &nik("3530025507210012"),
                Sex::Female,
                date(2021, 7, 15),
                Some(area),
            );
            assert_eq!(w, vec![], "{area}");
        }
    }

    #[test]
    fn warns_about_birth_date() {
        let w =
            check_nik_against_record(&nik("3530011507210012"), Sex::Male, date(2021, 7, 16), None);
        assert_eq!(
            w,
            vec![NikWarning::BirthDateDiffers {
                nik_date: "15-07-21".into(),
                record: date(2021, 7, 16),
                day_month_swapped: false
            }]
        );
        let w =
            check_nik_against_record(&nik("3530010507210012"), Sex::Male, date(2021, 5, 7), None);
        assert_eq!(
            w,
            vec![NikWarning::BirthDateDiffers {
                nik_date: "05-07-21".into(),
                record: date(2021, 5, 7),
                day_month_swapped: true
            }]
        );
        // A year typo into the future is a date difference, not an adult.
        let w =
            check_nik_against_record(&nik("3530011507230012"), Sex::Male, date(2022, 7, 15), None);
        assert!(
            matches!(w.as_slice(), [NikWarning::BirthDateDiffers { .. }]),
            "{w:?}"
        );
    }

    #[test]
    fn warns_about_invalid_date_part() {
        let w =
            check_nik_against_record(&nik("3530013507210012"), Sex::Male, date(2021, 7, 15), None);
        assert_eq!(
            w,
            vec![NikWarning::InvalidDatePart {
                date_part: "350721".into()
            }]
        );
    }

    #[test]
    fn warns_about_sex() {
        let w =
            check_nik_against_record(&nik("3530015507210012"), Sex::Male, date(2021, 7, 15), None);
        assert_eq!(
            w,
            vec![NikWarning::SexDiffers {
                nik: Sex::Female,
                record: Sex::Male
            }]
        );
    }

    #[test]
    fn warns_about_adult_nik() {
        // The mother's NIK (born 15-04-1990) in a boy's record.
        let w = check_nik_against_record(
            &nik("3530015504900012"),
            Sex::Male,
            date(2022, 3, 1),
            Some("353001200205"),
        );
        assert_eq!(
            w,
            vec![NikWarning::LooksLikeAdult {
                nik_birth_year: 1990,
                years_older: 32
            }]
        );
        // A KK number (issued 2008) in a 2022 child's field.
        let w =
            check_nik_against_record(&nik("3530010103080012"), Sex::Male, date(2022, 3, 1), None);
        assert!(
            matches!(w.as_slice(), [NikWarning::LooksLikeAdult { .. }]),
            "{w:?}"
        );
    }

    #[test]
    fn warns_about_dummy_only() {
        let w = check_nik_against_record(
            &nik("3530020000000000"),
            Sex::Male,
            date(2022, 3, 1),
            Some("353001200205"),
        );
        assert_eq!(w, vec![NikWarning::Dummy]);
    }

    #[test]
    fn warnings_have_both_languages() {
        let all = [
            NikWarning::Dummy,
            NikWarning::RegionDiffers {
                nik_region: "353002".into(),
                area_region: "353001".into(),
            },
            NikWarning::InvalidDatePart {
                date_part: "350721".into(),
            },
            NikWarning::LooksLikeAdult {
                nik_birth_year: 1990,
                years_older: 32,
            },
            NikWarning::BirthDateDiffers {
                nik_date: "05-07-21".into(),
                record: date(2021, 5, 7),
                day_month_swapped: true,
            },
            NikWarning::SexDiffers {
                nik: Sex::Female,
                record: Sex::Male,
            },
        ];
        for w in &all {
            let id = w.to_string();
            let en = w.en();
            assert!(!id.is_empty() && !en.is_empty() && id != en, "{w:?}");
            assert!(w.code().starts_with("nik_"));
        }
        assert!(all[4].to_string().contains("tertukar"));
        assert!(all[5].to_string().contains("perempuan"));
    }

    #[test]
    fn never_panics() {
        let mut state: u64 = 42;
        for _ in 0..2000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let digits = format!("{:016}", state % 10_000_000_000_000_000);
            let n = Nik::parse(&digits).expect("16 digits, not all equal");
            for reference in [NaiveDate::MIN, NaiveDate::MAX, date(2024, 2, 29)] {
                let _ = n.birth_date(reference);
                let _ = check_nik_against_record(&n, Sex::Female, reference, Some(&digits));
            }
            let _ = (n.sex(), n.is_dummy(), n.birth_date_parts());
            let _ = check_nik_against_record(&n, Sex::Male, date(2022, 1, 1), Some("3530é1"));
        }
        for odd in ["", "😊", "١٢٣", "3530\u{301}", "\0", "3530015507210012\n"] {
            let _ = Nik::parse(odd);
        }
    }

    #[test]
    fn sex_codes() {
        assert_eq!(Sex::from_code(" L "), Some(Sex::Male));
        assert_eq!(Sex::from_code("p"), Some(Sex::Female));
        assert_eq!(Sex::from_code("X"), None);
        assert_eq!(Sex::Female.code(), "P");
    }
}
