//! Units stored in child documents: integer grams and millimetres.
//!
//! Integers avoid binary floating-point noise in the CRDT (0.1 + 0.2 ≠ 0.3)
//! and in comparisons such as "did the weight go up": a posyandu scale reads to
//! 50 g or 100 g and a length board to 1 mm, so nothing is lost.

use std::fmt;

use thiserror::Error;

/// A value that cannot be a child's weight or length.
#[derive(Debug, Error, PartialEq)]
pub enum UnitError {
    #[error("{0} is not a number")]
    NotANumber(String),
    #[error("{value} {unit} is out of range ({min}–{max} {unit})")]
    OutOfRange {
        value: String,
        unit: &'static str,
        min: String,
        max: String,
    },
}

/// A weight in grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grams(pub u32);

/// A length (height, length, arm or head circumference) in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millimetres(pub u32);

impl Grams {
    /// Converts kilograms to grams, rounding to the nearest gram. Refuses
    /// non-finite values and anything outside `(0, max_kg]`.
    pub fn from_kg(kg: f64, max_kg: f64) -> Result<Self, UnitError> {
        if !kg.is_finite() {
            return Err(UnitError::NotANumber(kg.to_string()));
        }
        if kg <= 0.0 || kg > max_kg {
            return Err(UnitError::OutOfRange {
                value: trim_float(kg),
                unit: "kg",
                min: "0".into(),
                max: trim_float(max_kg),
            });
        }
        Ok(Self((kg * 1000.0).round() as u32))
    }
    /// The weight in kilograms.
    pub fn kg(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl Millimetres {
    /// Converts centimetres to millimetres, rounding to the nearest mm.
    /// Refuses non-finite values and anything outside `[min_cm, max_cm]`.
    pub fn from_cm(cm: f64, min_cm: f64, max_cm: f64) -> Result<Self, UnitError> {
        if !cm.is_finite() {
            return Err(UnitError::NotANumber(cm.to_string()));
        }
        if cm < min_cm || cm > max_cm {
            return Err(UnitError::OutOfRange {
                value: trim_float(cm),
                unit: "cm",
                min: trim_float(min_cm),
                max: trim_float(max_cm),
            });
        }
        Ok(Self((cm * 10.0).round() as u32))
    }
    /// The length in centimetres.
    pub fn cm(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl fmt::Display for Grams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} kg", trim_float(self.kg()))
    }
}

impl fmt::Display for Millimetres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cm", trim_float(self.cm()))
    }
}

/// Shortest decimal text of a float (`12.5`, `60`), for messages.
fn trim_float(x: f64) -> String {
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilograms_become_whole_grams_without_float_noise() {
        assert_eq!(Grams::from_kg(12.35, 60.0), Ok(Grams(12350)));
        assert_eq!(Grams::from_kg(0.1 + 0.2, 60.0), Ok(Grams(300)));
    }

    #[test]
    fn weight_limits_are_enforced() {
        assert!(Grams::from_kg(0.0, 60.0).is_err());
        assert!(Grams::from_kg(60.01, 60.0).is_err());
        assert!(Grams::from_kg(f64::NAN, 60.0).is_err());
        assert_eq!(Grams::from_kg(60.0, 60.0), Ok(Grams(60000)));
    }

    #[test]
    fn centimetres_become_whole_millimetres() {
        assert_eq!(
            Millimetres::from_cm(87.3, 38.0, 150.0),
            Ok(Millimetres(873))
        );
        assert!(Millimetres::from_cm(37.9, 38.0, 150.0).is_err());
        assert!(Millimetres::from_cm(150.1, 38.0, 150.0).is_err());
        assert_eq!(Millimetres(873).cm(), 87.3);
    }
}
