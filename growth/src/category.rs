//! Permenkes RI No. 2 Tahun 2020 (Standar Antropometri Anak) categories.
//!
//! Every category is decided on the **rounded** z-score (integer hundredths), as WHO's
//! prevalence code does: z = −2.004 rounds to −2.00 and is *not* stunted. "sd" (sampai dengan)
//! bounds are inclusive:
//!
//! | index | categories (z ranges) |
//! |---|---|
//! | PB/U, TB/U (0–60 mo) | sangat pendek < −3 ≤ pendek < −2 ≤ normal ≤ +3 < tinggi |
//! | BB/U (0–60 mo) | BB sangat kurang < −3 ≤ BB kurang < −2 ≤ BB normal ≤ +1 < risiko BB lebih |
//! | BB/PB, BB/TB, IMT/U (0–60 mo) | gizi buruk < −3 ≤ gizi kurang < −2 ≤ gizi baik ≤ +1 < berisiko gizi lebih ≤ +2 < gizi lebih ≤ +3 < obesitas |
//! | IMT/U (5–18 y, WHO 2007) | gizi buruk < −3 ≤ gizi kurang < −2 ≤ gizi baik ≤ +1 < gizi lebih ≤ +2 < obesitas |
//!
//! Permenkes defines no TB/U or BB/U categories for 5–18 years, so those are `None` at WHO 2007
//! ages. Categories are assigned even when the z-score is flagged as implausible: the flag is
//! the separate signal to re-measure.

use crate::age::Standard;

/// Length/height-for-age (PB/U or TB/U), 0–60 months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TbuCategory {
    /// z < −3
    SangatPendek,
    /// −3 ≤ z < −2
    Pendek,
    /// −2 ≤ z ≤ +3
    Normal,
    /// z > +3
    Tinggi,
}

impl TbuCategory {
    /// Category of a rounded HAZ (hundredths).
    #[must_use]
    pub fn from_centi(centi: i32) -> Self {
        match centi {
            i32::MIN..=-301 => TbuCategory::SangatPendek,
            -300..=-201 => TbuCategory::Pendek,
            -200..=300 => TbuCategory::Normal,
            _ => TbuCategory::Tinggi,
        }
    }

    /// Code used in data files: `sangat_pendek`, `pendek`, `normal`, `tinggi`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            TbuCategory::SangatPendek => "sangat_pendek",
            TbuCategory::Pendek => "pendek",
            TbuCategory::Normal => "normal",
            TbuCategory::Tinggi => "tinggi",
        }
    }

    /// Permenkes 2/2020 label.
    #[must_use]
    pub fn label_id(&self) -> &'static str {
        match self {
            TbuCategory::SangatPendek => "Sangat pendek",
            TbuCategory::Pendek => "Pendek",
            TbuCategory::Normal => "Normal",
            TbuCategory::Tinggi => "Tinggi",
        }
    }

    /// English label (the one Permenkes 2/2020 gives in brackets).
    #[must_use]
    pub fn label_en(&self) -> &'static str {
        match self {
            TbuCategory::SangatPendek => "Severely stunted",
            TbuCategory::Pendek => "Stunted",
            TbuCategory::Normal => "Normal",
            TbuCategory::Tinggi => "Tall",
        }
    }

    /// Needs attention: sangat pendek or pendek (stunting).
    #[must_use]
    pub fn is_alarm(&self) -> bool {
        matches!(self, TbuCategory::SangatPendek | TbuCategory::Pendek)
    }
}

/// Weight-for-age (BB/U), 0–60 months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BbuCategory {
    /// z < −3
    SangatKurang,
    /// −3 ≤ z < −2
    Kurang,
    /// −2 ≤ z ≤ +1
    Normal,
    /// z > +1
    RisikoLebih,
}

impl BbuCategory {
    /// Category of a rounded WAZ (hundredths).
    #[must_use]
    pub fn from_centi(centi: i32) -> Self {
        match centi {
            i32::MIN..=-301 => BbuCategory::SangatKurang,
            -300..=-201 => BbuCategory::Kurang,
            -200..=100 => BbuCategory::Normal,
            _ => BbuCategory::RisikoLebih,
        }
    }

    /// Code used in data files: `bb_sangat_kurang`, `bb_kurang`, `bb_normal`, `risiko_bb_lebih`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            BbuCategory::SangatKurang => "bb_sangat_kurang",
            BbuCategory::Kurang => "bb_kurang",
            BbuCategory::Normal => "bb_normal",
            BbuCategory::RisikoLebih => "risiko_bb_lebih",
        }
    }

    /// Permenkes 2/2020 label.
    #[must_use]
    pub fn label_id(&self) -> &'static str {
        match self {
            BbuCategory::SangatKurang => "Berat badan sangat kurang",
            BbuCategory::Kurang => "Berat badan kurang",
            BbuCategory::Normal => "Berat badan normal",
            BbuCategory::RisikoLebih => "Risiko berat badan lebih",
        }
    }

    /// English label.
    #[must_use]
    pub fn label_en(&self) -> &'static str {
        match self {
            BbuCategory::SangatKurang => "Severely underweight",
            BbuCategory::Kurang => "Underweight",
            BbuCategory::Normal => "Normal weight",
            BbuCategory::RisikoLebih => "Risk of overweight",
        }
    }

    /// Needs attention: BB sangat kurang or BB kurang.
    #[must_use]
    pub fn is_alarm(&self) -> bool {
        matches!(self, BbuCategory::SangatKurang | BbuCategory::Kurang)
    }
}

/// Nutritional status: BB/PB or BB/TB (0–60 months) and IMT/U (0–18 years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NutritionCategory {
    /// z < −3
    GiziBuruk,
    /// −3 ≤ z < −2
    GiziKurang,
    /// −2 ≤ z ≤ +1
    GiziBaik,
    /// +1 < z ≤ +2 (0–60 months only)
    BerisikoGiziLebih,
    /// +2 < z ≤ +3 (0–60 months); +1 < z ≤ +2 for IMT/U 5–18 years
    GiziLebih,
    /// z > +3 (0–60 months); z > +2 for IMT/U 5–18 years
    Obesitas,
}

impl NutritionCategory {
    /// BB/PB, BB/TB, or IMT/U at 0–60 months, from a rounded z (hundredths).
    #[must_use]
    pub fn under_five_from_centi(centi: i32) -> Self {
        match centi {
            i32::MIN..=-301 => NutritionCategory::GiziBuruk,
            -300..=-201 => NutritionCategory::GiziKurang,
            -200..=100 => NutritionCategory::GiziBaik,
            101..=200 => NutritionCategory::BerisikoGiziLebih,
            201..=300 => NutritionCategory::GiziLebih,
            _ => NutritionCategory::Obesitas,
        }
    }

    /// IMT/U at 5–18 years (WHO 2007 ages), from a rounded z (hundredths).
    #[must_use]
    pub fn school_age_from_centi(centi: i32) -> Self {
        match centi {
            i32::MIN..=-301 => NutritionCategory::GiziBuruk,
            -300..=-201 => NutritionCategory::GiziKurang,
            -200..=100 => NutritionCategory::GiziBaik,
            101..=200 => NutritionCategory::GiziLebih,
            _ => NutritionCategory::Obesitas,
        }
    }

    /// IMT/U category for the standard in use (`None` for [`Standard::OutOfRange`]).
    #[must_use]
    pub fn imtu_from_centi(standard: Standard, centi: i32) -> Option<Self> {
        match standard {
            Standard::Who2006 => Some(Self::under_five_from_centi(centi)),
            Standard::Who2007 => Some(Self::school_age_from_centi(centi)),
            Standard::OutOfRange => None,
        }
    }

    /// Code used in data files: `gizi_buruk`, `gizi_kurang`, `gizi_baik`,
    /// `berisiko_gizi_lebih`, `gizi_lebih`, `obesitas`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            NutritionCategory::GiziBuruk => "gizi_buruk",
            NutritionCategory::GiziKurang => "gizi_kurang",
            NutritionCategory::GiziBaik => "gizi_baik",
            NutritionCategory::BerisikoGiziLebih => "berisiko_gizi_lebih",
            NutritionCategory::GiziLebih => "gizi_lebih",
            NutritionCategory::Obesitas => "obesitas",
        }
    }

    /// Permenkes 2/2020 label.
    #[must_use]
    pub fn label_id(&self) -> &'static str {
        match self {
            NutritionCategory::GiziBuruk => "Gizi buruk",
            NutritionCategory::GiziKurang => "Gizi kurang",
            NutritionCategory::GiziBaik => "Gizi baik",
            NutritionCategory::BerisikoGiziLebih => "Berisiko gizi lebih",
            NutritionCategory::GiziLebih => "Gizi lebih",
            NutritionCategory::Obesitas => "Obesitas",
        }
    }

    /// English label as Permenkes gives it for 0–60 months (severely wasted, wasted, normal,
    /// possible risk of overweight, overweight, obese). For IMT/U at 5–18 years the regulation
    /// says "thinness" instead of "wasted": see [`NutritionCategory::label_en_for`].
    #[must_use]
    pub fn label_en(&self) -> &'static str {
        match self {
            NutritionCategory::GiziBuruk => "Severely wasted",
            NutritionCategory::GiziKurang => "Wasted",
            NutritionCategory::GiziBaik => "Normal",
            NutritionCategory::BerisikoGiziLebih => "Possible risk of overweight",
            NutritionCategory::GiziLebih => "Overweight",
            NutritionCategory::Obesitas => "Obese",
        }
    }

    /// English label for the standard in use: at WHO 2007 ages gizi buruk / gizi kurang are
    /// "Severe thinness" / "Thinness"; otherwise the same as [`NutritionCategory::label_en`].
    #[must_use]
    pub fn label_en_for(&self, standard: Standard) -> &'static str {
        match (standard, self) {
            (Standard::Who2007, NutritionCategory::GiziBuruk) => "Severe thinness",
            (Standard::Who2007, NutritionCategory::GiziKurang) => "Thinness",
            _ => self.label_en(),
        }
    }

    /// Needs attention: gizi buruk, gizi kurang, or obesitas.
    #[must_use]
    pub fn is_alarm(&self) -> bool {
        matches!(
            self,
            NutritionCategory::GiziBuruk
                | NutritionCategory::GiziKurang
                | NutritionCategory::Obesitas
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tbu_boundaries() {
        use TbuCategory::*;
        for (centi, want) in [
            (-600, SangatPendek),
            (-301, SangatPendek),
            (-300, Pendek),
            (-201, Pendek),
            (-200, Normal),
            (0, Normal),
            (300, Normal),
            (301, Tinggi),
            (i32::MIN, SangatPendek),
            (i32::MAX, Tinggi),
        ] {
            assert_eq!(TbuCategory::from_centi(centi), want, "{centi}");
        }
        assert!(SangatPendek.is_alarm() && Pendek.is_alarm());
        assert!(!Normal.is_alarm() && !Tinggi.is_alarm());
    }

    #[test]
    fn bbu_boundaries() {
        use BbuCategory::*;
        for (centi, want) in [
            (-301, SangatKurang),
            (-300, Kurang),
            (-201, Kurang),
            (-200, Normal),
            (100, Normal),
            (101, RisikoLebih),
        ] {
            assert_eq!(BbuCategory::from_centi(centi), want, "{centi}");
        }
        assert!(SangatKurang.is_alarm() && Kurang.is_alarm());
        assert!(!Normal.is_alarm() && !RisikoLebih.is_alarm());
    }

    #[test]
    fn nutrition_boundaries_under_five() {
        use NutritionCategory::*;
        for (centi, want) in [
            (-301, GiziBuruk),
            (-300, GiziKurang),
            (-201, GiziKurang),
            (-200, GiziBaik),
            (100, GiziBaik),
            (101, BerisikoGiziLebih),
            (200, BerisikoGiziLebih),
            (201, GiziLebih),
            (300, GiziLebih),
            (301, Obesitas),
        ] {
            assert_eq!(
                NutritionCategory::under_five_from_centi(centi),
                want,
                "{centi}"
            );
            assert_eq!(
                NutritionCategory::imtu_from_centi(Standard::Who2006, centi),
                Some(want)
            );
        }
    }

    #[test]
    fn nutrition_boundaries_school_age() {
        use NutritionCategory::*;
        for (centi, want) in [
            (-301, GiziBuruk),
            (-300, GiziKurang),
            (-201, GiziKurang),
            (-200, GiziBaik),
            (100, GiziBaik),
            (101, GiziLebih),
            (200, GiziLebih),
            (201, Obesitas),
            (301, Obesitas),
        ] {
            assert_eq!(
                NutritionCategory::school_age_from_centi(centi),
                want,
                "{centi}"
            );
            assert_eq!(
                NutritionCategory::imtu_from_centi(Standard::Who2007, centi),
                Some(want)
            );
        }
        assert_eq!(
            NutritionCategory::imtu_from_centi(Standard::OutOfRange, 0),
            None
        );
    }

    #[test]
    fn alarms_and_labels() {
        use NutritionCategory::*;
        let alarms: Vec<_> = [
            GiziBuruk,
            GiziKurang,
            GiziBaik,
            BerisikoGiziLebih,
            GiziLebih,
            Obesitas,
        ]
        .into_iter()
        .filter(NutritionCategory::is_alarm)
        .collect();
        assert_eq!(alarms, [GiziBuruk, GiziKurang, Obesitas]);
        assert_eq!(GiziKurang.label_id(), "Gizi kurang");
        assert_eq!(GiziKurang.label_en(), "Wasted");
        assert_eq!(GiziKurang.label_en_for(Standard::Who2007), "Thinness");
        assert_eq!(BbuCategory::Kurang.label_id(), "Berat badan kurang");
        assert_eq!(BbuCategory::Kurang.label_en(), "Underweight");
        assert_eq!(TbuCategory::SangatPendek.label_en(), "Severely stunted");
        assert_eq!(BerisikoGiziLebih.code(), "berisiko_gizi_lebih");
    }
}
