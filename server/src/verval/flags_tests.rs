//! Unit tests of [`super::flags`] on hand-made children: every flag kind with
//! the smallest record that raises it and the nearest one that does not, and
//! which recorded check answers which flag in which round ([`resolve`]).
//!
//! Kept apart from `flags.rs` so that the flag rules stay readable on their
//! own; the worklist's tests (`worklist.rs`) cover how flags reach the list.

use chrono::NaiveDate;
use sync_protocol::{Check, DocumentSource, MeasurementId, Sex, Verification, VerificationId};

use super::evidence::{Registration, choose_birth_date, choose_sex};
use super::flags::{
    Flag, FlagKind, MAX_SHRINK_MM, MAX_Z_JUMP, Point, STANDING_FROM_DAYS, flags, resolve,
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

const ROUND: &str = "2024-08";

fn round_end() -> NaiveDate {
    d(2024, 8, 31)
}

/// The day of the August posyandu (the round measurement).
fn visit() -> NaiveDate {
    d(2024, 8, 12)
}

/// An exact birth date (not a 1st/15th, not 1 January, not a visit day).
fn born() -> NaiveDate {
    d(2022, 11, 3)
}

// A girl born 2023-05-17: day 17 + 40 = 57, so the date part is 570523.
const GIRL_NIK: &str = "3530015705230003";

/// One registration as typed, first measured on the August visit.
fn reg(birth: NaiveDate, sex: Sex, nik: Option<&str>) -> Registration {
    Registration {
        child_id: format!("reg-{birth}-{sex}-{nik:?}"),
        sex,
        birth_date: birth,
        nik: nik.map(str::to_owned),
        no_kk: None,
        mother_nik: None,
        measurements: 1,
        first_measured: Some(visit()),
    }
}

/// An ordinary measurement: HAZ −1, WAZ −0,5, 80 cm lying, at `age_days`.
fn point(date: NaiveDate, age_days: i64) -> Point {
    Point {
        date,
        haz: Some(-1.0),
        waz: Some(-0.5),
        length_lying_mm: Some(800),
        standing: Some(false),
        age_days,
        implausible: false,
    }
}

/// The August measurement of a child born on [`born`] (648 days old, lying).
fn august() -> Point {
    point(visit(), (visit() - born()).num_days())
}

/// The flags of a child: the birth date and sex chosen from `regs` and
/// `checks` as the worklist does, `points` in date order, `at` the round one.
fn flags_with(
    regs: &[Registration],
    checks: &[Verification],
    review_partners: usize,
    points: &[Point],
    at: usize,
) -> Vec<Flag> {
    let sex = choose_sex(regs, checks, round_end()).expect("sex");
    let birth = choose_birth_date(regs, sex.sex, checks, round_end()).expect("birth date");
    flags(regs, review_partners, &birth, &sex, points, at, round_end())
}

/// The kinds of flag raised on registrations `regs` measured once, in August.
fn kinds_of(regs: &[Registration]) -> Vec<FlagKind> {
    kinds(&flags_with(regs, &[], 0, &[august()], 0))
}

fn kinds(flags: &[Flag]) -> Vec<FlagKind> {
    flags.iter().map(|f| f.kind).collect()
}

/// The reason of the flag of `kind` (fails when there is none).
fn reason(flags: &[Flag], kind: FlagKind) -> String {
    flags
        .iter()
        .find(|f| f.kind == kind)
        .map(|f| f.reason.clone())
        .unwrap_or_else(|| panic!("no {kind:?} flag in {flags:?}"))
}

fn check(check: Check, round: Option<&str>, by: &str, at: i64) -> Verification {
    Verification {
        id: VerificationId::new(),
        check,
        round: round.map(str::to_owned),
        by: by.into(),
        recorded_at_ms: at,
    }
}

fn birth_date_check(date: NaiveDate, round: Option<&str>) -> Verification {
    check(
        Check::BirthDate {
            date,
            source: DocumentSource::Kia,
        },
        round,
        "Bidan Sri",
        1,
    )
}

#[test]
fn a_child_with_nothing_wrong_has_no_flag() {
    assert_eq!(kinds_of(&[reg(born(), Sex::P, None)]), vec![]);
    // Two registrations that agree on everything: nothing to check either.
    assert_eq!(
        kinds_of(&[reg(born(), Sex::P, None), reg(born(), Sex::P, None)]),
        vec![]
    );
}

#[test]
fn first_of_january_is_a_placeholder_however_many_typed_it_until_checked() {
    let jan = d(2022, 1, 1);
    let once = flags_with(&[reg(jan, Sex::P, None)], &[], 0, &[august()], 0);
    assert_eq!(kinds(&once), vec![FlagKind::PlaceholderBirthDate]);
    assert!(
        reason(&once, FlagKind::PlaceholderBirthDate).contains("1 Januari"),
        "{once:?}"
    );
    // Typed alike twice it is still only a year.
    assert_eq!(
        kinds_of(&[reg(jan, Sex::P, None), reg(jan, Sex::P, None)]),
        vec![FlagKind::PlaceholderBirthDate]
    );
    // Confirmed from the KIA book (even as 1 January): settled.
    let checked = flags_with(
        &[reg(jan, Sex::P, None)],
        &[birth_date_check(jan, Some(ROUND))],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&checked), vec![]);
}

#[test]
fn the_visit_date_left_in_the_picker_is_a_placeholder() {
    // Registered on 4 March with the birth date left on that day.
    let march = d(2024, 3, 4);
    let mut at_visit = reg(march, Sex::P, None);
    at_visit.first_measured = Some(march);
    let found = flags_with(&[at_visit.clone()], &[], 0, &[august()], 0);
    assert_eq!(kinds(&found), vec![FlagKind::PlaceholderBirthDate]);
    let why = reason(&found, FlagKind::PlaceholderBirthDate);
    assert!(why.contains("sama dengan tanggal pengukuran"), "{why}");
    assert!(why.contains("2024-03-04"), "{why}");
    // A day away from the visit is an ordinary (exact) date.
    let mut day_after = reg(d(2024, 3, 5), Sex::P, None);
    day_after.first_measured = Some(march);
    assert_eq!(kinds_of(&[day_after]), vec![]);
    // Confirmed from a document, the same date stands.
    let checked = flags_with(
        &[at_visit.clone()],
        &[birth_date_check(march, None)],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&checked), vec![]);
    // With a usable NIK the NIK's date is taken (a visit date is no evidence,
    // so however far): the question is then the NIK against the typed date.
    let mut with_nik = reg(march, Sex::P, Some(GIRL_NIK));
    with_nik.first_measured = Some(march);
    let found = flags_with(&[with_nik], &[], 0, &[august()], 0);
    assert_eq!(kinds(&found), vec![FlagKind::BirthDateVsNik]);
}

#[test]
fn a_first_or_fifteenth_typed_once_is_a_possible_guess() {
    for typed in [d(2022, 6, 15), d(2022, 6, 1), d(2022, 1, 15)] {
        let found = flags_with(&[reg(typed, Sex::P, None)], &[], 0, &[august()], 0);
        assert_eq!(
            kinds(&found),
            vec![FlagKind::PlaceholderBirthDate],
            "{typed}"
        );
        let why = reason(&found, FlagKind::PlaceholderBirthDate);
        assert!(why.contains("tanggal 1 atau 15"), "{typed}: {why}");
    }
    // Typed alike by two registrations: corroborated, not flagged.
    let fifteenth = d(2022, 6, 15);
    assert_eq!(
        kinds_of(&[reg(fifteenth, Sex::P, None), reg(fifteenth, Sex::P, None)]),
        vec![]
    );
    // The 16th is an ordinary date; a checked 15th is settled.
    assert_eq!(kinds_of(&[reg(d(2022, 6, 16), Sex::P, None)]), vec![]);
    let checked = flags_with(
        &[reg(fifteenth, Sex::P, None)],
        &[birth_date_check(fifteenth, Some(ROUND))],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&checked), vec![]);
}

#[test]
fn a_nik_dated_otherwise_than_typed_is_flagged_with_both_dates() {
    // Typed 7 March; the girl's NIK says 17 May.
    let found = flags_with(
        &[reg(d(2023, 3, 7), Sex::P, Some(GIRL_NIK))],
        &[],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&found), vec![FlagKind::BirthDateVsNik]);
    let why = reason(&found, FlagKind::BirthDateVsNik);
    assert!(
        why.contains("2023-03-07") && why.contains("2023-05-17"),
        "{why}"
    );
    // Typed as the NIK says: nothing.
    assert_eq!(
        kinds_of(&[reg(d(2023, 5, 17), Sex::P, Some(GIRL_NIK))]),
        vec![]
    );
    // The mother's NIK typed in the child's field is no reading: nothing.
    let mut mothers = reg(d(2023, 3, 7), Sex::P, Some(GIRL_NIK));
    mothers.mother_nik = Some(GIRL_NIK.into());
    assert_eq!(kinds_of(&[mothers]), vec![]);
}

#[test]
fn registrations_typing_different_birth_dates_are_flagged_with_every_date() {
    let found = flags_with(
        &[
            reg(d(2022, 11, 3), Sex::P, None),
            reg(d(2022, 3, 11), Sex::P, None),
            reg(d(2022, 3, 11), Sex::P, None),
        ],
        &[],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&found), vec![FlagKind::BirthDateVsRegistrations]);
    let why = reason(&found, FlagKind::BirthDateVsRegistrations);
    assert!(
        why.contains("2022-03-11 (2×)") && why.contains("2022-11-03 (1×)"),
        "{why}"
    );
}

#[test]
fn sex_disagreeing_between_registrations_or_with_a_nik_dated_as_typed_is_flagged() {
    let found = flags_with(
        &[reg(born(), Sex::P, None), reg(born(), Sex::L, None)],
        &[],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&found), vec![FlagKind::SexDisagrees]);
    assert!(
        reason(&found, FlagKind::SexDisagrees).contains("L 1×, P 1×"),
        "{found:?}"
    );
    // One registration, a boy, carrying a girl's NIK dated as typed.
    let found = flags_with(
        &[reg(d(2023, 5, 17), Sex::L, Some(GIRL_NIK))],
        &[],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&found), vec![FlagKind::SexDisagrees]);
    assert!(
        reason(&found, FlagKind::SexDisagrees).contains("berbeda dengan NIK (P)"),
        "{found:?}"
    );
    // The same NIK dated otherwise than typed: more likely a sibling's, so
    // its sex part is no question; the dates are.
    assert_eq!(
        kinds_of(&[reg(d(2023, 3, 7), Sex::L, Some(GIRL_NIK))]),
        vec![FlagKind::BirthDateVsNik]
    );
    // A sex check settles the choice, yet the registrations still disagree:
    // the flag stays (resolved by `resolve`, not hidden).
    let checked = flags_with(
        &[reg(born(), Sex::P, None), reg(born(), Sex::L, None)],
        &[check(
            Check::Sex {
                sex: Sex::L,
                source: DocumentSource::Akta,
            },
            Some(ROUND),
            "Bidan Sri",
            1,
        )],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&checked), vec![FlagKind::SexDisagrees]);
    // Likewise a boy typed with a girl's NIK, checked against the birth
    // certificate as a girl: the chosen sex now agrees with the NIK, but the
    // question stays on the record, answered, as the birth-date flags do.
    let checked = flags_with(
        &[reg(d(2023, 5, 17), Sex::L, Some(GIRL_NIK))],
        &[check(
            Check::Sex {
                sex: Sex::P,
                source: DocumentSource::Akta,
            },
            Some(ROUND),
            "Bidan Sri",
            1,
        )],
        0,
        &[august()],
        0,
    );
    assert_eq!(kinds(&checked), vec![FlagKind::SexDisagrees]);
    assert!(
        reason(&checked, FlagKind::SexDisagrees)
            .contains("Jenis kelamin (L) berbeda dengan NIK (P)"),
        "{checked:?}"
    );
}

/// Flags of a child born on [`born`] measured in July (`july`) and August.
fn july_august(july: Point, august: Point) -> Vec<FlagKind> {
    kinds(&flags_with(
        &[reg(born(), Sex::P, None)],
        &[],
        0,
        &[july, august],
        1,
    ))
}

fn july() -> Point {
    point(d(2024, 7, 10), (d(2024, 7, 10) - born()).num_days())
}

#[test]
fn haz_and_waz_jumps_beyond_the_limit_are_flagged_on_either_side() {
    let shifted = |haz: f64, waz: f64| Point {
        haz: Some(haz),
        waz: Some(waz),
        ..august()
    };
    // Exactly the limit is growth; beyond it is not.
    assert_eq!(
        july_august(july(), shifted(-1.0 - MAX_Z_JUMP, -0.5)),
        vec![]
    );
    assert_eq!(
        july_august(july(), shifted(-1.0 - MAX_Z_JUMP - 0.01, -0.5)),
        vec![FlagKind::HazJump]
    );
    assert_eq!(
        july_august(july(), shifted(-1.0, -0.5 + MAX_Z_JUMP + 0.01)),
        vec![FlagKind::WazJump]
    );
    // The neighbour after the round measurement counts as well, and the
    // reason gives both values the Indonesian way.
    let september = Point {
        date: d(2024, 9, 9),
        haz: Some(0.8),
        ..august()
    };
    let found = flags_with(
        &[reg(born(), Sex::P, None)],
        &[],
        0,
        &[august(), september],
        0,
    );
    assert_eq!(kinds(&found), vec![FlagKind::HazJump]);
    let why = reason(&found, FlagKind::HazJump);
    assert!(why.contains("−1,00") && why.contains("0,80"), "{why}");
    // A jump to or from an implausible measurement is that measurement's
    // flag, not a jump.
    let implausible_july = Point {
        haz: Some(-6.5),
        implausible: true,
        ..july()
    };
    assert_eq!(july_august(implausible_july, august()), vec![]);
}

#[test]
fn shrinking_beyond_the_limit_is_flagged() {
    let length = |mm: i64| Point {
        length_lying_mm: Some(mm),
        ..august()
    };
    assert_eq!(july_august(july(), length(800 - MAX_SHRINK_MM)), vec![]);
    assert_eq!(
        july_august(july(), length(800 - MAX_SHRINK_MM - 1)),
        vec![FlagKind::Shrinking]
    );
    assert_eq!(july_august(july(), length(830)), vec![], "growth");
    let found = flags_with(
        &[reg(born(), Sex::P, None)],
        &[],
        0,
        &[july(), length(780)],
        1,
    );
    assert!(
        reason(&found, FlagKind::Shrinking).contains("turun 2,0 cm"),
        "{found:?}"
    );
}

#[test]
fn an_implausible_round_measurement_is_flagged() {
    let odd = Point {
        implausible: true,
        ..august()
    };
    let found = flags_with(&[reg(born(), Sex::P, None)], &[], 0, &[odd], 0);
    assert_eq!(kinds(&found), vec![FlagKind::Implausible]);
    assert!(
        reason(&found, FlagKind::Implausible).contains("ukur ulang"),
        "{found:?}"
    );
    // An implausible neighbour is not the round measurement's flag.
    let odd_july = Point {
        implausible: true,
        ..july()
    };
    assert_eq!(july_august(odd_july, august()), vec![]);
}

#[test]
fn the_position_against_the_age_rule_is_flagged_at_the_24_month_boundary() {
    let at = |age_days: i64, standing: Option<bool>| {
        kinds(&flags_with(
            &[reg(born(), Sex::P, None)],
            &[],
            0,
            &[Point {
                age_days,
                standing,
                ..august()
            }],
            0,
        ))
    };
    let last_lying_day = STANDING_FROM_DAYS - 1;
    assert_eq!(
        at(last_lying_day, Some(true)),
        vec![FlagKind::PositionVsAge]
    );
    assert_eq!(at(last_lying_day, Some(false)), vec![]);
    assert_eq!(at(STANDING_FROM_DAYS, Some(true)), vec![]);
    assert_eq!(
        at(STANDING_FROM_DAYS, Some(false)),
        vec![FlagKind::PositionVsAge]
    );
    // No length measured: no position to question.
    assert_eq!(at(STANDING_FROM_DAYS, None), vec![]);
}

#[test]
fn a_pair_waiting_in_review_is_a_possible_duplicate() {
    let found = flags_with(&[reg(born(), Sex::P, None)], &[], 2, &[august()], 0);
    assert_eq!(kinds(&found), vec![FlagKind::PossibleDuplicate]);
    assert!(
        reason(&found, FlagKind::PossibleDuplicate).contains("duplikat dengan 2 anak lain"),
        "{found:?}"
    );
}

#[test]
fn each_kind_is_listed_once_in_the_fixed_order() {
    // A jump on both sides, shrinking, a placeholder date and a review pair.
    let jan = d(2022, 1, 1);
    let low = Point {
        haz: Some(-3.0),
        length_lying_mm: Some(780),
        ..august()
    };
    let september = Point {
        date: d(2024, 9, 9),
        ..august()
    };
    let found = flags_with(
        &[reg(jan, Sex::P, None)],
        &[],
        1,
        &[july(), low, september],
        1,
    );
    assert_eq!(
        kinds(&found),
        vec![
            FlagKind::PlaceholderBirthDate,
            FlagKind::HazJump,
            FlagKind::Shrinking,
            FlagKind::PossibleDuplicate,
        ]
    );
}

/// Which checks answer which flags, by the rule in `resolved_by`.
#[test]
fn each_check_answers_the_flags_it_can_settle() {
    use FlagKind as K;
    let birth = Check::BirthDate {
        date: born(),
        source: DocumentSource::Kk,
    };
    let sex = Check::Sex {
        sex: Sex::L,
        source: DocumentSource::Akta,
    };
    let remeasured = Check::Remeasured {
        measurement: MeasurementId::new(),
    };
    let answered = |c: &Check| -> Vec<FlagKind> {
        FlagKind::ALL
            .into_iter()
            .filter(|k| k.resolved_by(c))
            .collect()
    };
    assert_eq!(
        answered(&birth),
        vec![
            K::PlaceholderBirthDate,
            K::BirthDateVsNik,
            K::BirthDateVsRegistrations
        ]
    );
    assert_eq!(answered(&sex), vec![K::SexDisagrees]);
    assert_eq!(
        answered(&remeasured),
        vec![
            K::HazJump,
            K::WazJump,
            K::Shrinking,
            K::Implausible,
            K::PositionVsAge
        ]
    );
    // A confirmation answers everything a person can confirm; a possible
    // duplicate only the review decision settles.
    let all_but_duplicate: Vec<FlagKind> = FlagKind::ALL
        .into_iter()
        .filter(|k| *k != K::PossibleDuplicate)
        .collect();
    assert_eq!(answered(&Check::Confirmed), all_but_duplicate);
}

/// One open flag of every kind.
fn every_flag() -> Vec<Flag> {
    FlagKind::ALL
        .into_iter()
        .map(|kind| Flag {
            kind,
            reason: String::new(),
            resolved: None,
        })
        .collect()
}

/// The kinds `checks` answer in `round`, with who answered each.
fn resolved_in(checks: &[Verification], round: &str) -> Vec<(FlagKind, String)> {
    let mut flags = every_flag();
    resolve(&mut flags, checks, round);
    flags
        .into_iter()
        .filter_map(|f| f.resolved.map(|r| (f.kind, r)))
        .collect()
}

fn resolved_kinds(checks: &[Verification], round: &str) -> Vec<FlagKind> {
    resolved_in(checks, round)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

#[test]
fn a_remeasurement_answers_only_its_own_round() {
    let july_check = check(
        Check::Remeasured {
            measurement: MeasurementId::new(),
        },
        Some("2024-07"),
        "Kader Ani",
        1,
    );
    let checks = [july_check];
    assert_eq!(
        resolved_kinds(&checks, "2024-07"),
        vec![
            FlagKind::HazJump,
            FlagKind::WazJump,
            FlagKind::Shrinking,
            FlagKind::Implausible,
            FlagKind::PositionVsAge,
        ]
    );
    assert_eq!(
        resolved_kinds(&checks, "2024-08"),
        vec![],
        "the same flags in August stay open"
    );
}

#[test]
fn a_confirmation_answers_its_own_round_or_every_round_when_made_for_none() {
    let all_but_duplicate: Vec<FlagKind> = FlagKind::ALL
        .into_iter()
        .filter(|k| *k != FlagKind::PossibleDuplicate)
        .collect();
    let july = [check(Check::Confirmed, Some("2024-07"), "Bidan Sri", 1)];
    assert_eq!(resolved_kinds(&july, "2024-07"), all_but_duplicate);
    assert_eq!(resolved_kinds(&july, "2024-08"), vec![]);
    let any_round = [check(Check::Confirmed, None, "Bidan Sri", 1)];
    assert_eq!(resolved_kinds(&any_round, "2024-08"), all_but_duplicate);
    assert_eq!(resolved_kinds(&any_round, "2025-02"), all_but_duplicate);
}

#[test]
fn a_birth_date_or_sex_read_from_a_document_answers_for_good() {
    let february = [birth_date_check(born(), Some("2024-02"))];
    for round in ["2024-02", "2024-08", "2025-02"] {
        assert_eq!(
            resolved_kinds(&february, round),
            vec![
                FlagKind::PlaceholderBirthDate,
                FlagKind::BirthDateVsNik,
                FlagKind::BirthDateVsRegistrations,
            ],
            "{round}"
        );
    }
    let sex = [check(
        Check::Sex {
            sex: Sex::P,
            source: DocumentSource::Kk,
        },
        Some("2024-02"),
        "Bidan Sri",
        1,
    )];
    assert_eq!(
        resolved_kinds(&sex, "2024-08"),
        vec![FlagKind::SexDisagrees]
    );
}

#[test]
fn the_latest_answering_check_is_named() {
    let checks = [
        check(Check::Confirmed, Some(ROUND), "Kader Ani", 5),
        birth_date_check(born(), Some(ROUND)),
        // Later, but for another round: it answers nothing in August.
        check(Check::Confirmed, Some("2024-09"), "Kader Budi", 9),
    ];
    let got = resolved_in(&checks, ROUND);
    let by = |kind: FlagKind| {
        got.iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, who)| who.as_str())
    };
    assert_eq!(by(FlagKind::HazJump), Some("confirmed oleh Kader Ani"));
    // The confirmation (5) is later than the birth-date check (1).
    assert_eq!(
        by(FlagKind::PlaceholderBirthDate),
        Some("confirmed oleh Kader Ani")
    );
    assert_eq!(by(FlagKind::PossibleDuplicate), None);
    let only_birth = [birth_date_check(born(), Some(ROUND))];
    assert_eq!(
        resolved_in(&only_birth, ROUND)
            .first()
            .map(|(_, who)| who.clone()),
        Some("birth_date oleh Bidan Sri".to_owned())
    );
}
