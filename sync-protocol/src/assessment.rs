//! The growth assessment of a whole child record: WHO z-scores and Permenkes
//! categories for each measurement, and the Buku KIA weight-gain status
//! (N/T/O/B, 2T) across the series.
//!
//! Both the field client (shown to the kader at once) and the server (its
//! projection) derive these from the same [`Child`], so they always agree.

use chrono::NaiveDate;
use growth::{Assessment, Input, MuacCategory, Weighing, WeightGain};

use crate::ids::MeasurementId;
use crate::record::{Child, Measurement};

/// One measurement with what it means.
#[derive(Debug, Clone)]
pub struct MeasurementAssessment {
    pub id: MeasurementId,
    pub date: NaiveDate,
    pub growth: Assessment,
    /// Weight-gain status; `None` for voided measurements and those without weight.
    pub weight_gain: Option<WeightGain>,
    /// LiLA band (6–59 months, when arm circumference was measured).
    pub muac: Option<MuacCategory>,
}

/// The WHO input for one measurement of this child.
pub fn growth_input(child: &Child, m: &Measurement) -> Input {
    let age_days = growth::age_in_days(child.profile.birth_date, m.input.date);
    let mut input = Input::new(child.profile.sex.into(), age_days);
    input.weight_kg = m.input.weight.map(|w| w.kg());
    input.lenhei_cm = m.input.length.map(|l| l.cm());
    input.position = m.input.position.map(Into::into);
    input.oedema = m.input.oedema;
    input.muac_cm = m.input.muac.map(|a| a.cm());
    input.head_cm = m.input.head.map(|h| h.cm());
    input
}

/// Assesses every measurement of the child, in the record's order. Voided
/// measurements get z-scores (so they can be shown) but take no part in the
/// weight-gain series.
pub fn assess_child(child: &Child) -> Vec<MeasurementAssessment> {
    let weighed: Vec<(usize, Weighing)> = child
        .measurements
        .iter()
        .enumerate()
        .filter(|(_, m)| m.void.is_none())
        .filter_map(|(i, m)| {
            m.input.weight.map(|w| {
                (
                    i,
                    Weighing {
                        date: m.input.date,
                        weight_g: w.0,
                    },
                )
            })
        })
        .collect();
    let weighings: Vec<Weighing> = weighed.iter().map(|(_, w)| *w).collect();
    let gains = growth::weight_gain_series(child.profile.birth_date, &weighings);
    let mut gain_of = vec![None; child.measurements.len()];
    for ((i, _), g) in weighed.iter().zip(gains) {
        gain_of[*i] = Some(g);
    }
    child
        .measurements
        .iter()
        .zip(gain_of)
        .map(|(m, weight_gain)| MeasurementAssessment {
            id: m.id,
            date: m.input.date,
            growth: growth::assess(&growth_input(child, m)),
            weight_gain,
            muac: m.input.muac.and_then(|x| {
                growth::muac_category(
                    growth::age_in_days(child.profile.birth_date, m.input.date),
                    x.0,
                )
            }),
        })
        .collect()
}

/// Where a child stands after its latest valid measurements: what lists and
/// the "stunted" flag are built from, on the device and the server alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatestStatus {
    /// Date of the latest valid measurement.
    pub last_measured: Option<NaiveDate>,
    /// Latest valid length/height-for-age z-score (centi-SD) and its category.
    pub last_haz: Option<(i32, Option<growth::TbuCategory>)>,
    /// That z-score is plausible and below −2 SD.
    pub stunted: bool,
}

/// The [`LatestStatus`] of a child from its assessments (in record order).
pub fn latest_status(child: &Child, assessments: &[MeasurementAssessment]) -> LatestStatus {
    let last_with_haz = child
        .measurements
        .iter()
        .zip(assessments)
        .filter(|(m, _)| m.void.is_none())
        .filter_map(|(_, a)| a.growth.haz.map(|z| (z, a.growth.tbu)))
        .next_back();
    LatestStatus {
        last_measured: child.valid_measurements().map(|m| m.input.date).next_back(),
        last_haz: last_with_haz.map(|(z, c)| (z.centi, c)),
        stunted: last_with_haz.is_some_and(|(z, _)| !z.implausible && z.centi < -200),
    }
}
