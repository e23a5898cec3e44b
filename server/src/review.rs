//! The review queue as a person sees it: a doubtful pair side by side, field
//! by field, with the engine's evidence and both growth trajectories, and
//! the decisions on it. Shared by `tumbuh-server review` and `/v1/review`.
//!
//! The queue is ordered by what matters most for the coming verval round
//! ([`coming_round`]): a duplicate of a stunted child double-counts it in the
//! by-name list, and a child measured towards the round is one the round
//! will count.

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;
use sync_protocol::ChildId;

use crate::storage::{
    ChildDetail, MergeRecord, ReviewItem, Storage, StorageError, stored_child_id,
};
use crate::verval::mask_nik as mask_number;

/// The verval round a review decision matters for first, as of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComingRound {
    /// The round's month (February or August, *bulan timbang*), its first day.
    pub month: NaiveDate,
    /// The first day whose measurements count towards it: the first day of
    /// the month after the previous round (a measurement in the previous
    /// round's month belongs to that round).
    pub since: NaiveDate,
}

/// The coming verval round as of `today`: the next February or August on or
/// after today's month (in February or August, that month itself), and the
/// measurements since the previous round count towards it. On 6 December
/// 2026 the coming round is February 2027, counted from 1 September 2026;
/// on 10 March 2027 it is August 2027, counted from 1 March 2027.
#[must_use]
pub fn coming_round(today: NaiveDate) -> ComingRound {
    let (year, month) = match today.month() {
        1 | 2 => (today.year(), 2),
        3..=8 => (today.year(), 8),
        _ => (today.year() + 1, 2),
    };
    // Only out of chrono's range (years beyond ±262,000) could these fail;
    // then today itself is the least wrong answer.
    let month = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(today);
    let since = month.checked_sub_months(Months::new(5)).unwrap_or(month);
    ComingRound { month, since }
}

/// One identity field of both children.
#[derive(Debug, Clone, Serialize)]
pub struct FieldPair {
    pub field: &'static str,
    pub a: Option<String>,
    pub b: Option<String>,
    /// Equal after trimming and ignoring case (both empty counts as equal).
    pub same: bool,
}

/// A review pair with both children.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewView {
    #[serde(flatten)]
    pub item: ReviewItem,
    pub fields: Vec<FieldPair>,
    pub a: ChildDetail,
    pub b: ChildDetail,
}

fn field_pairs(a: &ChildDetail, b: &ChildDetail, reveal: bool) -> Vec<FieldPair> {
    let hide = |v: &Option<String>| -> Option<String> {
        v.as_ref()
            .map(|s| if reveal { s.clone() } else { mask_number(s) })
    };
    let pairs: Vec<(&'static str, Option<String>, Option<String>, bool)> = vec![
        (
            "name",
            Some(a.summary.name.clone()),
            Some(b.summary.name.clone()),
            false,
        ),
        (
            "sex",
            Some(a.summary.sex.clone()),
            Some(b.summary.sex.clone()),
            false,
        ),
        (
            "birth_date",
            Some(a.summary.birth_date.clone()),
            Some(b.summary.birth_date.clone()),
            false,
        ),
        (
            "mother_name",
            Some(a.summary.mother_name.clone()),
            Some(b.summary.mother_name.clone()),
            false,
        ),
        ("nik", a.nik.clone(), b.nik.clone(), true),
        ("no_kk", a.no_kk.clone(), b.no_kk.clone(), true),
        (
            "mother_nik",
            a.mother_nik.clone(),
            b.mother_nik.clone(),
            true,
        ),
        (
            "father_name",
            a.father_name.clone(),
            b.father_name.clone(),
            false,
        ),
        ("rt", a.rt.clone(), b.rt.clone(), false),
        ("rw", a.rw.clone(), b.rw.clone(), false),
        ("address", a.address.clone(), b.address.clone(), false),
        (
            "posyandu",
            Some(a.summary.posyandu.clone()),
            Some(b.summary.posyandu.clone()),
            false,
        ),
    ];
    pairs
        .into_iter()
        .map(|(field, va, vb, sensitive)| {
            let norm = |v: &Option<String>| {
                v.as_deref()
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty())
            };
            let same = norm(&va) == norm(&vb);
            let (a, b) = if sensitive {
                (hide(&va), hide(&vb))
            } else {
                (va, vb)
            };
            FieldPair { field, a, b, same }
        })
        .collect()
}

/// A review pair with both children side by side (`None`: no such pair),
/// its priority as of `today`. NIK and KK numbers are masked unless `reveal`.
pub fn view(
    storage: &dyn Storage,
    id: i64,
    reveal: bool,
    today: NaiveDate,
) -> Result<Option<ReviewView>, StorageError> {
    let Some(item) = storage.review(id, today)? else {
        return Ok(None);
    };
    let load = |s: &str| -> Result<ChildDetail, StorageError> {
        storage
            .child(stored_child_id(s)?)?
            .ok_or_else(|| StorageError::NoSuchChild(s.to_owned()))
    };
    let (mut a, mut b) = (load(&item.child_a)?, load(&item.child_b)?);
    let fields = field_pairs(&a, &b, reveal);
    if !reveal {
        for d in [&mut a, &mut b] {
            for v in [&mut d.nik, &mut d.no_kk, &mut d.mother_nik] {
                *v = v.as_deref().map(mask_number);
            }
        }
    }
    Ok(Some(ReviewView { item, fields, a, b }))
}

/// Accepts a pair: unless `survivor` names one of the two, the child that
/// already holds merged registrations survives (merges never chain, so it
/// could not be merged away itself), else the one measured most recently;
/// the other's measurements are copied into it. A pair whose two children
/// both hold merged registrations is refused with what to do (unmerge one
/// side first).
pub fn accept(
    storage: &dyn Storage,
    id: i64,
    survivor: Option<ChildId>,
    who: &str,
    now_ms: i64,
) -> Result<(ReviewItem, Option<MergeRecord>), StorageError> {
    let today = chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let item = storage
        .review(id, today)?
        .ok_or_else(|| StorageError::Refused(format!("no review pair number {id}")))?;
    let (a, b) = (
        stored_child_id(&item.child_a)?,
        stored_child_id(&item.child_b)?,
    );
    let (keep, drop) = match survivor {
        Some(s) if s == a => (a, b),
        Some(s) if s == b => (b, a),
        Some(s) => {
            return Err(StorageError::Refused(format!(
                "{s} is not one of the pair ({a}, {b})"
            )));
        }
        None => {
            let holding: std::collections::HashSet<String> = storage
                .merges(true)?
                .into_iter()
                .map(|m| m.survivor)
                .collect();
            let last = |c: ChildId| -> Result<Option<String>, StorageError> {
                Ok(storage.child(c)?.and_then(|d| d.summary.last_measured))
            };
            let (holds_a, holds_b) = (
                holding.contains(&item.child_a),
                holding.contains(&item.child_b),
            );
            if holds_b && !holds_a || holds_a == holds_b && last(b)? > last(a)? {
                (b, a)
            } else {
                (a, b)
            }
        }
    };
    storage.decide_review(id, Some((keep, drop)), who, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn the_coming_round_is_the_next_february_or_august() {
        // (today, round month, counted from)
        let cases = [
            (d(2026, 12, 6), d(2027, 2, 1), d(2026, 9, 1)),
            (d(2027, 1, 31), d(2027, 2, 1), d(2026, 9, 1)),
            (d(2027, 2, 28), d(2027, 2, 1), d(2026, 9, 1)),
            (d(2027, 3, 1), d(2027, 8, 1), d(2027, 3, 1)),
            (d(2027, 8, 31), d(2027, 8, 1), d(2027, 3, 1)),
            (d(2027, 9, 1), d(2028, 2, 1), d(2027, 9, 1)),
        ];
        for (today, month, since) in cases {
            assert_eq!(
                coming_round(today),
                ComingRound { month, since },
                "as of {today}"
            );
        }
    }
}
