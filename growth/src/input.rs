//! What is measured: sex, measuring position, and the [`Input`] record passed to
//! [`assess`](fn@crate::assess).

/// Sex of the child (WHO code 1 = male, 2 = female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// `"M"` or `"F"`, as in the WHO table files.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }

    /// Row index into the compiled tables (0 = male, 1 = female).
    #[inline]
    pub(crate) fn index(self) -> usize {
        match self {
            Sex::Male => 0,
            Sex::Female => 1,
        }
    }
}

/// How length/height was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// Recumbent length (*panjang badan*, PB), code `L`.
    Lying,
    /// Standing height (*tinggi badan*, TB), code `H`.
    Standing,
}

impl Position {
    /// `"L"` (lying) or `"H"` (standing), WHO's codes.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Position::Lying => "L",
            Position::Standing => "H",
        }
    }
}

/// One measurement of one child.
///
/// Optional values that are `None`, non-finite (NaN, ±∞) or ≤ 0 are treated as not measured:
/// every index that needs them is left blank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input {
    pub sex: Sex,
    /// Measurement date − date of birth, in whole days (see [`age_in_days`](crate::age_in_days)).
    pub age_days: i64,
    /// Weight in kg.
    pub weight_kg: Option<f64>,
    /// Length or height in cm **as measured** (the ±0.7 cm adjustment is done by `assess`).
    pub lenhei_cm: Option<f64>,
    /// Measuring position; `None` = unknown (no adjustment).
    pub position: Option<Position>,
    /// Bilateral pitting oedema: weight-based indexes (WAZ, WHZ, BMIZ) are not computed.
    pub oedema: bool,
    /// Mid-upper arm circumference (LiLA) in cm.
    pub muac_cm: Option<f64>,
    /// Head circumference (lingkar kepala) in cm.
    pub head_cm: Option<f64>,
}

impl Input {
    /// A record with only sex and age; every measurement missing, no oedema.
    #[must_use]
    pub fn new(sex: Sex, age_days: i64) -> Self {
        Input {
            sex,
            age_days,
            weight_kg: None,
            lenhei_cm: None,
            position: None,
            oedema: false,
            muac_cm: None,
            head_cm: None,
        }
    }
}
