//! Deterministic synthetic measurements: a small PRNG and a generator of
//! realistic cases (sex, age, weight, length/height, position, oedema, …).
//!
//! Values are drawn as z-scores from a population shaped like Indonesian
//! survey data (mean HAZ about −1, WHZ about −0.3) and turned into
//! centimetres and kilograms with the WHO tables themselves
//! (`growth::tables`), so weights and heights sit around the WHO medians
//! with a realistic spread and the right correlation between them.

use std::io::Write;

use anyhow::Context as _;
use chrono::NaiveDate;
use growth::tables::{self, Lms, MonthPoint, WhzTable};
use growth::{Input, Position, Sex};

/// SplitMix64: tiny, fast, and identical on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Picks one element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The value at `z` SD of `lms`, falling back to the median where the LMS
/// curve is undefined (far tails with L < 0).
fn at_z(lms: Option<Lms>, z: f64) -> Option<f64> {
    let lms = lms?;
    let v = lms.sd(z);
    Some(if v.is_finite() && v > 0.0 { v } else { lms.m })
}

pub fn round_to(x: f64, step: f64) -> f64 {
    (x / step).round() * step
}

/// A z-score drawn around `mean` with `sd`; 0.3 % come from a much wider
/// distribution (typing errors, swapped digits) and get flagged downstream.
pub fn draw_z(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    if rng.chance(0.003) {
        (rng.normal() * 4.0).clamp(-7.5, 7.5)
    } else {
        (mean + sd * rng.normal()).clamp(-5.0, 5.0)
    }
}

/// Length/height (adjusted, i.e. what WHO's tables expect at this age) at `haz`.
pub fn length_at(sex: Sex, age_days: i64, haz: f64) -> Option<f64> {
    if age_days <= growth::age::WHO2006_LAST_DAY {
        at_z(tables::lhfa_2006(sex, age_days), haz)
    } else {
        at_z(
            MonthPoint::new(growth::age_months(age_days)).and_then(|at| tables::hfa_2007(sex, at)),
            haz,
        )
    }
}

/// Weight at `whz` for this length (under 5) or at BMI-for-age `whz` (5–19 years).
pub fn weight_at(sex: Sex, age_days: i64, length_cm: f64, whz: f64) -> Option<f64> {
    if age_days <= growth::age::WHO2006_LAST_DAY {
        let table = WhzTable::for_age_days(age_days);
        let (lo, hi) = table.range_cm();
        let l = length_cm.clamp(lo, hi);
        at_z(table.lms(sex, round_to(l, 0.1)), whz)
            .or_else(|| at_z(tables::wfa_2006(sex, age_days), whz))
    } else {
        let bmi = at_z(
            MonthPoint::new(growth::age_months(age_days)).and_then(|at| tables::bfa_2007(sex, at)),
            whz,
        )?;
        let h = length_cm / 100.0;
        Some(bmi * h * h)
    }
}

/// One realistic case. Ages: 88 % uniform over 0–1826 days (WHO 2006), 12 %
/// over 1827–6939 (WHO 2007). Length/height measured lying before day 731
/// and standing after, 10 % the other way round, 4 % position unknown.
/// 2 % without weight, 6 % without length/height, 1 % oedema; arm
/// circumference for 20 % of under-fives from 3 months, head circumference
/// for 10 % of under-twos.
/// One synthetic measurement, as a posyandu or survey would record it
/// (length as measured, before WHO's ±0.7 cm adjustment).
pub fn case(rng: &mut Rng) -> Input {
    let sex = if rng.chance(0.5) {
        Sex::Male
    } else {
        Sex::Female
    };
    let age_days = if rng.chance(0.12) {
        1827 + rng.below(6939 - 1827 + 1)
    } else {
        rng.below(1827)
    } as i64;
    let usual = if age_days < 731 {
        Position::Lying
    } else {
        Position::Standing
    };
    let other = if age_days < 731 {
        Position::Standing
    } else {
        Position::Lying
    };
    let r = rng.unit();
    let position = if r < 0.04 {
        None
    } else if r < 0.14 {
        Some(other)
    } else {
        Some(usual)
    };
    let haz = draw_z(rng, -1.0, 1.15);
    let whz = draw_z(rng, -0.3, 1.05);
    let adjusted = length_at(sex, age_days, haz);
    // What the kader reads off the board: WHO adds 0.7 cm to a standing
    // height before day 731 and takes 0.7 cm off a lying length from day 731.
    let measured = adjusted.map(|l| {
        match (
            position,
            age_days < 731,
            age_days <= growth::age::WHO2006_LAST_DAY,
        ) {
            (Some(Position::Standing), true, _) if growth::age_months(age_days) >= 9.0 => l - 0.7,
            (Some(Position::Lying), false, true) => l + 0.7,
            _ => l,
        }
    });
    let weight = adjusted.and_then(|l| weight_at(sex, age_days, l, whz));
    let weight_kg = weight
        .filter(|_| !rng.chance(0.02))
        .map(|w| round_to(w, 0.05));
    let lenhei_cm = measured
        .filter(|_| !rng.chance(0.06))
        .map(|l| round_to(l, 0.1));
    let oedema = rng.chance(0.01);
    let under_five = age_days <= growth::age::WHO2006_LAST_DAY;
    let muac_cm = if under_five && age_days >= 91 && rng.chance(0.20) {
        let z = draw_z(rng, -0.4, 1.0);
        at_z(tables::acfa_2006(sex, age_days), z).map(|c| round_to(c, 0.1))
    } else {
        None
    };
    let head_cm = if age_days < 731 && rng.chance(0.10) {
        let z = draw_z(rng, -0.3, 1.0);
        at_z(tables::hcfa_2006(sex, age_days), z).map(|c| round_to(c, 0.1))
    } else {
        None
    };
    Input {
        sex,
        age_days,
        weight_kg,
        lenhei_cm,
        position,
        oedema,
        muac_cm,
        head_cm,
    }
}

/// `n` cases from `seed`.
pub fn cases(seed: u64, n: usize) -> Vec<Input> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| case(&mut rng)).collect()
}

/// Writes `n` rows of `case_id,sex,dob,measure_date,weight_kg,lenhei_cm,measure,oedema`
/// (measurement dates spread over 2023–2024; blank cells for missing values).
pub fn write_csv(out: impl Write, seed: u64, n: usize) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let first = NaiveDate::from_ymd_opt(2023, 1, 1).context("bad base date")?;
    let mut rng = Rng::new(seed);
    writeln!(
        out,
        "case_id,sex,dob,measure_date,weight_kg,lenhei_cm,measure,oedema"
    )?;
    for i in 0..n {
        let c = case(&mut rng);
        let on = first + chrono::Days::new(rng.below(731));
        let dob = on - chrono::Days::new(c.age_days.unsigned_abs());
        write!(out, "C{i:07},{},{dob},{on},", c.sex.code())?;
        if let Some(w) = c.weight_kg {
            write!(out, "{w:.2}")?;
        }
        out.write_all(b",")?;
        if let Some(l) = c.lenhei_cm {
            write!(out, "{l:.1}")?;
        }
        out.write_all(b",")?;
        if let Some(p) = c.position {
            out.write_all(p.code().as_bytes())?;
        }
        out.write_all(if c.oedema { b",y\n" } else { b",n\n" })?;
    }
    out.flush()?;
    Ok(())
}

/// Given names for generated children (Indonesian, common).
pub const FIRST_NAMES: [&str; 24] = [
    "Siti", "Muhammad", "Nur", "Putri", "Rizki", "Aisyah", "Dewi", "Agus", "Budi", "Ahmad",
    "Fitri", "Dimas", "Ayu", "Rina", "Bayu", "Indah", "Eko", "Wahyu", "Adi", "Nabila", "Fajar",
    "Zahra", "Rafi", "Annisa",
];

/// Second names for generated children.
pub const LAST_NAMES: [&str; 16] = [
    "Aisyah",
    "Pratama",
    "Saputra",
    "Lestari",
    "Ramadhan",
    "Hidayat",
    "Wulandari",
    "Kurniawan",
    "Permata",
    "Nugroho",
    "Safitri",
    "Maulana",
    "Rahmawati",
    "Setiawan",
    "Anggraini",
    "Firmansyah",
];

/// Mothers' names for generated children.
pub const MOTHERS: [&str; 12] = [
    "Sri Wahyuni",
    "Siti Aminah",
    "Nur Hasanah",
    "Dewi Sartika",
    "Rini Susanti",
    "Eka Putri",
    "Yuli Astuti",
    "Lina Marlina",
    "Ani Suryani",
    "Tri Handayani",
    "Dian Puspita",
    "Wati Kusuma",
];

/// The profile of a generated child of `sex` born on `birth` at `posyandu`:
/// a drawn name, mother, RT and RW, no NIK.
pub fn child_profile(
    rng: &mut Rng,
    sex: Sex,
    birth: NaiveDate,
    posyandu: &str,
) -> sync_protocol::Profile {
    sync_protocol::Profile {
        name: format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&LAST_NAMES)),
        sex: if sex == Sex::Male {
            sync_protocol::Sex::L
        } else {
            sync_protocol::Sex::P
        },
        birth_date: birth,
        mother_name: rng.pick(&MOTHERS).to_string(),
        nik: None,
        no_kk: None,
        mother_nik: None,
        father_name: None,
        rt: Some(format!("{:03}", 1 + rng.below(12))),
        rw: Some(format!("{:03}", 1 + rng.below(6))),
        address: None,
        posyandu: posyandu.to_string(),
        desa: None,
        birth_weight: None,
        birth_length: None,
        consent_by: None,
        consent_on: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generation_is_deterministic_and_plausible() {
        let a = cases(7, 20_000);
        let b = cases(7, 20_000);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.age_days == y.age_days && x.weight_kg == y.weight_kg)
        );
        let older = a.iter().filter(|c| c.age_days > 1826).count();
        assert!((2_000..2_800).contains(&older), "{older}");
        let oedema = a.iter().filter(|c| c.oedema).count();
        assert!((120..300).contains(&oedema), "{oedema}");
        // Most cases get all four main z-scores, and few are flagged.
        let mut full = 0;
        let mut flagged = 0;
        for c in &a {
            let r = growth::assess(c);
            if r.haz.is_some() && r.waz.is_some() && r.bmiz.is_some() {
                full += 1;
            }
            if r.implausible() {
                flagged += 1;
            }
        }
        assert!(full > 15_000, "{full}");
        assert!(flagged < 600, "{flagged}");
    }

    #[test]
    fn csv_rows_have_eight_columns() {
        let mut buf = Vec::new();
        write_csv(&mut buf, 1, 100).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count(), 101);
        assert!(text.lines().all(|l| l.split(',').count() == 8));
    }
}
