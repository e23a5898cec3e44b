//! The birth date and sex a child's z-scores should use, chosen from the
//! evidence of every registration folded into it — and why.
//!
//! A stunting verdict is only as good as the birth date behind it, and field
//! birth dates are typed from memory, left on 1 January, swapped day for
//! month. After deduplication a child carries several registrations (the
//! survivor and those merged into it), each with the birth date, sex and NIK
//! as typed that time. Nothing entered is overwritten: the choice here is
//! derived, its reason kept, and a person can settle it with a recorded check
//! ([`sync_protocol::Check`]).
//!
//! The rules, in order (each explained in Bahasa Indonesia by
//! [`BirthDateBasis::reason`]):
//! 1. a birth date confirmed from a document (KIA book, KK, akta) by a check;
//! 2. the date inside a usable NIK: well-formed, not a placeholder NIK, not
//!    the mother's NIK or a KK number of any of the child's registrations, a
//!    child's age at the first measurement, its sex part agreeing with the
//!    chosen sex, and within [`NIK_REACH_DAYS`] of a typed date (further from
//!    every typed date it is more likely a sibling's) unless every typed date
//!    is a placeholder. The NIK wins even when several registrations agree on
//!    another date: a NIK is read off a document (KK, akta), while typed
//!    dates come from memory, and registrations that agree are often copies
//!    of one typing (a kader picks the child's existing record; a copy
//!    updated later, say with the NIK filled in, becomes a registration of
//!    its own), so their number is no independent evidence against the
//!    document. The typed dates are not overwritten: the disagreement is
//!    flagged and a check (rule 1) settles it;
//! 3. the date most registrations agree on, each registration counted once
//!    even when it is an updated copy of another (see below);
//! 4. a date typed with a document at hand (the registration carries the
//!    child's NIK or the KK number) over one from memory;
//! 5. never a placeholder (1 January: only the year was known; or the day of
//!    the visit, left in the date picker) over a real date, and a round
//!    1st/15th only when nothing else decides;
//! 6. otherwise the date as recorded on the surviving registration.
//!
//! Copies count in rule 3. A registration is one set of identical identity
//! fields (`crate::ingest`), so a record updated later — a NIK filled in, a
//! newborn's placeholder name replaced — becomes a second registration with
//! the same typed birth date. Counting distinct typings instead (a
//! registration with the same date and sex, its NIK, KK and mother's NIK
//! equal or missing, counted once with the one it copies) was tried on the
//! synthetic dev set and left out. Through the whole pipeline
//! (`tumbuh-bench verval-synthetic`, August 2024) it changed the chosen
//! birth date of one child (193 instead of 194 differ from the recorded one)
//! and no figure (reconciled 524 stunted against 518 true, the worklist and
//! the misclassified children on it the same); with the registrations
//! grouped by their true child it changed the date of one child of the 1,011
//! with several registrations, for the worse: an update that added a NIK had
//! left the right date as it was, and its count kept that date ahead of
//! another typed with a KK number at hand. An update is a second look at the
//! record, often with the KK or KIA book open to read the NIK from, so a date
//! it leaves unchanged is weakly confirmed; and these fields cannot tell a
//! copy from an independent typing that agrees, so collapsing would also
//! throw away real agreement.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use linkage::nik::Nik;
use sync_protocol::{Check, DocumentSource, Sex, Verification};

/// One registration of a child, as typed: the survivor's own or one merged into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub child_id: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub nik: Option<String>,
    pub no_kk: Option<String>,
    pub mother_nik: Option<String>,
    /// Measurements entered on this registration (not voided, not copies).
    pub measurements: usize,
    pub first_measured: Option<NaiveDate>,
}

impl Registration {
    /// Typed with a document at hand: it carries a well-formed NIK or KK number
    /// (sixteen digits nobody types from memory).
    #[must_use]
    pub fn with_document(&self) -> bool {
        let real = |v: &Option<String>| {
            v.as_deref()
                .and_then(|s| Nik::parse(s).ok())
                .is_some_and(|n| !n.is_dummy())
        };
        real(&self.nik) || real(&self.no_kk)
    }
}

/// How much a typed birth date can be trusted by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateShape {
    /// Any other day.
    Exact,
    /// The 1st or the 15th of a month (other than 1 January): often a guess
    /// of the day.
    RoundDay,
    /// 1 January: usually only the year was known.
    YearOnly,
}

impl DateShape {
    #[must_use]
    pub fn of(date: NaiveDate) -> DateShape {
        match (date.month(), date.day()) {
            (1, 1) => DateShape::YearOnly,
            (_, 1 | 15) => DateShape::RoundDay,
            _ => DateShape::Exact,
        }
    }

    /// The range of dates the typed one may stand for (for "what if" z-scores):
    /// the whole year for 1 January, the whole month for the 1st/15th.
    #[must_use]
    pub fn range(self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        let last_of_month = |d: NaiveDate| {
            let next = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
            };
            next.and_then(|n| n.pred_opt()).unwrap_or(d)
        };
        match self {
            DateShape::Exact => (date, date),
            DateShape::RoundDay => (date.with_day(1).unwrap_or(date), last_of_month(date)),
            DateShape::YearOnly => (
                date,
                NaiveDate::from_ymd_opt(date.year(), 12, 31).unwrap_or(date),
            ),
        }
    }
}

/// Why the chosen birth date was chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum BirthDateBasis {
    /// Confirmed from a document by a recorded check.
    Verified { source: DocumentSource, by: String },
    /// The date inside the child's NIK (in `registrations` registrations).
    Nik { registrations: usize },
    /// Typed alike by `agree` of `of` registrations (more than any other date).
    Agreed { agree: usize, of: usize },
    /// Registrations disagree evenly; this one was typed with a document at hand.
    Document,
    /// The only date recorded (every registration typed it).
    Only,
    /// Registrations disagree and nothing decides: the surviving registration's.
    AsRecorded,
}

impl BirthDateBasis {
    /// The reason in Bahasa Indonesia, for lists and the worklist.
    #[must_use]
    pub fn reason(&self) -> String {
        match self {
            Self::Verified { source, by } => {
                format!("dikonfirmasi dari {} oleh {by}", source.label_id())
            }
            Self::Nik { registrations } => {
                format!("sesuai tanggal lahir dalam NIK ({registrations} pendaftaran)")
            }
            Self::Agreed { agree, of } => format!("disepakati {agree} dari {of} pendaftaran"),
            Self::Document => "dicatat dengan dokumen (NIK/No. KK) di tangan".into(),
            Self::Only => "satu-satunya tanggal yang dicatat".into(),
            Self::AsRecorded => {
                "pendaftaran tidak sepakat; dipakai tanggal pada pendaftaran utama".into()
            }
        }
    }

    /// A person settled it.
    #[must_use]
    pub fn is_verified(&self) -> bool {
        matches!(self, Self::Verified { .. })
    }
}

/// Whether `date` is the day one of the registrations was first measured:
/// the visit date left in the date picker rather than a birth date.
#[must_use]
pub fn is_visit_date(regs: &[Registration], date: NaiveDate) -> bool {
    regs.iter().any(|r| r.first_measured == Some(date))
}

/// The birth date a child's z-scores use, with the evidence behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct BirthDateChoice {
    pub date: NaiveDate,
    pub basis: BirthDateBasis,
    /// The surviving registration's date (what "as recorded" figures use).
    pub as_recorded: NaiveDate,
    /// Each date typed, with how many registrations typed it.
    pub typed: BTreeMap<NaiveDate, usize>,
    /// Each date read from a usable NIK, with how many registrations carry it.
    pub nik: BTreeMap<NaiveDate, usize>,
}

impl BirthDateChoice {
    /// The chosen date's shape (a placeholder stays one until verified).
    #[must_use]
    pub fn shape(&self) -> DateShape {
        match self.basis {
            BirthDateBasis::Verified { .. } | BirthDateBasis::Nik { .. } => DateShape::Exact,
            _ => DateShape::of(self.date),
        }
    }
}

/// Why the chosen sex was chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum SexBasis {
    Verified {
        source: DocumentSource,
        by: String,
    },
    /// Typed alike by more registrations than the other sex.
    Agreed,
    /// Registrations tie; the NIK's sex part (of a NIK whose date matches a
    /// typed birth date, so surely the child's) decides.
    Nik,
    AsRecorded,
}

/// The sex a child's z-scores use.
#[derive(Debug, Clone, PartialEq)]
pub struct SexChoice {
    pub sex: Sex,
    pub basis: SexBasis,
    pub as_recorded: Sex,
    /// Registrations typing L and P.
    pub typed: [usize; 2],
    /// The sex part of each usable NIK (L, P counts).
    pub nik: [usize; 2],
}

fn sex_index(s: Sex) -> usize {
    match s {
        Sex::L => 0,
        Sex::P => 1,
    }
}

fn nik_sex(n: &Nik) -> Option<Sex> {
    match n.sex()? {
        linkage::nik::Sex::Male => Some(Sex::L),
        linkage::nik::Sex::Female => Some(Sex::P),
    }
}

/// Longest plausible age at a first posyandu measurement: five years and a month.
const MAX_AGE_DAYS: i64 = 61 * 3044 / 100;

/// How far a NIK's date may lie from a typed birth date and still be the same
/// child's: the typing errors of birth dates (a year off, day and month
/// swapped, 1 January for the year) stay within a year; a NIK further from
/// every typed date is more likely a sibling's, typed in the wrong field.
pub const NIK_REACH_DAYS: i64 = 400;

/// What a registration's NIK says of the child, if it can be the child's own:
/// well-formed, not a placeholder, not the mother's NIK or a KK number of any
/// of the child's registrations, a real date no later than `reference` (the
/// first measurement) and at most five years before it.
fn nik_reading(
    reg: &Registration,
    family_numbers: &[&str],
    reference: NaiveDate,
) -> Option<(NaiveDate, Sex)> {
    let text = reg.nik.as_deref()?;
    let nik = Nik::parse(text).ok().filter(|n| !n.is_dummy())?;
    if family_numbers.contains(&nik.as_str()) {
        return None;
    }
    let date = nik.birth_date(reference)?;
    if (reference - date).num_days() > MAX_AGE_DAYS {
        return None;
    }
    Some((date, nik_sex(&nik)?))
}

/// The reference date for NIK dates: the child's first measurement, or
/// `fallback` (the day the report is made) when it has none.
fn reference(regs: &[Registration], fallback: NaiveDate) -> NaiveDate {
    regs.iter()
        .filter_map(|r| r.first_measured)
        .min()
        .unwrap_or(fallback)
}

fn family_numbers(regs: &[Registration]) -> Vec<&str> {
    regs.iter()
        .flat_map(|r| [r.no_kk.as_deref(), r.mother_nik.as_deref()])
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Chooses the child's sex. `regs` holds every registration (the survivor's
/// first); `today` is the reference for NIK dates when nothing was measured.
#[must_use]
pub fn choose_sex(
    regs: &[Registration],
    verifications: &[Verification],
    today: NaiveDate,
) -> Option<SexChoice> {
    let as_recorded = regs.first()?.sex;
    let mut typed = [0usize; 2];
    for r in regs {
        typed[sex_index(r.sex)] += 1;
    }
    let reference = reference(regs, today);
    let family = family_numbers(regs);
    let mut nik = [0usize; 2];
    // A NIK surely the child's: its date matches a typed birth date.
    let mut nik_matching = [0usize; 2];
    for r in regs {
        if let Some((date, s)) = nik_reading(r, &family, reference) {
            nik[sex_index(s)] += 1;
            if regs.iter().any(|o| o.birth_date == date) {
                nik_matching[sex_index(s)] += 1;
            }
        }
    }
    let of = |i: usize| if i == 0 { Sex::L } else { Sex::P };
    let (sex, basis) = if let Some(v) = sync_protocol::verification::latest(verifications, "sex")
        && let Check::Sex { sex, source } = &v.check
    {
        (
            *sex,
            SexBasis::Verified {
                source: *source,
                by: v.by.clone(),
            },
        )
    } else if regs.len() < 2 {
        // One registration: the kader saw the child; a NIK of the other sex
        // is more likely a twin's or sibling's (flagged, not followed).
        (as_recorded, SexBasis::AsRecorded)
    } else if typed[0] != typed[1] {
        (of(usize::from(typed[1] > typed[0])), SexBasis::Agreed)
    } else if nik_matching[0] != nik_matching[1] {
        (
            of(usize::from(nik_matching[1] > nik_matching[0])),
            SexBasis::Nik,
        )
    } else {
        (as_recorded, SexBasis::AsRecorded)
    };
    Some(SexChoice {
        sex,
        basis,
        as_recorded,
        typed,
        nik,
    })
}

/// Chooses the child's birth date (see the module's rules). `sex` is the
/// chosen sex; `today` as for [`choose_sex`]. `None` only without registrations.
#[must_use]
pub fn choose_birth_date(
    regs: &[Registration],
    sex: Sex,
    verifications: &[Verification],
    today: NaiveDate,
) -> Option<BirthDateChoice> {
    let as_recorded = regs.first()?.birth_date;
    let mut typed: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    let mut with_document: BTreeMap<NaiveDate, bool> = BTreeMap::new();
    for r in regs {
        *typed.entry(r.birth_date).or_default() += 1;
        *with_document.entry(r.birth_date).or_default() |= r.with_document();
    }
    // Dates that are no evidence of the day of birth: 1 January, and the
    // visit date left in the date picker.
    let visit_dates: Vec<NaiveDate> = regs.iter().filter_map(|r| r.first_measured).collect();
    let weak = |d: &NaiveDate| DateShape::of(*d) == DateShape::YearOnly || visit_dates.contains(d);
    let reference = reference(regs, today);
    let family = family_numbers(regs);
    let mut nik: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for r in regs {
        if let Some((date, s)) = nik_reading(r, &family, reference)
            && s == sex
            && (typed.keys().all(weak)
                || typed
                    .keys()
                    .any(|t| (*t - date).num_days().abs() <= NIK_REACH_DAYS))
        {
            *nik.entry(date).or_default() += 1;
        }
    }
    let choice = |date, basis| {
        Some(BirthDateChoice {
            date,
            basis,
            as_recorded,
            typed: typed.clone(),
            nik: nik.clone(),
        })
    };
    if let Some(v) = sync_protocol::verification::latest(verifications, "birth_date")
        && let Check::BirthDate { date, source } = &v.check
    {
        return choice(
            *date,
            BirthDateBasis::Verified {
                source: *source,
                by: v.by.clone(),
            },
        );
    }
    let count = |d: &NaiveDate| typed.get(d).copied().unwrap_or(0);
    // The typed dates in order of preference: real dates before placeholders,
    // then most registrations, typed with a document, not a round day, the
    // survivor's, the earliest.
    let any_real = typed.keys().any(|d| !weak(d));
    let mut ranked: Vec<(NaiveDate, usize)> = typed
        .iter()
        .filter(|(d, _)| !any_real || !weak(d))
        .map(|(d, n)| (*d, *n))
        .collect();
    let doc = |d: &NaiveDate| with_document.get(d).copied().unwrap_or(false);
    ranked.sort_by_key(|(d, n)| {
        (
            std::cmp::Reverse(*n),
            !doc(d),
            DateShape::of(*d),
            *d != as_recorded,
            *d,
        )
    });
    let best_typed = ranked.first().copied();

    if let Some((&date, &n)) = nik
        .iter()
        .max_by_key(|(d, n)| (**n, count(d), std::cmp::Reverse(**d)))
    {
        return choice(date, BirthDateBasis::Nik { registrations: n });
    }
    let (date, n) = best_typed?;
    let basis = if typed.len() == 1 {
        BirthDateBasis::Only
    } else {
        let second = ranked.get(1);
        match second {
            Some((_, n2)) if *n2 == n => {
                let d2 = second.map(|(d, _)| *d);
                if doc(&date) && !d2.is_some_and(|d| doc(&d)) {
                    BirthDateBasis::Document
                } else {
                    BirthDateBasis::AsRecorded
                }
            }
            // Only placeholders were left out: the real date is the one typed.
            None => BirthDateBasis::Only,
            Some(_) => BirthDateBasis::Agreed {
                agree: n,
                of: regs.len(),
            },
        }
    };
    choice(date, basis)
}

/// The NIK dates of the registrations that disagree with the chosen sex or
/// are otherwise unusable are not evidence; this gives, for flags, every
/// usable NIK reading regardless of sex.
#[must_use]
pub fn nik_readings(regs: &[Registration], today: NaiveDate) -> Vec<(NaiveDate, Sex)> {
    let reference = reference(regs, today);
    let family = family_numbers(regs);
    regs.iter()
        .filter_map(|r| nik_reading(r, &family, reference))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_protocol::VerificationId;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    const TODAY: (i32, u32, u32) = (2024, 8, 31);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    fn reg(birth: NaiveDate, nik: Option<&str>) -> Registration {
        Registration {
            child_id: format!("reg-{birth}-{nik:?}"),
            sex: Sex::P,
            birth_date: birth,
            nik: nik.map(str::to_owned),
            no_kk: None,
            mother_nik: None,
            measurements: 1,
            first_measured: Some(d(2024, 3, 4)),
        }
    }

    fn birth(regs: &[Registration]) -> BirthDateChoice {
        choose_birth_date(regs, Sex::P, &[], today()).expect("a choice")
    }

    // A girl born 2023-05-17: day 17 + 40 = 57, so the date part is 570523.
    const GIRL_NIK: &str = "3530015705230003";

    #[test]
    fn a_nik_date_whose_sex_agrees_beats_a_typed_date() {
        // Typed with day and month swapped.
        let c = birth(&[reg(d(2023, 5, 17), None), reg(d(2023, 5, 17), None)]);
        assert_eq!(c.basis, BirthDateBasis::Only);
        let c = birth(&[reg(d(2023, 3, 7), Some(GIRL_NIK))]);
        assert_eq!(c.date, d(2023, 5, 17));
        assert_eq!(c.basis, BirthDateBasis::Nik { registrations: 1 });
        assert_eq!(c.as_recorded, d(2023, 3, 7));
        // The same NIK on a boy: its sex part disagrees, so it is no evidence.
        let boy = choose_birth_date(&[reg(d(2023, 3, 7), Some(GIRL_NIK))], Sex::L, &[], today())
            .expect("choice");
        assert_eq!(boy.date, d(2023, 3, 7));
        assert!(boy.nik.is_empty());
    }

    #[test]
    fn the_mothers_nik_or_the_kk_number_in_the_childs_field_is_no_evidence() {
        let mut r = reg(d(2023, 3, 7), Some(GIRL_NIK));
        r.mother_nik = Some(GIRL_NIK.into());
        assert_eq!(birth(&[r.clone()]).date, d(2023, 3, 7));
        r.mother_nik = None;
        r.no_kk = Some(GIRL_NIK.into());
        assert_eq!(birth(&[r]).date, d(2023, 3, 7));
        // A mother's own NIK (born 1994) is far too old for a child.
        let c = birth(&[reg(d(2023, 3, 7), Some("3530026103940017"))]);
        assert_eq!(c.date, d(2023, 3, 7));
        // A placeholder NIK.
        let c = birth(&[reg(d(2023, 3, 7), Some("3530010000000000"))]);
        assert_eq!(c.date, d(2023, 3, 7));
        // A NIK dated after the first measurement.
        let c = birth(&[reg(d(2023, 3, 7), Some("3530015705240003"))]);
        assert_eq!(c.date, d(2023, 3, 7));
    }

    #[test]
    fn a_nik_date_beats_registrations_that_agree_on_another_date() {
        // Carers misremember the same way twice; the NIK was read off a card.
        let c = birth(&[
            reg(d(2022, 5, 17), Some(GIRL_NIK)),
            reg(d(2022, 5, 17), None),
            reg(d(2022, 5, 17), None),
        ]);
        assert_eq!(c.date, d(2023, 5, 17));
        assert_eq!(c.basis, BirthDateBasis::Nik { registrations: 1 });
    }

    #[test]
    fn a_nik_far_from_every_typed_date_is_a_siblings_unless_the_typed_date_is_the_visit() {
        // Typed 2021-09-03; the NIK says 2023-05-17: more than a typing error apart.
        let c = birth(&[reg(d(2021, 9, 3), Some(GIRL_NIK))]);
        assert_eq!(c.date, d(2021, 9, 3));
        assert!(c.nik.is_empty());
        // Typed as the day of the first measurement (the date picker left on
        // the visit): no evidence, so the NIK is taken however far.
        let mut at_visit = reg(d(2024, 3, 4), Some(GIRL_NIK));
        at_visit.first_measured = Some(d(2024, 3, 4));
        let c = birth(&[at_visit.clone()]);
        assert_eq!(c.date, d(2023, 5, 17));
        assert!(is_visit_date(&[at_visit], d(2024, 3, 4)));
        // And a visit date never beats a real date typed elsewhere.
        let mut visit = reg(d(2024, 3, 4), None);
        visit.first_measured = Some(d(2024, 3, 4));
        let mut other = reg(d(2022, 6, 23), None);
        other.first_measured = Some(d(2024, 5, 2));
        let c = birth(&[visit.clone(), visit, other]);
        assert_eq!(c.date, d(2022, 6, 23));
    }

    #[test]
    fn the_date_most_registrations_agree_on_wins() {
        let c = birth(&[
            reg(d(2022, 11, 3), None),
            reg(d(2022, 3, 11), None),
            reg(d(2022, 3, 11), None),
        ]);
        assert_eq!(c.date, d(2022, 3, 11));
        assert_eq!(c.basis, BirthDateBasis::Agreed { agree: 2, of: 3 });
        assert_eq!(c.as_recorded, d(2022, 11, 3));
    }

    #[test]
    fn an_updated_copy_counts_as_a_registration_of_its_own() {
        // Typed 11 March at one posyandu, later updated with the mother's
        // NIK (a new registration, the date left as it was); typed 20 March
        // on the surviving registration. The update is a second look at the
        // record: the two count as two (see the module's note on copies),
        // not as one typing tied with the survivor's.
        let first = reg(d(2022, 3, 11), None);
        let mut updated = first.clone();
        updated.child_id = "updated".into();
        updated.mother_nik = Some("3530026103940017".into());
        assert!(!updated.with_document(), "no document decides");
        let c = birth(&[reg(d(2022, 3, 20), None), first, updated]);
        assert_eq!(c.date, d(2022, 3, 11));
        assert_eq!(c.basis, BirthDateBasis::Agreed { agree: 2, of: 3 });
    }

    #[test]
    fn a_date_typed_with_a_document_at_hand_beats_one_from_memory() {
        let mut with_kk = reg(d(2022, 3, 11), None);
        with_kk.no_kk = Some("3530010109131126".into());
        let c = birth(&[reg(d(2022, 3, 20), None), with_kk]);
        assert_eq!(c.date, d(2022, 3, 11));
        assert_eq!(c.basis, BirthDateBasis::Document);
        // Neither with a document: the survivor's (the first) stays.
        let c = birth(&[reg(d(2022, 3, 20), None), reg(d(2022, 3, 11), None)]);
        assert_eq!(c.date, d(2022, 3, 20));
        assert_eq!(c.basis, BirthDateBasis::AsRecorded);
    }

    #[test]
    fn a_placeholder_never_beats_a_real_date_and_a_round_day_loses_ties() {
        // 1 January, even typed twice, loses to one real date.
        let c = birth(&[
            reg(d(2022, 1, 1), None),
            reg(d(2022, 1, 1), None),
            reg(d(2022, 6, 23), None),
        ]);
        assert_eq!(c.date, d(2022, 6, 23));
        assert_eq!(c.basis, BirthDateBasis::Only);
        // Only placeholders: the placeholder, and it stays one.
        let c = birth(&[reg(d(2022, 1, 1), None)]);
        assert_eq!(c.date, d(2022, 1, 1));
        assert_eq!(c.shape(), DateShape::YearOnly);
        // A 15th against an exact date, one registration each: the exact one,
        // even on the non-surviving registration.
        let c = birth(&[reg(d(2022, 6, 15), None), reg(d(2022, 6, 23), None)]);
        assert_eq!(c.date, d(2022, 6, 23));
    }

    #[test]
    fn a_confirmed_check_overrides_all_evidence_and_the_latest_check_counts() {
        let check = |date: NaiveDate, at: i64| Verification {
            id: VerificationId::new(),
            check: Check::BirthDate {
                date,
                source: DocumentSource::Kia,
            },
            round: None,
            by: "Bidan Sri".into(),
            recorded_at_ms: at,
        };
        let regs = [reg(d(2023, 3, 7), Some(GIRL_NIK))];
        let c = choose_birth_date(
            &regs,
            Sex::P,
            &[check(d(2023, 4, 2), 5), check(d(2023, 4, 9), 2)],
            today(),
        )
        .expect("choice");
        assert_eq!(c.date, d(2023, 4, 2));
        assert!(c.basis.is_verified());
        assert!(
            c.basis.reason().contains("buku KIA"),
            "{}",
            c.basis.reason()
        );
    }

    #[test]
    fn sex_follows_the_registrations_then_a_matching_nik_then_the_record() {
        let mut boy = reg(d(2023, 5, 17), None);
        boy.sex = Sex::L;
        let girl = reg(d(2023, 5, 17), Some(GIRL_NIK));
        // One each: the girl's NIK, dated as typed, decides.
        let s = choose_sex(&[boy.clone(), girl.clone()], &[], today()).expect("sex");
        assert_eq!((s.sex, &s.basis), (Sex::P, &SexBasis::Nik));
        assert_eq!(s.as_recorded, Sex::L);
        // Two boys against one girl: the registrations.
        let s = choose_sex(&[boy.clone(), boy.clone(), girl], &[], today()).expect("sex");
        assert_eq!((s.sex, &s.basis), (Sex::L, &SexBasis::Agreed));
        // One registration: as recorded, even against its NIK.
        let s = choose_sex(&[boy], &[], today()).expect("sex");
        assert_eq!((s.sex, &s.basis), (Sex::L, &SexBasis::AsRecorded));
        let mut boy_with_girls_nik = reg(d(2023, 5, 17), Some(GIRL_NIK));
        boy_with_girls_nik.sex = Sex::L;
        let s = choose_sex(&[boy_with_girls_nik], &[], today()).expect("sex");
        assert_eq!((s.sex, s.nik), (Sex::L, [0, 1]));
    }

    #[test]
    fn a_sex_check_overrides_the_registrations_and_the_latest_counts() {
        // Two registrations typed P (one with the girl's NIK, dated otherwise
        // than typed), one typed L: the registrations say P.
        let girl = reg(d(2023, 3, 7), Some(GIRL_NIK));
        let mut boy = reg(d(2023, 3, 7), None);
        boy.sex = Sex::L;
        let regs = [girl.clone(), girl, boy];
        let s = choose_sex(&regs, &[], today()).expect("sex");
        assert_eq!((s.sex, &s.basis), (Sex::P, &SexBasis::Agreed));
        let sex_check = |sex: Sex, by: &str, at: i64| Verification {
            id: VerificationId::new(),
            check: Check::Sex {
                sex,
                source: DocumentSource::Akta,
            },
            round: Some("2024-08".into()),
            by: by.into(),
            recorded_at_ms: at,
        };
        // The birth certificate says L: it overrides the majority and the NIK,
        // and the typed evidence is kept as it was.
        let checks = [
            sex_check(Sex::L, "Bidan Sri", 7),
            sex_check(Sex::P, "Kader Ani", 3),
        ];
        let s = choose_sex(&regs, &checks, today()).expect("sex");
        assert_eq!(s.sex, Sex::L, "the latest check is in force");
        assert_eq!(
            s.basis,
            SexBasis::Verified {
                source: DocumentSource::Akta,
                by: "Bidan Sri".into()
            }
        );
        assert_eq!((s.as_recorded, s.typed, s.nik), (Sex::P, [1, 2], [0, 2]));
        // A birth-date check says nothing of the sex.
        let birth_check = Verification {
            id: VerificationId::new(),
            check: Check::BirthDate {
                date: d(2023, 5, 17),
                source: DocumentSource::Kia,
            },
            round: None,
            by: "Bidan Sri".into(),
            recorded_at_ms: 9,
        };
        let s = choose_sex(&regs, &[birth_check], today()).expect("sex");
        assert_eq!((s.sex, &s.basis), (Sex::P, &SexBasis::Agreed));
        // The checked sex then decides which NIK dates are evidence: the
        // girl's NIK is none for a boy, so the typed date stands.
        let as_girl = choose_birth_date(&regs, Sex::P, &[], today()).expect("choice");
        assert_eq!(as_girl.date, d(2023, 5, 17));
        let as_boy = choose_birth_date(&regs, Sex::L, &checks, today()).expect("choice");
        assert_eq!(as_boy.date, d(2023, 3, 7));
        assert!(as_boy.nik.is_empty());
    }

    #[test]
    fn shapes_and_their_ranges() {
        assert_eq!(DateShape::of(d(2022, 1, 1)), DateShape::YearOnly);
        assert_eq!(DateShape::of(d(2022, 2, 15)), DateShape::RoundDay);
        assert_eq!(DateShape::of(d(2022, 2, 1)), DateShape::RoundDay);
        assert_eq!(DateShape::of(d(2022, 1, 15)), DateShape::RoundDay);
        assert_eq!(DateShape::of(d(2022, 2, 16)), DateShape::Exact);
        assert_eq!(
            DateShape::YearOnly.range(d(2022, 1, 1)),
            (d(2022, 1, 1), d(2022, 12, 31))
        );
        assert_eq!(
            DateShape::RoundDay.range(d(2024, 2, 15)),
            (d(2024, 2, 1), d(2024, 2, 29))
        );
        assert_eq!(
            DateShape::RoundDay.range(d(2023, 12, 1)),
            (d(2023, 12, 1), d(2023, 12, 31))
        );
    }
}
