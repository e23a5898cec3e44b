//! The verified view of a verval round: each child's reconciled birth date
//! and sex ([`super::evidence`]), its z-scores recomputed from the values as
//! measured, its [`flags`](super::flags), the **worklist** of children whose
//! classification a check could still change (most consequential first), and
//! the round's figures both ways — as recorded and reconciled — with how many
//! children are still unverified.
//!
//! Pure, like the rest of `verval`: the caller passes the register
//! ([`RegisterChild`], with every registration folded into each child, its
//! recorded checks and its open review partners).

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use growth::TbuCategory;
use growth::lms::round_centi;
use serde::{Deserialize, Serialize};
use sync_protocol::{Check, Sex};

use super::evidence::{
    BirthDateChoice, DateShape, Registration, SexChoice, choose_birth_date, choose_sex,
};
use super::flags::{Flag, FlagKind, Point, flags, resolve};
use super::{AreaRow, NikDisplay, Round, RoundChild, VervalError, compute};
use crate::storage::{RawMeasurement, RegisterChild};

/// A child as the verified figures see it.
#[derive(Debug, Clone)]
pub struct Reconciled {
    pub birth: BirthDateChoice,
    pub sex: SexChoice,
    /// The registrations the choices were made from (the survivor alone,
    /// as recorded, when the storage listed none).
    pub registrations: Vec<Registration>,
    /// The child with the chosen birth date and sex, z-scores recomputed, and
    /// measurements replaced by a verification re-measurement marked voided.
    pub child: RoundChild,
}

/// The WHO assessment of raw values for a birth date and sex.
#[must_use]
pub fn assess_raw(
    sex: Sex,
    birth: NaiveDate,
    date: NaiveDate,
    raw: &RawMeasurement,
) -> growth::Assessment {
    let mut input = growth::Input::new(sex.into(), growth::age_in_days(birth, date));
    input.weight_kg = raw.weight_g.map(|g| g as f64 / 1000.0);
    input.lenhei_cm = raw.length_mm.map(|mm| mm as f64 / 10.0);
    input.position = raw.standing.map(|s| {
        if s {
            growth::Position::Standing
        } else {
            growth::Position::Lying
        }
    });
    input.muac_cm = raw.muac_mm.map(|mm| mm as f64 / 10.0);
    input.head_cm = raw.head_mm.map(|mm| mm as f64 / 10.0);
    input.oedema = raw.oedema;
    growth::assess(&input)
}

fn centi(z: Option<growth::ZScore>) -> Option<f64> {
    z.map(|z| f64::from(z.centi) / 100.0)
}

/// The registrations of a child: those the storage found, or the survivor
/// alone (as recorded) when it has none listed.
fn registrations_of(rc: &RegisterChild) -> Vec<Registration> {
    if !rc.registrations.is_empty() {
        return rc.registrations.clone();
    }
    let c = &rc.child;
    vec![Registration {
        child_id: c.id.clone(),
        sex: c.sex.parse().unwrap_or(Sex::L),
        birth_date: c.birth_date,
        nik: c.nik.clone(),
        no_kk: rc.no_kk.clone(),
        mother_nik: None,
        measurements: c.measurements.len(),
        first_measured: c.measurements.iter().map(|m| m.date).min(),
    }]
}

/// The reconciled view of one child. `today` is the reference for NIK dates
/// of a child never measured.
#[must_use]
pub fn reconcile(rc: &RegisterChild, today: NaiveDate) -> Option<Reconciled> {
    let regs = registrations_of(rc);
    let sex = choose_sex(&regs, &rc.verifications, today)?;
    let birth = choose_birth_date(&regs, sex.sex, &rc.verifications, today)?;
    let mut child = rc.child.clone();
    child.sex = sex.sex.code().to_owned();
    child.birth_date = birth.date;
    for (m, raw) in child.measurements.iter_mut().zip(&rc.raw) {
        let a = assess_raw(sex.sex, birth.date, m.date, raw);
        m.haz = centi(a.haz);
        m.waz = centi(a.waz);
        m.whz = centi(a.whz);
        m.implausible = a.implausible();
    }
    // A re-measurement taken for a check replaces the others of its round.
    let remeasured: HashSet<String> = rc
        .verifications
        .iter()
        .filter_map(|v| match &v.check {
            Check::Remeasured { measurement } => Some(measurement.to_string()),
            _ => None,
        })
        .collect();
    let round_of = |m: &super::RoundMeasurement| {
        m.round
            .as_deref()
            .and_then(|r| Round::parse(r).ok())
            .unwrap_or_else(|| Round::of_date(m.date))
    };
    let replaced: HashSet<Round> = child
        .measurements
        .iter()
        .filter(|m| remeasured.contains(&m.id) && !m.voided)
        .map(round_of)
        .collect();
    for m in &mut child.measurements {
        if !remeasured.contains(&m.id) && replaced.contains(&round_of(m)) {
            m.voided = true;
        }
    }
    Some(Reconciled {
        birth,
        sex,
        registrations: regs,
        child,
    })
}

/// What flags need of one (reconciled) measurement and its raw values.
fn point(m: &super::RoundMeasurement, raw: Option<&RawMeasurement>, birth: NaiveDate) -> Point {
    let raw = raw.copied().unwrap_or_default();
    Point {
        date: m.date,
        haz: m.haz,
        waz: m.waz,
        length_lying_mm: raw
            .length_mm
            .map(|l| l + if raw.standing == Some(true) { 7 } else { 0 }),
        standing: raw.standing.filter(|_| raw.length_mm.is_some()),
        age_days: growth::age_in_days(birth, m.date),
        implausible: m.implausible,
    }
}

/// What resolving a child's flags could change, most consequential first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consequence {
    /// Stunted ↔ not stunted (or not classifiable yet, or counted twice).
    Stunting,
    /// Pendek ↔ sangat pendek.
    Severity,
    /// Underweight ↔ not.
    Underweight,
}

impl Consequence {
    /// What it means, in Bahasa Indonesia.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Stunting => "status stunting bisa berubah",
            Self::Severity => "pendek ↔ sangat pendek bisa berubah",
            Self::Underweight => "status BB kurang bisa berubah",
        }
    }
}

/// One child to check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorklistEntry {
    pub id: String,
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    /// Why this birth date (Bahasa Indonesia).
    pub birth_date_reason: String,
    pub birth_date_as_recorded: NaiveDate,
    /// Masked unless revealed.
    pub nik: Option<String>,
    pub mother_name: String,
    /// The free-text address: withheld (`None`) unless revealed.
    pub address: Option<String>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    /// Where the round measurement was taken.
    pub posyandu: String,
    pub posyandu_name: Option<String>,
    pub measurement_id: String,
    pub date: NaiveDate,
    /// Reconciled HAZ (none when flagged implausible or without length).
    pub haz: Option<f64>,
    pub haz_as_recorded: Option<f64>,
    /// `pendek`, `sangat_pendek`, `normal`, `tinggi`, or `tidak_wajar`.
    pub category: String,
    pub consequence: Consequence,
    pub consequence_label: String,
    /// The lowest and highest HAZ the open questions allow.
    pub haz_range: Option<(f64, f64)>,
    /// Every flag (resolved ones with the check that answered them).
    pub flags: Vec<Flag>,
}

/// The round's figures both ways, and what verification has left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationSummary {
    /// With the birth dates and sexes as recorded on the surviving registrations.
    pub as_recorded: AreaRow,
    /// With the reconciled birth dates and sexes and the checks recorded.
    pub reconciled: AreaRow,
    /// Children whose reconciled birth date differs from the recorded one.
    pub birth_dates_changed: usize,
    pub sexes_changed: usize,
    /// Children measured in the round with at least one flag.
    pub flagged: usize,
    /// Flagged children whose every flag a check answered.
    pub verified: usize,
    /// Children on the worklist (a check could change their classification).
    pub unverified: usize,
    /// Of those, stunted now and possibly not (the figure may fall by this many).
    pub may_leave: usize,
    /// Not stunted now (or unclassifiable) and possibly stunted (may rise by this many).
    pub may_join: usize,
    /// Children per flag kind (code → count), resolved or not.
    pub flag_counts: BTreeMap<String, usize>,
}

/// The worklist report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worklist {
    pub round: String,
    pub area: Option<String>,
    /// Whether the entries show NIKs and addresses in full
    /// ([`NikDisplay::Revealed`]); otherwise NIKs are masked and addresses
    /// withheld.
    #[serde(default)]
    pub revealed: bool,
    pub summary: VerificationSummary,
    pub entries: Vec<WorklistEntry>,
}

fn is_stunted(haz: f64) -> bool {
    TbuCategory::from_centi(round_centi(haz)).is_alarm()
}

fn is_severe(haz: f64) -> bool {
    TbuCategory::from_centi(round_centi(haz)) == TbuCategory::SangatPendek
}

fn is_underweight(waz: f64) -> bool {
    growth::BbuCategory::from_centi(round_centi(waz)).is_alarm()
}

/// The last day of a round (reference for NIK dates of unmeasured children).
fn round_end(round: Round) -> NaiveDate {
    let (y, m) = round.year_month();
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    next.and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MIN)
}

/// Computes the worklist and figures of `round` over `register`, restricted to
/// round measurements taken in `area` (a code prefix), with NIKs and addresses shown as
/// `nik` says.
pub fn worklist(
    register: &[RegisterChild],
    round: &str,
    area: Option<&str>,
    nik: NikDisplay,
    names: &dyn Fn(&str) -> Option<String>,
) -> Result<Worklist, VervalError> {
    let current = Round::parse(round)?;
    let end = round_end(current);
    let filter = area.unwrap_or("");
    let recorded: Vec<RoundChild> = register.iter().map(|r| r.child.clone()).collect();
    let as_recorded = compute(&recorded, round, None, area, NikDisplay::Masked, names)?.total;

    // Children measured in the round, for the duplicate question.
    let mut measured_now: HashSet<&str> = HashSet::new();
    for c in &recorded {
        if super::round_measurement(c, current)?.is_some() {
            measured_now.insert(&c.id);
        }
    }

    let mut reconciled_children = Vec::with_capacity(register.len());
    let mut entries = Vec::new();
    let (mut dates_changed, mut sexes_changed, mut flagged, mut verified) = (0, 0, 0, 0);
    let mut flag_counts: BTreeMap<String, usize> = BTreeMap::new();
    let (mut may_leave, mut may_join) = (0usize, 0usize);

    for rc in register {
        let Some(r) = reconcile(rc, end) else {
            reconciled_children.push(rc.child.clone());
            continue;
        };
        let Some(m) = super::round_measurement(&r.child, current)? else {
            reconciled_children.push(r.child);
            continue;
        };
        if !m.posyandu.starts_with(filter) {
            reconciled_children.push(r.child);
            continue;
        }
        dates_changed += usize::from(r.birth.date != r.birth.as_recorded);
        sexes_changed += usize::from(r.sex.sex != r.sex.as_recorded);

        // The usable measurements in date order, with the round one's index.
        let usable: Vec<(usize, &super::RoundMeasurement)> = r
            .child
            .measurements
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.voided)
            .collect();
        let points: Vec<Point> = usable
            .iter()
            .map(|(i, m)| point(m, rc.raw.get(*i), r.birth.date))
            .collect();
        let Some(at) = usable.iter().position(|(_, u)| u.id == m.id) else {
            reconciled_children.push(r.child.clone());
            continue;
        };
        let raw = rc.raw.get(usable[at].0).copied().unwrap_or_default();
        let mut found = flags(
            &r.registrations,
            rc.review_partners.len(),
            &r.birth,
            &r.sex,
            &points,
            at,
            end,
        );
        resolve(&mut found, &rc.verifications, &current.to_string());
        if !found.is_empty() {
            flagged += 1;
            for f in &found {
                *flag_counts.entry(f.kind.code().to_owned()).or_default() += 1;
            }
            if found.iter().all(|f| f.resolved.is_some()) {
                verified += 1;
            }
        }
        let open: Vec<FlagKind> = found
            .iter()
            .filter(|f| f.resolved.is_none())
            .map(|f| f.kind)
            .collect();

        // What the open questions allow: HAZ and WAZ under each alternative.
        let usable_haz = m.haz.filter(|_| !m.implausible);
        let mut hazes: Vec<f64> = usable_haz.into_iter().collect();
        let mut wazes: Vec<f64> = m.waz.filter(|_| !m.implausible).into_iter().collect();
        let mut unknown = false;
        let mut twice = false;
        let alt = |sex: Sex, birth: NaiveDate, raw: &RawMeasurement| {
            let a = assess_raw(sex, birth, m.date, raw);
            if a.implausible() {
                (None, None)
            } else {
                (centi(a.haz), centi(a.waz))
            }
        };
        let mut with = |(h, w): (Option<f64>, Option<f64>)| {
            hazes.extend(h);
            wazes.extend(w);
        };
        for kind in &open {
            match kind {
                FlagKind::PlaceholderBirthDate
                | FlagKind::BirthDateVsNik
                | FlagKind::BirthDateVsRegistrations => {
                    let (lo, hi) = DateShape::of(r.birth.date).range(r.birth.date);
                    let dates = r
                        .birth
                        .typed
                        .keys()
                        .chain(r.birth.nik.keys())
                        .copied()
                        .chain(
                            super::evidence::nik_readings(&r.registrations, end)
                                .into_iter()
                                .map(|(d, _)| d),
                        )
                        .chain([lo, hi.min(m.date)]);
                    for d in dates.collect::<Vec<_>>() {
                        with(alt(r.sex.sex, d, &raw));
                    }
                }
                FlagKind::SexDisagrees => {
                    let other = match r.sex.sex {
                        Sex::L => Sex::P,
                        Sex::P => Sex::L,
                    };
                    with(alt(other, r.birth.date, &raw));
                }
                FlagKind::PositionVsAge => {
                    let flipped = RawMeasurement {
                        standing: raw.standing.map(|s| !s),
                        ..raw
                    };
                    with(alt(r.sex.sex, r.birth.date, &flipped));
                }
                FlagKind::HazJump | FlagKind::WazJump | FlagKind::Shrinking => {
                    for j in [at.checked_sub(1), Some(at + 1)].into_iter().flatten() {
                        if let Some(q) = points.get(j).filter(|q| !q.implausible) {
                            if *kind == FlagKind::WazJump {
                                with((None, q.waz));
                            } else {
                                with((q.haz, None));
                            }
                        }
                    }
                }
                FlagKind::Implausible => unknown = true,
                FlagKind::PossibleDuplicate => {
                    twice = usable_haz.is_some_and(is_stunted)
                        && rc
                            .review_partners
                            .iter()
                            .any(|p| measured_now.contains(p.as_str()));
                }
            }
        }
        let crosses = |v: &[f64], test: fn(f64) -> bool| {
            v.iter().any(|&z| test(z)) && v.iter().any(|&z| !test(z))
        };
        let consequence = if unknown || twice || crosses(&hazes, is_stunted) {
            Some(Consequence::Stunting)
        } else if crosses(&hazes, is_severe) {
            Some(Consequence::Severity)
        } else if crosses(&wazes, is_underweight) {
            Some(Consequence::Underweight)
        } else {
            None
        };
        if let Some(consequence) = consequence {
            let stunted_now = usable_haz.is_some_and(is_stunted);
            if consequence == Consequence::Stunting {
                if stunted_now {
                    may_leave += 1;
                } else {
                    may_join += 1;
                }
            }
            let recorded_m = super::round_measurement(&rc.child, current)?;
            let c = &r.child;
            let haz_range = hazes
                .iter()
                .copied()
                .fold(None, |acc: Option<(f64, f64)>, z| {
                    Some(acc.map_or((z, z), |(lo, hi)| (lo.min(z), hi.max(z))))
                });
            entries.push(WorklistEntry {
                id: c.id.clone(),
                name: c.name.clone(),
                sex: c.sex.clone(),
                birth_date: r.birth.date,
                birth_date_reason: r.birth.basis.reason(),
                birth_date_as_recorded: r.birth.as_recorded,
                nik: nik.nik(c.nik.as_deref()),
                mother_name: c.mother_name.clone(),
                address: nik.address(c.address.as_deref()),
                rt: c.rt.clone(),
                rw: c.rw.clone(),
                posyandu: m.posyandu.clone(),
                posyandu_name: names(&m.posyandu),
                measurement_id: m.id.clone(),
                date: m.date,
                haz: usable_haz,
                haz_as_recorded: recorded_m.filter(|x| !x.implausible).and_then(|x| x.haz),
                category: if m.implausible {
                    "tidak_wajar".into()
                } else {
                    usable_haz
                        .map(|z| TbuCategory::from_centi(round_centi(z)).code().to_owned())
                        .unwrap_or_else(|| "tanpa_tb".into())
                },
                consequence,
                consequence_label: consequence.label().into(),
                haz_range,
                flags: found,
            });
        }
        reconciled_children.push(r.child);
    }

    // Most consequential first: stunting, then severity, then underweight;
    // within each, children stunted now before the others (a wrong entry on
    // the by-name list costs a family a visit it did not need), then the HAZ
    // nearest −2 first (the likeliest to change), unusable HAZ last; then by
    // posyandu and name, so a bidan's list reads in a stable order.
    entries.sort_by(|a, b| {
        let key = |e: &WorklistEntry| {
            (
                e.consequence,
                !e.haz.is_some_and(is_stunted),
                e.haz.map_or(i64::MAX, |z| ((z + 2.0).abs() * 100.0) as i64),
            )
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| (&a.posyandu, &a.name, &a.id).cmp(&(&b.posyandu, &b.name, &b.id)))
    });
    let reconciled = compute(
        &reconciled_children,
        round,
        None,
        area,
        NikDisplay::Masked,
        names,
    )?
    .total;
    Ok(Worklist {
        round: current.to_string(),
        area: area.map(str::to_owned),
        revealed: nik == NikDisplay::Revealed,
        summary: VerificationSummary {
            as_recorded,
            reconciled,
            birth_dates_changed: dates_changed,
            sexes_changed,
            flagged,
            verified,
            unverified: entries.len(),
            may_leave,
            may_join,
            flag_counts,
        },
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verval::RoundMeasurement;
    use sync_protocol::{DocumentSource, MeasurementId, Verification, VerificationId};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    const POSYANDU: &str = "353001200205";
    const ROUND: &str = "2024-08";

    /// One measurement: date, weight (g), length (mm), standing.
    type Raw = (NaiveDate, i64, i64, bool);

    /// A register child with one registration per `(birth date, sex, nik)`
    /// (the first is the survivor's), measured as `raws` (z-scores from the
    /// survivor's profile, as the projection computes them).
    fn child(id: &str, regs: &[(NaiveDate, Sex, Option<&str>)], raws: &[Raw]) -> RegisterChild {
        let (birth, sex, nik) = regs[0];
        let raw: Vec<RawMeasurement> = raws
            .iter()
            .map(|&(_, w, l, standing)| RawMeasurement {
                weight_g: Some(w),
                length_mm: Some(l),
                standing: Some(standing),
                ..RawMeasurement::default()
            })
            .collect();
        let measurements = raws
            .iter()
            .zip(&raw)
            .enumerate()
            .map(|(i, (&(date, ..), r))| {
                let a = assess_raw(sex, birth, date, r);
                RoundMeasurement {
                    id: format!("{id}-m{i}"),
                    date,
                    round: None,
                    posyandu: POSYANDU.into(),
                    haz: centi(a.haz),
                    waz: centi(a.waz),
                    whz: centi(a.whz),
                    implausible: a.implausible(),
                    has_length: true,
                    voided: false,
                }
            })
            .collect();
        RegisterChild {
            child: RoundChild {
                id: id.into(),
                name: format!("Anak {id}"),
                sex: sex.code().into(),
                birth_date: birth,
                nik: nik.map(str::to_owned),
                mother_name: "Ibu".into(),
                address: None,
                rt: None,
                rw: None,
                posyandu: POSYANDU.into(),
                registrations: regs.len(),
                measurements,
            },
            raw,
            no_kk: None,
            birth_weight_g: None,
            birth_length_mm: None,
            registrations: regs
                .iter()
                .enumerate()
                .map(|(i, &(birth_date, sex, nik))| Registration {
                    child_id: format!("{id}-r{i}"),
                    sex,
                    birth_date,
                    nik: nik.map(str::to_owned),
                    no_kk: None,
                    mother_nik: None,
                    measurements: 1,
                    first_measured: raws.first().map(|r| r.0),
                })
                .collect(),
            verifications: Vec::new(),
            review_partners: Vec::new(),
            consent_by: None,
            consent_on: None,
        }
    }

    fn haz(sex: Sex, birth: NaiveDate, raw: Raw) -> f64 {
        let r = RawMeasurement {
            weight_g: Some(raw.1),
            length_mm: Some(raw.2),
            standing: Some(raw.3),
            ..RawMeasurement::default()
        };
        centi(assess_raw(sex, birth, raw.0, &r).haz).expect("a HAZ")
    }

    fn run(register: &[RegisterChild]) -> Worklist {
        worklist(register, ROUND, None, NikDisplay::Masked, &|_| None).expect("worklist")
    }

    fn kinds(w: &Worklist, id: &str) -> Vec<FlagKind> {
        w.entries
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.flags.iter().map(|f| f.kind).collect())
            .unwrap_or_default()
    }

    // A girl born 2022-08-20, 81.0 cm lying at 24 months: not stunted; typed
    // as born on 1 January 2022 (31 months) she looks stunted.
    const TRUE_BIRTH: (i32, u32, u32) = (2022, 8, 20);
    const AUGUST: Raw = (
        match NaiveDate::from_ymd_opt(2024, 8, 12) {
            Some(x) => x,
            None => NaiveDate::MIN,
        },
        10_200,
        810,
        false,
    );
    // Her NIK: day 20 + 40 = 60, August 2022.
    const NIK: &str = "3530016008220004";

    fn true_birth() -> NaiveDate {
        d(TRUE_BIRTH.0, TRUE_BIRTH.1, TRUE_BIRTH.2)
    }

    #[test]
    fn the_premise_of_these_tests_holds() {
        assert!(haz(Sex::P, true_birth(), AUGUST) > -2.0);
        assert!(haz(Sex::P, d(2022, 1, 1), AUGUST) < -2.0);
        assert!(haz(Sex::P, d(2022, 2, 8), AUGUST) < -2.0);
    }

    #[test]
    fn a_placeholder_birth_date_is_flagged_and_its_child_is_on_the_worklist() {
        let c = child("a", &[(d(2022, 1, 1), Sex::P, None)], &[AUGUST]);
        let w = run(&[c]);
        // At 31 months by that date she should also have been measured standing.
        assert_eq!(
            kinds(&w, "a"),
            vec![FlagKind::PlaceholderBirthDate, FlagKind::PositionVsAge]
        );
        let e = &w.entries[0];
        assert_eq!(e.consequence, Consequence::Stunting);
        assert!(
            e.flags[0].reason.contains("1 Januari"),
            "{}",
            e.flags[0].reason
        );
        // Counted stunted both ways (nothing tells another date), and it may leave.
        assert_eq!(
            (w.summary.as_recorded.stunted, w.summary.reconciled.stunted),
            (1, 1)
        );
        assert_eq!((w.summary.may_leave, w.summary.unverified), (1, 1));
    }

    #[test]
    fn the_worklist_masks_the_nik_and_withholds_the_address_unless_revealed() {
        let mut c = child("b", &[(d(2022, 2, 8), Sex::P, Some(NIK))], &[AUGUST]);
        c.child.address = Some("Dusun Krajan".into());
        c.child.rt = Some("001".into());
        let masked = run(std::slice::from_ref(&c));
        assert!(!masked.revealed);
        let e = &masked.entries[0];
        assert_eq!(e.nik.as_deref(), Some("3530********0004"));
        assert_eq!(e.address, None);
        assert_eq!(e.rt.as_deref(), Some("001"), "RT/RW are area: kept");
        let revealed =
            worklist(&[c], ROUND, None, NikDisplay::Revealed, &|_| None).expect("worklist");
        assert!(revealed.revealed);
        let e = &revealed.entries[0];
        assert_eq!(e.nik.as_deref(), Some(NIK));
        assert_eq!(e.address.as_deref(), Some("Dusun Krajan"));
    }

    #[test]
    fn the_nik_date_reconciles_the_figure_and_the_disagreement_stays_visible() {
        // Typed with day and month swapped (8 February), NIK says 20 August.
        let c = child("b", &[(d(2022, 2, 8), Sex::P, Some(NIK))], &[AUGUST]);
        let w = run(&[c]);
        assert_eq!(w.summary.as_recorded.stunted, 1);
        assert_eq!(w.summary.reconciled.stunted, 0);
        assert_eq!(w.summary.birth_dates_changed, 1);
        let e = &w.entries[0];
        assert_eq!(kinds(&w, "b"), vec![FlagKind::BirthDateVsNik]);
        assert_eq!(e.birth_date, true_birth());
        assert_eq!(e.birth_date_as_recorded, d(2022, 2, 8));
        assert!(e.birth_date_reason.contains("NIK"));
        assert!(e.haz.is_some_and(|z| z > -2.0));
        assert!(e.haz_as_recorded.is_some_and(|z| z < -2.0));
        assert_eq!(
            w.summary.may_join, 1,
            "not stunted now, stunted by the typed date"
        );
    }

    #[test]
    fn registrations_that_disagree_are_flagged_with_every_date() {
        let c = child(
            "c",
            &[
                (d(2022, 2, 8), Sex::P, None),
                (true_birth(), Sex::P, None),
                (true_birth(), Sex::P, None),
            ],
            &[AUGUST],
        );
        let w = run(&[c]);
        assert_eq!(
            w.summary.reconciled.stunted, 0,
            "two of three agree on 20 August"
        );
        assert_eq!(kinds(&w, "c"), vec![FlagKind::BirthDateVsRegistrations]);
        let reason = &w.entries[0].flags[0].reason;
        assert!(
            reason.contains("2022-02-08 (1×)") && reason.contains("2022-08-20 (2×)"),
            "{reason}"
        );
    }

    #[test]
    fn a_document_check_settles_the_birth_date_and_takes_the_child_off_the_worklist() {
        let mut c = child("d", &[(d(2022, 1, 1), Sex::P, None)], &[AUGUST]);
        c.verifications.push(Verification {
            id: VerificationId::new(),
            check: Check::BirthDate {
                date: true_birth(),
                source: DocumentSource::Kia,
            },
            round: Some(ROUND.into()),
            by: "Bidan Sri".into(),
            recorded_at_ms: 1,
        });
        let w = run(&[c]);
        assert!(w.entries.is_empty());
        assert_eq!(w.summary.reconciled.stunted, 0);
        assert_eq!(w.summary.as_recorded.stunted, 1);
        assert_eq!((w.summary.flagged, w.summary.unverified), (0, 0));
    }

    #[test]
    fn sex_that_disagrees_between_registrations_is_flagged() {
        let c = child(
            "e",
            &[(d(2022, 1, 1), Sex::P, None), (d(2022, 1, 1), Sex::L, None)],
            &[AUGUST],
        );
        let w = run(&[c]);
        let k = kinds(&w, "e");
        assert!(k.contains(&FlagKind::SexDisagrees), "{k:?}");
        // And the sex part of a NIK dated as typed, against the typed sex.
        let boy = child("f", &[(true_birth(), Sex::L, Some(NIK))], &[AUGUST]);
        let flags = flags_of(&boy);
        assert!(flags.contains(&FlagKind::SexDisagrees), "{flags:?}");
    }

    /// Every flag of a child in the round, on the worklist or not.
    fn flags_of(rc: &RegisterChild) -> Vec<FlagKind> {
        let r = reconcile(rc, d(2024, 8, 31)).expect("reconciled");
        let round = Round::parse(ROUND).expect("round");
        let m = crate::verval::round_measurement(&r.child, round)
            .expect("ok")
            .expect("measured");
        let usable: Vec<&RoundMeasurement> =
            r.child.measurements.iter().filter(|m| !m.voided).collect();
        let points: Vec<Point> = usable
            .iter()
            .map(|m| {
                let i = r.child.measurements.iter().position(|x| x.id == m.id);
                point(m, i.and_then(|i| rc.raw.get(i)), r.birth.date)
            })
            .collect();
        let at = usable.iter().position(|u| u.id == m.id).expect("index");
        flags(
            &r.registrations,
            rc.review_partners.len(),
            &r.birth,
            &r.sex,
            &points,
            at,
            d(2024, 8, 31),
        )
        .into_iter()
        .map(|f| f.kind)
        .collect()
    }

    #[test]
    fn growth_that_jumps_or_shrinks_is_flagged() {
        let july = (d(2024, 7, 10), 10_100, 830, false);
        // 83.0 cm in July, 81.0 cm in August: shrank 2 cm.
        let c = child("g", &[(true_birth(), Sex::P, None)], &[july, AUGUST]);
        assert_eq!(flags_of(&c), vec![FlagKind::Shrinking]);
        // 88.0 cm in July: HAZ falls by more than 1.5 as well.
        let tall = (d(2024, 7, 10), 10_100, 880, false);
        let c = child("h", &[(true_birth(), Sex::P, None)], &[tall, AUGUST]);
        assert!(
            haz(Sex::P, true_birth(), tall) - haz(Sex::P, true_birth(), AUGUST) > MAX_JUMP_CHECK
        );
        assert_eq!(flags_of(&c), vec![FlagKind::HazJump, FlagKind::Shrinking]);
        // Weight 8.0 kg in July, 10.2 in August: WAZ jumps.
        let light = (d(2024, 7, 10), 7_000, 805, false);
        let c = child("i", &[(true_birth(), Sex::P, None)], &[light, AUGUST]);
        assert!(flags_of(&c).contains(&FlagKind::WazJump));
        // Ordinary growth: nothing.
        let fine = (d(2024, 7, 10), 10_000, 805, false);
        let c = child("j", &[(true_birth(), Sex::P, None)], &[fine, AUGUST]);
        assert!(flags_of(&c).is_empty());
    }

    const MAX_JUMP_CHECK: f64 = crate::verval::flags::MAX_Z_JUMP;

    #[test]
    fn implausible_values_and_the_wrong_position_for_the_age_are_flagged() {
        // 60.0 cm at two years: WHO-implausible, out of the figures, on the worklist.
        let tiny = (d(2024, 8, 12), 10_200, 600, false);
        let c = child("k", &[(true_birth(), Sex::P, None)], &[tiny]);
        assert!(flags_of(&c).contains(&FlagKind::Implausible));
        let w = run(&[c]);
        assert_eq!(w.entries[0].category, "tidak_wajar");
        assert_eq!(w.entries[0].consequence, Consequence::Stunting);
        assert_eq!(w.summary.reconciled.flagged, 1);
        // Standing at 18 months; lying at 24 months (the age rule).
        let standing = (d(2024, 2, 20), 9_000, 770, true);
        let c = child("l", &[(true_birth(), Sex::P, None)], &[standing]);
        let round_feb = worklist(
            std::slice::from_ref(&c),
            "2024-02",
            None,
            NikDisplay::Masked,
            &|_| None,
        )
        .expect("worklist");
        assert_eq!(
            round_feb.summary.flag_counts.get("position_vs_age"),
            Some(&1)
        );
        let lying_at_26 = child("m", &[(d(2022, 6, 10), Sex::P, None)], &[AUGUST]);
        assert_eq!(flags_of(&lying_at_26), vec![FlagKind::PositionVsAge]);
        let lying_at_23 = child("m", &[(true_birth(), Sex::P, None)], &[AUGUST]);
        assert!(flags_of(&lying_at_23).is_empty());
    }

    #[test]
    fn a_pair_waiting_in_review_is_flagged_and_counts_when_both_are_measured() {
        let mut a = child("n", &[(d(2022, 1, 1), Sex::P, None)], &[AUGUST]);
        let b = child("o", &[(d(2022, 1, 1), Sex::P, None)], &[AUGUST]);
        a.review_partners.push("o".into());
        let w = run(&[a, b]);
        assert!(kinds(&w, "n").contains(&FlagKind::PossibleDuplicate));
        let reason = &w.entries.iter().find(|e| e.id == "n").expect("n").flags;
        assert!(reason.iter().any(|f| f.reason.contains("duplikat")));
    }

    #[test]
    fn a_remeasurement_replaces_the_flagged_measurement_of_its_round() {
        let tiny = (d(2024, 8, 12), 10_200, 600, false);
        let again = (d(2024, 8, 20), 10_200, 815, false);
        let mut c = child("p", &[(true_birth(), Sex::P, None)], &[tiny, again]);
        // Before the check the later plausible one already counts; mark the
        // first as the newer to see the check decide.
        c.child.measurements[0].date = d(2024, 8, 25);
        let m_id: MeasurementId = MeasurementId::new();
        c.child.measurements[0].id = "x".into();
        c.child.measurements[1].id = m_id.to_string();
        c.verifications.push(Verification {
            id: VerificationId::new(),
            check: Check::Remeasured { measurement: m_id },
            round: Some(ROUND.into()),
            by: "Kader Ani".into(),
            recorded_at_ms: 1,
        });
        let r = reconcile(&c, d(2024, 8, 31)).expect("reconciled");
        assert!(
            r.child.measurements[0].voided,
            "replaced by the re-measurement"
        );
        assert!(!r.child.measurements[1].voided);
        let w = run(&[c]);
        assert_eq!(w.summary.reconciled.measured, 1);
        assert_eq!(w.summary.reconciled.flagged, 0);
    }

    #[test]
    fn the_worklist_puts_stunting_changes_first_and_leaves_out_what_cannot_change() {
        // A placeholder date far from the boundary: 1 January of the right
        // year, yet clearly not stunted either way (tall).
        let tall = (d(2024, 8, 12), 12_000, 900, false);
        let quiet = child("q", &[(d(2022, 1, 1), Sex::P, None)], &[tall]);
        let loud = child("r", &[(d(2022, 1, 1), Sex::P, None)], &[AUGUST]);
        let w = run(&[quiet, loud]);
        assert_eq!(w.summary.flagged, 2);
        assert_eq!(
            w.entries.len(),
            1,
            "only the child whose status could change"
        );
        assert_eq!(w.entries[0].id, "r");
    }

    /// An August measurement: weight (g), length (mm), lying.
    fn august(weight_g: i64, length_mm: i64) -> Raw {
        (d(2024, 8, 12), weight_g, length_mm, false)
    }

    fn waz(sex: Sex, birth: NaiveDate, raw: Raw) -> f64 {
        let r = RawMeasurement {
            weight_g: Some(raw.1),
            length_mm: Some(raw.2),
            standing: Some(raw.3),
            ..RawMeasurement::default()
        };
        centi(assess_raw(sex, birth, raw.0, &r).waz).expect("a WAZ")
    }

    #[test]
    fn a_pending_review_pair_alone_puts_a_stunted_child_on_the_worklist() {
        // Stunted by an exact birth date on her only registration, measured
        // once, lying under 24 months: nothing about her record to question.
        let short = august(9_500, 785);
        assert!(haz(Sex::P, true_birth(), short) < -2.0);
        let mut s = child("s", &[(true_birth(), Sex::P, None)], &[short]);
        assert_eq!(flags_of(&s), vec![]);
        let alone = run(std::slice::from_ref(&s));
        assert!(alone.entries.is_empty(), "{:?}", alone.entries);
        assert_eq!(alone.summary.reconciled.stunted, 1);
        // Paired in review with a child measured in the same round (not
        // stunted, exact date, nothing to question either): she may be
        // counted twice, so she is on the worklist for that alone.
        s.review_partners.push("t".into());
        let mut t = child("t", &[(d(2022, 9, 3), Sex::P, None)], &[AUGUST]);
        t.review_partners.push("s".into());
        assert_eq!(flags_of(&s), vec![FlagKind::PossibleDuplicate]);
        let w = run(&[s.clone(), t]);
        assert_eq!(w.entries.len(), 1, "{:?}", w.entries);
        let e = &w.entries[0];
        assert_eq!(e.id, "s");
        assert_eq!(kinds(&w, "s"), vec![FlagKind::PossibleDuplicate]);
        assert_eq!(e.consequence, Consequence::Stunting);
        assert_eq!((w.summary.flagged, w.summary.may_leave), (2, 1));
        // The partner not measured in this round cannot be counted twice:
        // still flagged, but off the worklist.
        let mut t_july = child(
            "t",
            &[(d(2022, 9, 3), Sex::P, None)],
            &[(d(2024, 7, 10), 10_100, 805, false)],
        );
        t_july.review_partners.push("s".into());
        let w = run(&[s, t_july]);
        assert!(w.entries.is_empty(), "{:?}", w.entries);
        assert_eq!(w.summary.flag_counts.get("possible_duplicate"), Some(&1));
    }

    #[test]
    fn the_worklist_orders_stunting_then_severity_then_underweight() {
        // Each child has two registrations typing different exact dates (no
        // document): the survivor's date counts, the other is the question.
        let pair = |id: &str, survivor: NaiveDate, other: NaiveDate, raw: Raw| {
            child(
                id,
                &[(survivor, Sex::P, None), (other, Sex::P, None)],
                &[raw],
            )
        };
        let (near_raw, far_raw) = (august(9_500, 785), august(9_500, 770));
        let (severe_raw, thin_raw) = (august(9_500, 760), august(8_600, 830));
        // (a) stunted now, 0.15 from −2, or not by the other date.
        let near = pair("e", d(2022, 9, 20), d(2022, 11, 20), near_raw);
        assert_eq!(haz(Sex::P, d(2022, 9, 20), near_raw), -2.15);
        assert!(haz(Sex::P, d(2022, 11, 20), near_raw) > -2.0);
        // (a) stunted now, further from −2, or not.
        let far = pair("d", true_birth(), d(2022, 12, 20), far_raw);
        assert_eq!(haz(Sex::P, true_birth(), far_raw), -2.86);
        assert!(haz(Sex::P, d(2022, 12, 20), far_raw) > -2.0);
        // (a) not stunted now, stunted by the other date.
        let joins = pair("c", true_birth(), d(2022, 2, 8), AUGUST);
        // (b) sangat pendek or pendek, stunted either way.
        let severe = pair("b", true_birth(), d(2022, 10, 20), severe_raw);
        assert!(haz(Sex::P, true_birth(), severe_raw) < -3.0);
        let other = haz(Sex::P, d(2022, 10, 20), severe_raw);
        assert!(other > -3.0 && other < -2.0, "{other}");
        // (c) not stunted either way, underweight or not.
        let thin = pair("a", d(2022, 9, 20), d(2022, 11, 20), thin_raw);
        assert!(haz(Sex::P, d(2022, 11, 20), thin_raw) > -2.0);
        assert!(haz(Sex::P, d(2022, 9, 20), thin_raw) > -2.0);
        assert!(waz(Sex::P, d(2022, 9, 20), thin_raw) < -2.0);
        assert!(waz(Sex::P, d(2022, 11, 20), thin_raw) > -2.0);

        // Given in the reverse order (names too), so neither the input order
        // nor the name tie-break can produce the expected one.
        let w = run(&[thin, severe, joins, far, near]);
        let order: Vec<(&str, Consequence)> = w
            .entries
            .iter()
            .map(|e| (e.id.as_str(), e.consequence))
            .collect();
        assert_eq!(
            order,
            vec![
                ("e", Consequence::Stunting),
                ("d", Consequence::Stunting),
                ("c", Consequence::Stunting),
                ("b", Consequence::Severity),
                ("a", Consequence::Underweight),
            ],
            "stunting first (stunted now before not, nearest −2 first), then severity, then underweight"
        );
        assert_eq!((w.summary.may_leave, w.summary.may_join), (2, 1));
    }

    #[test]
    fn a_sex_check_changes_the_reconciled_figure() {
        // A boy typed as a girl: 81.0 cm at 24 months is −1.6 for a girl,
        // below −2 for a boy.
        assert!(haz(Sex::P, true_birth(), AUGUST) > -2.0);
        assert!(haz(Sex::L, true_birth(), AUGUST) < -2.0);
        let mut c = child("u", &[(true_birth(), Sex::P, None)], &[AUGUST]);
        let w = run(std::slice::from_ref(&c));
        assert_eq!(
            (w.summary.as_recorded.stunted, w.summary.reconciled.stunted),
            (0, 0)
        );
        c.verifications.push(Verification {
            id: VerificationId::new(),
            check: Check::Sex {
                sex: Sex::L,
                source: DocumentSource::Akta,
            },
            round: Some(ROUND.into()),
            by: "Bidan Sri".into(),
            recorded_at_ms: 1,
        });
        let r = reconcile(&c, d(2024, 8, 31)).expect("reconciled");
        assert_eq!((r.sex.sex, r.sex.as_recorded), (Sex::L, Sex::P));
        assert_eq!(r.child.sex, "L");
        let w = run(&[c]);
        assert_eq!(w.summary.as_recorded.stunted, 0, "as recorded stays");
        assert_eq!(w.summary.reconciled.stunted, 1);
        assert_eq!(w.summary.sexes_changed, 1);
        assert!(w.entries.is_empty(), "nothing left to question");
    }
}
