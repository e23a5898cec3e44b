//! Monthly weight gain as in the Buku KIA / KMS: N (naik), T (tidak naik), O (not weighed last
//! month), B (first weighing), and 2T (T two months in a row: refer to the puskesmas).
//!
//! # Rules
//!
//! For each weighing, in date order:
//!
//! * **B** (*baru*) if there is no weighing on an earlier date at all.
//! * The *previous* weighing is the latest one in the **calendar month just before** the
//!   current weighing's calendar month (e.g. any date in March for a weighing on 2 April).
//!   If several share that latest date, the one given last in the input is used.
//! * **O** if there are earlier weighings but none in the previous calendar month (no N/T can be
//!   decided).
//! * Otherwise **N** if `weight − previous weight ≥ KBM`, else **T**, where KBM is
//!   [`kbm_grams`] at the child's [`completed_months`] on the current weighing's date (month 0
//!   uses 800 g; a weighing before birth is treated as month 0).
//! * `two_t` (2T) is set when the status is T and the previous-month weighing's own status was
//!   T as well.
//!
//! Two weighings in the same calendar month are each judged against the previous calendar
//! month; they are never compared with each other. A second weighing in the child's first
//! month of records is therefore O, not B (an earlier weighing exists). Weighings on the same
//! date are not "earlier" than each other.

use chrono::{Datelike, NaiveDate};

use crate::kbm::kbm_grams;

/// Calendar months completed from `birth` to `on` (birthday-based).
///
/// The m-th monthly anniversary is the same day-of-month m months after birth; when that day
/// does not exist (born on the 29th–31st), the anniversary is the 1st of the following month.
/// So for a child born on 31 January: 28/29 February → 0 months, 1 March → 1 month,
/// 30 April → 2 months, 1 May → 3 months. The result is the number of anniversaries on or
/// before `on`; negative if `on` is before `birth` (same rule backwards).
#[must_use]
pub fn completed_months(birth: NaiveDate, on: NaiveDate) -> i64 {
    let raw = month_key(on) - month_key(birth);
    let day_exists = NaiveDate::from_ymd_opt(on.year(), on.month(), birth.day()).is_some();
    if day_exists && on.day() >= birth.day() {
        raw
    } else {
        raw - 1
    }
}

/// Months since year 0, so that consecutive calendar months differ by 1.
fn month_key(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// Status of one weighing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightGainStatus {
    /// N: gain since last month ≥ KBM.
    Naik,
    /// T: gain since last month < KBM (including weight loss).
    TidakNaik,
    /// O: earlier weighings exist, but none in the previous calendar month.
    TidakDitimbangBulanLalu,
    /// B: first weighing.
    Baru,
}

impl WeightGainStatus {
    /// `"N"`, `"T"`, `"O"` or `"B"`, as written on the KMS.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            WeightGainStatus::Naik => "N",
            WeightGainStatus::TidakNaik => "T",
            WeightGainStatus::TidakDitimbangBulanLalu => "O",
            WeightGainStatus::Baru => "B",
        }
    }

    /// Indonesian label.
    #[must_use]
    pub fn label_id(&self) -> &'static str {
        match self {
            WeightGainStatus::Naik => "Naik",
            WeightGainStatus::TidakNaik => "Tidak naik",
            WeightGainStatus::TidakDitimbangBulanLalu => "Tidak ditimbang bulan lalu",
            WeightGainStatus::Baru => "Baru pertama kali ditimbang",
        }
    }

    /// English label.
    #[must_use]
    pub fn label_en(&self) -> &'static str {
        match self {
            WeightGainStatus::Naik => "Adequate gain",
            WeightGainStatus::TidakNaik => "Inadequate gain",
            WeightGainStatus::TidakDitimbangBulanLalu => "Not weighed last month",
            WeightGainStatus::Baru => "First weighing",
        }
    }
}

/// One weighing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weighing {
    pub date: NaiveDate,
    /// Weight in grams.
    pub weight_g: u32,
}

/// The judgement of one weighing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeightGain {
    pub status: WeightGainStatus,
    /// Weight minus the previous month's weight (g); `None` for B and O.
    pub gain_g: Option<i64>,
    /// KBM the gain was compared with (g); `None` for B and O.
    pub kbm_g: Option<u32>,
    /// 2T: T this month and T at the previous month's weighing. Refer to the puskesmas.
    pub two_t: bool,
}

/// Judges every weighing of one child. `weighings` may be in any order; the result has one
/// entry per weighing, in the same order as the input. See the module docs for the rules.
#[must_use]
pub fn weight_gain_series(birth: NaiveDate, weighings: &[Weighing]) -> Vec<WeightGain> {
    // Indices in date order (stable: ties keep input order).
    let mut order: Vec<usize> = (0..weighings.len()).collect();
    order.sort_by_key(|&i| weighings[i].date);

    let mut out: Vec<Option<WeightGain>> = vec![None; weighings.len()];
    for (pos, &i) in order.iter().enumerate() {
        let w = weighings[i];
        let key = month_key(w.date);
        // Sorted positions before `pos` with a strictly earlier date.
        let earlier = order[..pos].partition_point(|&j| weighings[j].date < w.date);
        // The latest weighing before the current calendar month, if it is in the month just before.
        let before_month = order[..pos].partition_point(|&j| month_key(weighings[j].date) < key);
        let previous = before_month
            .checked_sub(1)
            .map(|p| order[p])
            .filter(|&j| month_key(weighings[j].date) == key - 1);

        let judged = match previous {
            _ if earlier == 0 => WeightGain {
                status: WeightGainStatus::Baru,
                gain_g: None,
                kbm_g: None,
                two_t: false,
            },
            None => WeightGain {
                status: WeightGainStatus::TidakDitimbangBulanLalu,
                gain_g: None,
                kbm_g: None,
                two_t: false,
            },
            Some(j) => {
                let gain = i64::from(w.weight_g) - i64::from(weighings[j].weight_g);
                let months =
                    u32::try_from(completed_months(birth, w.date).max(0)).unwrap_or(u32::MAX);
                let kbm = kbm_grams(months);
                let status = if gain >= i64::from(kbm) {
                    WeightGainStatus::Naik
                } else {
                    WeightGainStatus::TidakNaik
                };
                let previous_t = out[j].is_some_and(|g| g.status == WeightGainStatus::TidakNaik);
                WeightGain {
                    status,
                    gain_g: Some(gain),
                    kbm_g: Some(kbm),
                    two_t: status == WeightGainStatus::TidakNaik && previous_t,
                }
            }
        };
        out[i] = Some(judged);
    }
    // Every slot was filled in the loop above; the fallback is never used.
    out.into_iter()
        .map(|g| {
            g.unwrap_or(WeightGain {
                status: WeightGainStatus::Baru,
                gain_g: None,
                kbm_g: None,
                two_t: false,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use WeightGainStatus::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn completed_months_birthday_based() {
        let b = d(2024, 1, 31);
        assert_eq!(completed_months(b, d(2024, 1, 31)), 0);
        assert_eq!(completed_months(b, d(2024, 2, 28)), 0);
        assert_eq!(completed_months(b, d(2024, 2, 29)), 0);
        assert_eq!(completed_months(b, d(2024, 3, 1)), 1);
        assert_eq!(completed_months(b, d(2024, 3, 30)), 1);
        assert_eq!(completed_months(b, d(2024, 3, 31)), 2);
        assert_eq!(completed_months(b, d(2024, 4, 30)), 2);
        assert_eq!(completed_months(b, d(2024, 5, 1)), 3);
        assert_eq!(completed_months(b, d(2025, 1, 31)), 12);
        // Ordinary day of month.
        let b = d(2023, 5, 15);
        assert_eq!(completed_months(b, d(2023, 6, 14)), 0);
        assert_eq!(completed_months(b, d(2023, 6, 15)), 1);
        assert_eq!(completed_months(b, d(2024, 5, 14)), 11);
        assert_eq!(completed_months(b, d(2024, 5, 15)), 12);
        // Born 29 Feb: 28 Feb next year is 11 months, 1 Mar is 12.
        let b = d(2024, 2, 29);
        assert_eq!(completed_months(b, d(2025, 2, 28)), 11);
        assert_eq!(completed_months(b, d(2025, 3, 1)), 12);
        // Before birth: negative.
        assert_eq!(completed_months(d(2024, 3, 10), d(2024, 3, 9)), -1);
    }

    #[test]
    fn series_covers_b_n_t_o_and_2t() {
        // Born 2024-01-10. Expected values worked out by hand from the rules:
        //  #  date        g     months  prev (g)       gain  KBM  status
        //  0  2024-01-20  3300  0       none at all    -     -    B
        //  1  2024-02-12  4200  1       #0 3300        900   800  N
        //  2  2024-03-11  5100  2       #1 4200        900   900  N (equal to KBM)
        //  3  2024-04-15  5700  3       #2 5100        600   800  T
        //  4  2024-05-10  6200  4       #3 5700        500   600  T, 2T (#3 was T)
        //  5  2024-07-10  6900  6       none in June   -     -    O
        //  6  2024-08-12  7200  7       #5 6900        300   400  T (not 2T: #5 was O)
        //  7  2024-09-10  7100  8       #6 7200       -100   300  T, 2T
        //  8  2024-10-09  7500  8       #7 7100        400   300  N (8 months: born on the 10th)
        let birth = d(2024, 1, 10);
        let ws = [
            (d(2024, 1, 20), 3300),
            (d(2024, 2, 12), 4200),
            (d(2024, 3, 11), 5100),
            (d(2024, 4, 15), 5700),
            (d(2024, 5, 10), 6200),
            (d(2024, 7, 10), 6900),
            (d(2024, 8, 12), 7200),
            (d(2024, 9, 10), 7100),
            (d(2024, 10, 9), 7500),
        ]
        .map(|(date, weight_g)| Weighing { date, weight_g });
        let want = [
            (Baru, None, None, false),
            (Naik, Some(900), Some(800), false),
            (Naik, Some(900), Some(900), false),
            (TidakNaik, Some(600), Some(800), false),
            (TidakNaik, Some(500), Some(600), true),
            (TidakDitimbangBulanLalu, None, None, false),
            (TidakNaik, Some(300), Some(400), false),
            (TidakNaik, Some(-100), Some(300), true),
            (Naik, Some(400), Some(300), false),
        ];
        let got = weight_gain_series(birth, &ws);
        assert_eq!(got.len(), want.len());
        for (k, (g, (status, gain, kbm, two_t))) in got.iter().zip(want).enumerate() {
            assert_eq!(
                (g.status, g.gain_g, g.kbm_g, g.two_t),
                (status, gain, kbm, two_t),
                "weighing #{k}"
            );
        }

        // Same result whatever the input order, reported in input order.
        let mut shuffled: Vec<(usize, Weighing)> = ws.iter().copied().enumerate().collect();
        shuffled.reverse();
        shuffled.swap(1, 5);
        let inputs: Vec<Weighing> = shuffled.iter().map(|(_, w)| *w).collect();
        let got2 = weight_gain_series(birth, &inputs);
        for (k, (orig, _)) in shuffled.iter().enumerate() {
            assert_eq!(got2[k], got[*orig], "shuffled position {k}");
        }
    }

    #[test]
    fn two_weighings_in_one_month() {
        // Born 2024-01-05. March has two weighings; each is judged against February (latest
        // February weighing = 2024-02-25, 5000 g). April is judged against the later March one.
        let birth = d(2024, 1, 5);
        let ws = [
            Weighing {
                date: d(2024, 2, 3),
                weight_g: 4000,
            }, // B
            Weighing {
                date: d(2024, 2, 25),
                weight_g: 5000,
            }, // O: earlier exists, none in January
            Weighing {
                date: d(2024, 3, 6),
                weight_g: 5900,
            }, // 2 mo, KBM 900, gain 900: N
            Weighing {
                date: d(2024, 3, 28),
                weight_g: 5500,
            }, // 2 mo, KBM 900, gain 500: T
            Weighing {
                date: d(2024, 4, 8),
                weight_g: 6000,
            }, // 3 mo, KBM 800, vs 5500: 500 → T, 2T
        ];
        let got: Vec<_> = weight_gain_series(birth, &ws)
            .iter()
            .map(|g| (g.status, g.gain_g, g.two_t))
            .collect();
        assert_eq!(
            got,
            [
                (Baru, None, false),
                (TidakDitimbangBulanLalu, None, false),
                (Naik, Some(900), false),
                (TidakNaik, Some(500), false),
                (TidakNaik, Some(500), true),
            ]
        );
    }

    #[test]
    fn empty_and_year_boundary() {
        assert!(weight_gain_series(d(2024, 1, 1), &[]).is_empty());
        // December → January is "the previous calendar month". Born 2023-06-01: on 2024-01-03
        // the child is 7 completed months, KBM 400.
        let ws = [
            Weighing {
                date: d(2023, 12, 30),
                weight_g: 8000,
            },
            Weighing {
                date: d(2024, 1, 3),
                weight_g: 8400,
            },
        ];
        let got = weight_gain_series(d(2023, 6, 1), &ws);
        assert_eq!(got[1].status, Naik);
        assert_eq!((got[1].gain_g, got[1].kbm_g), (Some(400), Some(400)));
    }

    #[test]
    fn codes_and_labels() {
        let codes: Vec<_> = [Naik, TidakNaik, TidakDitimbangBulanLalu, Baru]
            .iter()
            .map(WeightGainStatus::code)
            .collect();
        assert_eq!(codes, ["N", "T", "O", "B"]);
        assert_eq!(TidakNaik.label_id(), "Tidak naik");
    }
}
