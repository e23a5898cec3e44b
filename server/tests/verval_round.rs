//! The verval round report on a small district worked out by hand.
//!
//! Twelve children in one kecamatan, two desa × two posyandu, round 2024-08
//! against 2024-07. Every expected number below was counted by hand from the
//! table in `district()`'s comment, not taken from the code.

use chrono::NaiveDate;
use tumbuh_server::verval::export::{PPGBM_HEADER, PpgbmRow, write_ppgbm_csv, write_ppgbm_xlsx};
use tumbuh_server::verval::{
    AreaRow, ChildStatus, Level, NikDisplay, RoundChild, RoundMeasurement, Transitions,
    VervalError, VervalReport, compute, write_csv, write_json, write_list_csv, write_table,
    write_xlsx,
};

const A1: &str = "353001000101";
const A2: &str = "353001000102";
const B1: &str = "353001000201";
const B2: &str = "353001000202";
const DESA_A: &str = "3530010001";
const DESA_B: &str = "3530010002";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

fn names(code: &str) -> Option<String> {
    let name = match code {
        "3530" => "Kab. Contoh",
        "353001" => "Sukamaju",
        DESA_A => "Suka",
        DESA_B => "Maju",
        A1 => "Melati 1",
        A2 => "Melati 2",
        B1 => "Mawar 1",
        B2 => "Mawar 2",
        _ => return None,
    };
    Some(name.to_owned())
}

/// A plausible measurement with all three z-scores.
fn m(id: &str, date: NaiveDate, posyandu: &str, haz: f64, waz: f64, whz: f64) -> RoundMeasurement {
    RoundMeasurement {
        id: id.to_owned(),
        date,
        round: None,
        posyandu: posyandu.to_owned(),
        haz: Some(haz),
        waz: Some(waz),
        whz: Some(whz),
        implausible: false,
        has_length: true,
        voided: false,
    }
}

fn child(
    id: &str,
    name: &str,
    home: &str,
    birth: NaiveDate,
    nik: Option<&str>,
    measurements: Vec<RoundMeasurement>,
) -> RoundChild {
    RoundChild {
        id: id.to_owned(),
        name: name.to_owned(),
        sex: if id.ends_with(['1', '3', '5', '7', '9']) {
            "P"
        } else {
            "L"
        }
        .to_owned(),
        birth_date: birth,
        nik: nik.map(str::to_owned),
        mother_name: format!("Ibu {name}"),
        address: Some(format!("Jl. {name}")),
        rt: Some("001".to_owned()),
        rw: Some("002".to_owned()),
        posyandu: home.to_owned(),
        registrations: 1,
        measurements,
    }
}

/// | child | home | 2024-07 (previous)       | 2024-08 (round)                                   |
/// |-------|------|--------------------------|---------------------------------------------------|
/// | c01 Ani     | A1 | A1 HAZ −2.4 (stunted)  | A1 HAZ −2.5 WAZ −1.8 WHZ −1.0 → still stunted      |
/// | c02 Budi    | A1 | A1 HAZ −2.2 (stunted)  | A1 HAZ −1.0 WAZ −0.5 WHZ 0.0 → recovered           |
/// | c03 Citra   | A1 | A1 HAZ −3.2 (stunted)  | — → not re-measured (at A1)                         |
/// | c04 Dedi    | A1 | —                      | A2 08-20 HAZ −2.1 and A1 08-05 HAZ −1.9: home wins  |
/// | c05 Eka     | A2 | A2 HAZ −2.5 (stunted)  | A2 implausible (HAZ −6.5) → flagged, unassessed     |
/// | c06 Fajar   | A2 | —                      | A2 voided HAZ −3.5; A2 HAZ −0.5 WAZ −0.4 WHZ −0.3   |
/// | c07 Gita    | A2 | —                      | A2 dated 09-02, round 2024-08: HAZ −3.1 WAZ −2.5 WHZ −2.2 → new |
/// | c08 Hadi    | B1 | A1 HAZ −1.5            | B1 HAZ −2.3 WAZ −2.1 WHZ −1.5 → new, moved (A → B)  |
/// | c09 Indah   | B1 | —                      | B1 weight only: WAZ −0.8                           |
/// | c10 Joko    | B2 | B2 HAZ −1.0            | dated 08-30 but round 2024-09 → not in the round    |
/// | c11 Kartika | B2 | B2 HAZ −2.7 (stunted)  | visiting A1: HAZ −2.6 WAZ −2.8 WHZ −2.5 → still, moved (B → A) |
/// | c12 Lukman  | B2 | B2 07-20 HAZ 0.3       | B2 HAZ 0.5 WAZ 0.2 WHZ −0.1                         |
fn district() -> Vec<RoundChild> {
    let mut c05_aug = m("m05b", d(2024, 8, 12), A2, -6.5, -4.0, -1.0);
    c05_aug.implausible = true;
    let mut c06_void = m("m06a", d(2024, 8, 12), A2, -3.5, -3.0, -3.0);
    c06_void.voided = true;
    let mut c07_sep = m("m07", d(2024, 9, 2), A2, -3.1, -2.5, -2.2);
    c07_sep.round = Some("2024-08".to_owned());
    let c09_aug = RoundMeasurement {
        haz: None,
        whz: None,
        has_length: false,
        ..m("m09", d(2024, 8, 15), B1, 0.0, -0.8, 0.0)
    };
    let mut c10_next = m("m10b", d(2024, 8, 30), B2, -1.0, -1.0, -1.0);
    c10_next.round = Some("2024-09".to_owned());
    let jul = |day| d(2024, 7, day);
    let aug = |day| d(2024, 8, day);
    vec![
        child(
            "c01",
            "Ani",
            A1,
            d(2022, 3, 1),
            Some("3530015001230012"),
            vec![
                m("m01a", jul(10), A1, -2.4, -1.7, -1.0),
                m("m01b", aug(10), A1, -2.5, -1.8, -1.0),
            ],
        ),
        child(
            "c02",
            "Budi",
            A1,
            d(2022, 4, 1),
            None,
            vec![
                m("m02a", jul(10), A1, -2.2, -1.0, 0.0),
                m("m02b", aug(10), A1, -1.0, -0.5, 0.0),
            ],
        ),
        child(
            "c03",
            "Citra",
            A1,
            d(2021, 5, 1),
            None,
            vec![m("m03a", jul(10), A1, -3.2, -2.0, -0.5)],
        ),
        child(
            "c04",
            "Dedi",
            A1,
            d(2023, 1, 1),
            None,
            vec![
                m("m04x", aug(20), A2, -2.1, -1.2, -0.6),
                m("m04y", aug(5), A1, -1.9, -1.0, -0.5),
            ],
        ),
        child(
            "c05",
            "Eka",
            A2,
            d(2022, 9, 9),
            None,
            vec![m("m05a", jul(12), A2, -2.5, -1.5, -0.5), c05_aug],
        ),
        child(
            "c06",
            "Fajar",
            A2,
            d(2023, 2, 2),
            None,
            vec![c06_void, m("m06b", aug(3), A2, -0.5, -0.4, -0.3)],
        ),
        child("c07", "Gita", A2, d(2022, 6, 15), None, vec![c07_sep]),
        child(
            "c08",
            "Hadi",
            B1,
            d(2021, 12, 24),
            Some("3530014107220003"),
            vec![
                m("m08a", jul(10), A1, -1.5, -1.5, -1.0),
                m("m08b", aug(15), B1, -2.3, -2.1, -1.5),
            ],
        ),
        child("c09", "Indah", B1, d(2023, 6, 6), None, vec![c09_aug]),
        child(
            "c10",
            "Joko",
            B2,
            d(2022, 1, 1),
            None,
            vec![m("m10a", jul(18), B2, -1.0, -1.0, -1.0), c10_next],
        ),
        child(
            "c11",
            "Kartika",
            B2,
            d(2022, 11, 11),
            None,
            vec![
                m("m11a", jul(18), B2, -2.7, -2.0, -1.0),
                m("m11b", aug(10), A1, -2.6, -2.8, -2.5),
            ],
        ),
        child(
            "c12",
            "Lukman",
            B2,
            d(2022, 2, 2),
            None,
            vec![
                m("m12a", jul(20), B2, 0.3, 0.2, 0.0),
                m("m12b", aug(18), B2, 0.5, 0.2, -0.1),
            ],
        ),
    ]
}

fn report() -> VervalReport {
    compute(
        &district(),
        "2024-08",
        Some("2024-07"),
        None,
        NikDisplay::Masked,
        &names,
    )
    .expect("report")
}

fn row<'a>(report: &'a VervalReport, level: Level, code: &str) -> &'a AreaRow {
    report
        .levels
        .iter()
        .find(|t| t.level == level)
        .and_then(|t| t.rows.iter().find(|r| r.code == code))
        .unwrap_or_else(|| panic!("no {level:?} row {code}"))
}

/// (register, measured, flagged, stunting cases/denominator, severe, wasting cases/denominator,
/// underweight cases/denominator)
type Counts = (
    usize,
    usize,
    usize,
    (usize, usize),
    usize,
    (usize, usize),
    (usize, usize),
);

fn counts(row: &AreaRow) -> Counts {
    let rate =
        |r: Option<&tumbuh_server::verval::Rate>| r.map_or((0, 0), |r| (r.cases, r.denominator));
    (
        row.register,
        row.measured,
        row.flagged,
        rate(row.stunting_prevalence.as_ref()),
        row.severely_stunted,
        rate(row.wasting_prevalence.as_ref()),
        rate(row.underweight_prevalence.as_ref()),
    )
}

fn t(
    new: usize,
    still: usize,
    recovered: usize,
    not_remeasured: usize,
    unassessed: usize,
    moved: usize,
) -> Transitions {
    Transitions {
        new,
        still_stunted: still,
        recovered,
        not_remeasured,
        unassessed,
        moved,
    }
}

#[test]
fn posyandu_counts_follow_the_counting_rule() {
    let r = report();
    // A1: register c01–c04 = 4. Measured: c01, c02, c04 (its home measurement, not the later
    // one at A2), c11 (visiting) = 4; c03 not measured. HAZ: −2.5, −1.0, −1.9, −2.6 → 2 of 4
    // stunted, none severe. WHZ: −1.0, 0.0, −0.5, −2.5 → 1/4. WAZ: −1.8, −0.5, −1.0, −2.8 → 1/4.
    assert_eq!(
        counts(row(&r, Level::Posyandu, A1)),
        (4, 4, 0, (2, 4), 0, (1, 4), (1, 4))
    );
    // A2: register c05–c07 = 3; measured c05 (flagged), c06 (non-voided one), c07 (September
    // date, August round) = 3. HAZ usable: c06 −0.5, c07 −3.1 → 1/2, 1 severe. WHZ −0.3, −2.2
    // → 1/2. WAZ −0.4, −2.5 → 1/2. c04's A2 measurement does not count here.
    assert_eq!(
        counts(row(&r, Level::Posyandu, A2)),
        (3, 3, 1, (1, 2), 1, (1, 2), (1, 2))
    );
    // B1: register c08, c09; measured both. HAZ only c08 (−2.3) → 1/1; WHZ c08 −1.5 → 0/1;
    // WAZ −2.1, −0.8 → 1/2.
    assert_eq!(
        counts(row(&r, Level::Posyandu, B1)),
        (2, 2, 0, (1, 1), 0, (0, 1), (1, 2))
    );
    // B2: register c10–c12 = 3; measured c12 only (c10's August-dated one is round 2024-09,
    // c11 was measured at A1). HAZ 0.5 → 0/1; WHZ −0.1 → 0/1; WAZ 0.2 → 0/1.
    assert_eq!(
        counts(row(&r, Level::Posyandu, B2)),
        (3, 1, 0, (0, 1), 0, (0, 1), (0, 1))
    );
    assert_eq!(row(&r, Level::Posyandu, B2).coverage, Some(1.0 / 3.0));
    assert_eq!(
        row(&r, Level::Posyandu, A1).name.as_deref(),
        Some("Melati 1")
    );
}

#[test]
fn desa_and_district_totals_add_up() {
    let r = report();
    // Desa A = A1 + A2; desa B = B1 + B2.
    assert_eq!(
        counts(row(&r, Level::Desa, DESA_A)),
        (7, 7, 1, (3, 6), 1, (2, 6), (2, 6))
    );
    assert_eq!(
        counts(row(&r, Level::Desa, DESA_B)),
        (5, 3, 0, (1, 2), 0, (0, 2), (1, 3))
    );
    // Kecamatan, kabupaten and the total: everything. 12 children, 10 measured (c03, c10 not),
    // 1 flagged, stunted 4 of 8 with a HAZ (c09 weight only, c05 flagged).
    let all = (12, 10, 1, (4, 8), 1, (2, 8), (3, 9));
    assert_eq!(counts(row(&r, Level::Kecamatan, "353001")), all);
    assert_eq!(counts(row(&r, Level::Kabupaten, "3530")), all);
    assert_eq!(counts(&r.total), all);
    assert_eq!(r.total.coverage, Some(10.0 / 12.0));
    assert_eq!(r.levels.len(), 4);
    // 4/8: Wilson 0.2152–0.7848 (by hand: centre 0.5, half-width 0.28478).
    let p = r.total.stunting_prevalence.expect("rate");
    assert!((p.value - 0.5).abs() < 1e-12);
    assert!((p.low - 0.2152).abs() < 5e-5, "{}", p.low);
    assert!((p.high - 0.7848).abs() < 5e-5, "{}", p.high);
    // 2/4 at A1: 0.1500–0.8500.
    let p = row(&r, Level::Posyandu, A1)
        .stunting_prevalence
        .expect("rate");
    assert!(
        (p.low - 0.1500).abs() < 5e-5 && (p.high - 0.8500).abs() < 5e-5,
        "{p:?}"
    );
}

#[test]
fn transitions_against_the_previous_round() {
    let r = report();
    // A1: still c01 and c11 (visiting, moved B → A), recovered c02, not re-measured c03
    // (counted at its July posyandu A1).
    assert_eq!(
        row(&r, Level::Posyandu, A1).transitions,
        Some(t(0, 2, 1, 1, 0, 1))
    );
    // A2: new c07 (not measured in July), unassessed c05 (stunted in July, flagged now).
    assert_eq!(
        row(&r, Level::Posyandu, A2).transitions,
        Some(t(1, 0, 0, 0, 1, 0))
    );
    // B1: new c08 (July HAZ −1.5), moved (July at A1).
    assert_eq!(
        row(&r, Level::Posyandu, B1).transitions,
        Some(t(1, 0, 0, 0, 0, 1))
    );
    assert_eq!(
        row(&r, Level::Posyandu, B2).transitions,
        Some(t(0, 0, 0, 0, 0, 0))
    );
    assert_eq!(r.transitions, Some(t(2, 2, 1, 1, 1, 2)));
    assert_eq!(r.total.transitions, r.transitions);
}

#[test]
fn the_stunted_list_is_by_posyandu_then_name() {
    let r = report();
    let list: Vec<_> = r
        .stunted_list
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                c.posyandu.as_str(),
                c.category.as_str(),
                c.status,
                c.moved,
            )
        })
        .collect();
    assert_eq!(
        list,
        [
            ("c01", A1, "pendek", Some(ChildStatus::StillStunted), false),
            ("c11", A1, "pendek", Some(ChildStatus::StillStunted), true),
            ("c07", A2, "sangat pendek", Some(ChildStatus::New), false),
            ("c08", B1, "pendek", Some(ChildStatus::New), true),
        ]
    );
    let gita = &r.stunted_list[2];
    // Born 2022-06-15, measured 2024-09-02: 731 + 79 = 810 days / 30.4375 = 26.6 → 26.
    assert_eq!(gita.age_months, 26);
    assert_eq!(gita.date, d(2024, 9, 2));
    assert_eq!(gita.haz, -3.1);
    assert_eq!(gita.posyandu_name.as_deref(), Some("Melati 2"));
    assert_eq!(r.stunted_list[0].nik.as_deref(), Some("3530********0012"));
    assert_eq!(r.stunted_list[3].nik.as_deref(), Some("3530********0003"));
    assert_eq!(r.stunted_list[2].nik, None);
    // The free-text address is withheld by default; RT/RW (area) stay.
    assert!(!r.revealed);
    assert!(
        r.stunted_list
            .iter()
            .chain(&r.not_remeasured_list)
            .all(|c| c.address.is_none()),
        "{:?}",
        r.stunted_list
    );
    assert_eq!(r.stunted_list[0].rt.as_deref(), Some("001"));
    assert_eq!(r.stunted_list[0].rw.as_deref(), Some("002"));

    let revealed = compute(
        &district(),
        "2024-08",
        None,
        None,
        NikDisplay::Revealed,
        &names,
    )
    .expect("report");
    assert_eq!(
        revealed.stunted_list[0].nik.as_deref(),
        Some("3530015001230012")
    );
    assert!(revealed.revealed);
    assert_eq!(
        revealed.stunted_list[0].address.as_deref(),
        Some("Jl. Ani"),
        "revealed: the address too"
    );
    assert_eq!(revealed.stunted_list[0].status, None);
    assert_eq!(revealed.transitions, None);
    assert_eq!(revealed.total.transitions, None);
}

#[test]
fn an_area_filter_keeps_its_levels_and_attributions() {
    let r = compute(
        &district(),
        "2024-08",
        Some("2024-07"),
        Some(DESA_A),
        NikDisplay::Masked,
        &names,
    )
    .expect("report");
    assert_eq!(
        r.levels.iter().map(|t| t.level).collect::<Vec<_>>(),
        [Level::Desa, Level::Posyandu]
    );
    assert_eq!(r.area_name.as_deref(), Some("Suka"));
    assert_eq!(counts(&r.total), (7, 7, 1, (3, 6), 1, (2, 6), (2, 6)));
    // c08's move is counted where it was measured now (desa B), so not here.
    assert_eq!(r.transitions, Some(t(1, 2, 1, 1, 1, 1)));
    let ids: Vec<_> = r.stunted_list.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c01", "c11", "c07"]);
    assert_eq!(
        r.levels[1]
            .rows
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>(),
        [A1, A2]
    );
}

#[test]
fn bad_rounds_are_refused_with_a_hint() {
    let err = compute(
        &district(),
        "2024-13",
        None,
        None,
        NikDisplay::Masked,
        &names,
    )
    .expect_err("bad round");
    assert_eq!(err.to_string(), "`2024-13` is not a round: use YYYY-MM");
    let err = compute(
        &district(),
        "2024-08",
        Some("2024-09"),
        None,
        NikDisplay::Masked,
        &names,
    )
    .expect_err("previous after");
    assert!(
        matches!(err, VervalError::PreviousNotBefore { .. }),
        "{err}"
    );
}

#[test]
fn csv_parses_back_with_the_numbers() {
    let r = report();
    let mut out = Vec::new();
    write_csv(&r, &mut out).expect("csv");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "level");
    assert_eq!(header.len(), 29);
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    // total + 1 kabupaten + 1 kecamatan + 2 desa + 4 posyandu
    assert_eq!(records.len(), 9);
    let a1 = records
        .iter()
        .find(|rec| &rec[0] == "posyandu" && &rec[1] == A1)
        .expect("A1 row");
    assert_eq!(&a1[col("name")], "Melati 1");
    assert_eq!(&a1[col("register")], "4");
    assert_eq!(&a1[col("measured")], "4");
    assert_eq!(&a1[col("coverage")], "1.0000");
    assert_eq!(&a1[col("stunted")], "2");
    assert_eq!(&a1[col("stunting_denominator")], "4");
    assert_eq!(&a1[col("stunting_prevalence")], "0.5000");
    assert_eq!(&a1[col("stunting_low")], "0.1500");
    assert_eq!(&a1[col("stunting_high")], "0.8500");
    assert_eq!(&a1[col("still_stunted")], "2");
    assert_eq!(&a1[col("not_remeasured")], "1");
    let total = &records[0];
    assert_eq!(
        (&total[0], &total[col("measured")], &total[col("flagged")]),
        ("total", "10", "1")
    );

    let mut out = Vec::new();
    write_list_csv(&r, &mut out).expect("list csv");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header = reader.headers().expect("header").clone();
    let nik = header.iter().position(|h| h == "nik").expect("nik column");
    let status = header
        .iter()
        .position(|h| h == "status")
        .expect("status column");
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(records.len(), 4);
    assert_eq!(&records[0][nik], "3530********0012");
    assert_eq!(&records[2][status], "new");
    assert!(!String::from_utf8_lossy(&out).contains("3530015001230012"));
    // The address column is kept, empty: withheld unless revealed.
    let address = header
        .iter()
        .position(|h| h == "address")
        .expect("address column");
    assert!(records.iter().all(|rec| rec[address].is_empty()));
    assert!(!String::from_utf8_lossy(&out).contains("Jl. "));
}

#[test]
fn json_parses_back() {
    let r = report();
    let mut out = Vec::new();
    write_json(&r, &mut out).expect("json");
    let back: VervalReport = serde_json::from_slice(&out).expect("parses");
    assert_eq!(back.round, "2024-08");
    assert_eq!(back.previous.as_deref(), Some("2024-07"));
    assert_eq!(counts(&back.total), counts(&r.total));
    assert_eq!(back.stunted_list.len(), 4);
    assert_eq!(back.transitions, r.transitions);
    let value: serde_json::Value = serde_json::from_slice(&out).expect("value");
    assert_eq!(value["levels"][3]["level"], "posyandu");
    assert_eq!(value["stunted_list"][2]["status"], "new");
}

#[test]
fn table_is_aligned_and_masks_nik() {
    let r = report();
    let mut out = Vec::new();
    write_table(&r, &mut out).expect("table");
    let text = String::from_utf8(out).expect("utf-8");
    assert!(
        text.starts_with("Verval round 2024-08 (against 2024-07)"),
        "{text}"
    );
    for heading in [
        "Kabupaten",
        "Kecamatan",
        "Desa",
        "Posyandu",
        "Stunted children (4)",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(heading)),
            "{heading}\n{text}"
        );
    }
    assert!(text.contains("50.0 (15.0-85.0)"), "{text}");
    assert!(text.contains("3530********0012"));
    assert!(!text.contains("3530015001230012"));
    assert!(!text.contains("Jl. "), "addresses withheld: {text}");
    assert!(text.contains("addresses withheld"), "and said so: {text}");
    // In the posyandu block, the header and every row put `register` at the same column end.
    let block: Vec<&str> = text
        .split("\n\n")
        .find(|b| b.starts_with("Posyandu"))
        .expect("posyandu block")
        .lines()
        .skip(1)
        .collect();
    let end = block[0].find("register").expect("register") + "register".len();
    for line in &block[1..] {
        let before = &line[..end];
        assert!(before.ends_with(|c: char| c.is_ascii_digit()), "{line}");
    }
}

#[test]
fn xlsx_reads_back() {
    use calamine::{Data, Reader, open_workbook_auto};
    let r = report();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("verval.xlsx");
    write_xlsx(&r, &path).expect("xlsx");
    let bytes = std::fs::read(&path).expect("read");
    assert!(bytes.starts_with(b"PK"));
    let mut book = open_workbook_auto(&path).expect("opens");
    assert_eq!(
        book.sheet_names(),
        [
            "Total",
            "Kabupaten",
            "Kecamatan",
            "Desa",
            "Posyandu",
            "Stunted"
        ]
    );
    let sheet = book.worksheet_range("Posyandu").expect("posyandu sheet");
    assert_eq!(sheet.get((0, 0)), Some(&Data::String("code".to_owned())));
    assert_eq!(sheet.get((1, 0)), Some(&Data::String(A1.to_owned())));
    assert_eq!(sheet.get((1, 2)), Some(&Data::Float(4.0)));
    assert_eq!(sheet.get((1, 9)), Some(&Data::Float(0.5)));
    let list = book.worksheet_range("Stunted").expect("list sheet");
    assert_eq!(
        list.get((1, 5)),
        Some(&Data::String("3530********0012".to_owned()))
    );
    assert_eq!(list.get((3, 14)), Some(&Data::Float(-3.1)));
    assert_eq!(list.get((0, 7)), Some(&Data::String("address".to_owned())));
    assert!(
        (1..=4).all(|row| !matches!(list.get((row, 7)), Some(Data::String(a)) if !a.is_empty())),
        "addresses withheld"
    );
}

fn ppgbm_rows() -> Vec<PpgbmRow> {
    vec![PpgbmRow {
        nik: Some("0530015001230012".to_owned()),
        nama: "Gita".to_owned(),
        jk: "P".to_owned(),
        tgl_lahir: d(2022, 6, 15),
        bb_lahir_kg: Some(3.1),
        tb_lahir_cm: Some(49.0),
        nama_ortu: "Ibu Gita".to_owned(),
        prov: "Jawa Timur".to_owned(),
        kab_kota: "Kab. Contoh".to_owned(),
        kec: "Sukamaju".to_owned(),
        puskesmas: "Sukamaju".to_owned(),
        desa_kel: "Suka".to_owned(),
        posyandu: "Melati 2".to_owned(),
        rt: Some("001".to_owned()),
        rw: Some("002".to_owned()),
        alamat: Some("Jl. Melati".to_owned()),
        tanggal_pengukuran: Some(d(2024, 9, 2)),
        berat_kg: Some(9.8),
        tinggi_cm: Some(80.5),
        cara_ukur: Some(growth::Position::Standing),
        lila_cm: None,
        waz: Some(-2.5),
        haz: Some(-3.1),
        whz: Some(-2.2),
        consent_by: Some("Sri (ibu)".into()),
        consent_on: Some("2024-03-04".into()),
    }]
}

#[test]
fn ppgbm_csv_has_eppgbm_columns() {
    let mut out = Vec::new();
    write_ppgbm_csv(&ppgbm_rows(), &mut out).expect("csv");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, PPGBM_HEADER);
    assert_eq!(header[11], "Pukesmas");
    let rec = reader.records().next().expect("a row").expect("parses");
    let cell = |name: &str| rec[header.iter().position(|h| h == name).expect(name)].to_owned();
    assert_eq!(cell("No"), "1");
    assert_eq!(cell("NIK"), "0530015001230012");
    // 2022-06-15 → 2024-09-02: 2 years, 2 months (to 08-15), 18 days.
    assert_eq!(cell("Usia Saat Ukur"), "2 Tahun - 2 Bulan - 18 Hari");
    assert_eq!(cell("Berat"), "9.8");
    assert_eq!(cell("Tinggi"), "80.5");
    assert_eq!(cell("Cara Ukur"), "Berdiri");
    assert_eq!(cell("LiLA"), "");
    assert_eq!(cell("BB/U"), "Berat Badan Kurang");
    assert_eq!(cell("ZS BB/U"), "-2.50");
    assert_eq!(cell("TB/U"), "Sangat Pendek");
    assert_eq!(cell("BB/TB"), "Gizi Kurang");
    assert_eq!(cell("ZS BB/TB"), "-2.20");
    assert_eq!(cell("Persetujuan Ortu"), "Sri (ibu)");
    assert_eq!(cell("Tgl Persetujuan"), "2024-03-04");
}

#[test]
fn ppgbm_xlsx_keeps_nik_as_text() {
    use calamine::{Data, Reader, open_workbook_auto};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ppgbm.xlsx");
    write_ppgbm_xlsx(&ppgbm_rows(), &path).expect("xlsx");
    let mut book = open_workbook_auto(&path).expect("opens");
    let sheet = book.worksheet_range("Status Gizi").expect("sheet");
    assert_eq!(
        sheet.get((0, 11)),
        Some(&Data::String("Pukesmas".to_owned()))
    );
    assert_eq!(
        sheet.get((1, 1)),
        Some(&Data::String("0530015001230012".to_owned()))
    );
    assert_eq!(sheet.get((1, 14)), Some(&Data::String("001".to_owned())));
    assert_eq!(sheet.get((1, 19)), Some(&Data::Float(9.8)));
    assert_eq!(sheet.get((1, 26)), Some(&Data::Float(-3.1)));
}

#[test]
fn every_level_adds_up_to_the_total() {
    for area in [None, Some("3530"), Some(DESA_B), Some(A1)] {
        let r = compute(
            &district(),
            "2024-08",
            Some("2024-07"),
            area,
            NikDisplay::Masked,
            &names,
        )
        .expect("report");
        for table in &r.levels {
            let sum = |f: fn(&AreaRow) -> usize| table.rows.iter().map(f).sum::<usize>();
            assert_eq!(
                sum(|r| r.register),
                r.total.register,
                "{area:?} {:?}",
                table.level
            );
            assert_eq!(
                sum(|r| r.measured),
                r.total.measured,
                "{area:?} {:?}",
                table.level
            );
            assert_eq!(
                sum(|r| r.flagged),
                r.total.flagged,
                "{area:?} {:?}",
                table.level
            );
            assert_eq!(
                sum(|r| r.stunted),
                r.total.stunted,
                "{area:?} {:?}",
                table.level
            );
            assert_eq!(
                sum(|r| r.transitions.map_or(0, |t| t.moved)),
                r.transitions.map_or(0, |t| t.moved)
            );
        }
        assert_eq!(r.stunted_list.len(), r.total.stunted, "{area:?}");
    }
}
