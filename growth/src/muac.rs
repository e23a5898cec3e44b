//! Acute malnutrition by mid-upper arm circumference (LiLA), the absolute
//! cut-offs used for children 6–59 months.
//!
//! Source: WHO/UNICEF joint statement on the WHO child growth standards and
//! the identification of severe acute malnutrition (2009), adopted in
//! Indonesia's guidance on *gizi buruk* (Kemenkes, Pedoman Pencegahan dan
//! Tata Laksana Gizi Buruk pada Balita, 2019/2020): LiLA < 11.5 cm is severe
//! acute malnutrition (*gizi buruk*, refer), 11.5 to < 12.5 cm moderate
//! (*gizi kurang*). Unlike the z-scores these need no table and no exact age,
//! which is why kader use them on the spot.

use crate::age::WHO2006_LAST_DAY;

/// First day of age 6 months (6 × 30.4375 = 182.625 days).
pub const DAYS_6_MONTHS: i64 = 183;

/// A LiLA band for a child of 6–59 months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MuacCategory {
    /// < 11.5 cm.
    Severe,
    /// 11.5 to < 12.5 cm.
    Moderate,
    /// ≥ 12.5 cm.
    Normal,
}

impl MuacCategory {
    /// Stable code: `lila_gizi_buruk`, `lila_gizi_kurang`, `lila_normal`.
    pub fn code(self) -> &'static str {
        match self {
            MuacCategory::Severe => "lila_gizi_buruk",
            MuacCategory::Moderate => "lila_gizi_kurang",
            MuacCategory::Normal => "lila_normal",
        }
    }
    /// Indonesian label.
    pub fn label_id(self) -> &'static str {
        match self {
            MuacCategory::Severe => "Gizi buruk (LiLA < 11,5 cm)",
            MuacCategory::Moderate => "Gizi kurang (LiLA 11,5–12,5 cm)",
            MuacCategory::Normal => "Normal (LiLA ≥ 12,5 cm)",
        }
    }
    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            MuacCategory::Severe => "Severe acute malnutrition (MUAC < 11.5 cm)",
            MuacCategory::Moderate => "Moderate acute malnutrition (MUAC 11.5–12.5 cm)",
            MuacCategory::Normal => "Normal (MUAC ≥ 12.5 cm)",
        }
    }
    /// True for the bands that need action.
    pub fn is_alarm(self) -> bool {
        self != MuacCategory::Normal
    }
}

/// The band for `muac_mm` at `age_days`; `None` outside 6–59 months (the
/// cut-offs are defined for that range only).
pub fn muac_category(age_days: i64, muac_mm: u32) -> Option<MuacCategory> {
    if !(DAYS_6_MONTHS..=WHO2006_LAST_DAY).contains(&age_days) {
        return None;
    }
    Some(match muac_mm {
        0..115 => MuacCategory::Severe,
        115..125 => MuacCategory::Moderate,
        _ => MuacCategory::Normal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_their_edges() {
        assert_eq!(muac_category(400, 114), Some(MuacCategory::Severe));
        assert_eq!(muac_category(400, 115), Some(MuacCategory::Moderate));
        assert_eq!(muac_category(400, 124), Some(MuacCategory::Moderate));
        assert_eq!(muac_category(400, 125), Some(MuacCategory::Normal));
    }

    #[test]
    fn only_for_six_to_fifty_nine_months() {
        assert_eq!(muac_category(DAYS_6_MONTHS - 1, 100), None);
        assert_eq!(
            muac_category(DAYS_6_MONTHS, 100),
            Some(MuacCategory::Severe)
        );
        assert_eq!(muac_category(1826, 100), Some(MuacCategory::Severe));
        assert_eq!(muac_category(1827, 100), None);
    }
}
