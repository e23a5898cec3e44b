//! The review queue as a person sees it: a doubtful pair side by side, field
//! by field, with the engine's evidence and both growth trajectories, and
//! the decisions on it. Shared by `tumbuh-server review` and `/v1/review`.

use serde::Serialize;
use sync_protocol::ChildId;

use crate::storage::{
    ChildDetail, MergeRecord, ReviewItem, Storage, StorageError, stored_child_id,
};
use crate::verval::mask_nik as mask_number;

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

/// A review pair with both children side by side (`None`: no such pair).
/// NIK and KK numbers are masked unless `reveal`.
pub fn view(
    storage: &dyn Storage,
    id: i64,
    reveal: bool,
) -> Result<Option<ReviewView>, StorageError> {
    let Some(item) = storage.review(id)? else {
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

/// Accepts a pair: the child measured most recently survives (the other's
/// measurements are copied into it), unless `survivor` names one of the two.
pub fn accept(
    storage: &dyn Storage,
    id: i64,
    survivor: Option<ChildId>,
    who: &str,
    now_ms: i64,
) -> Result<(ReviewItem, Option<MergeRecord>), StorageError> {
    let item = storage
        .review(id)?
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
            let last = |c: ChildId| -> Result<Option<String>, StorageError> {
                Ok(storage.child(c)?.and_then(|d| d.summary.last_measured))
            };
            if last(b)? > last(a)? { (b, a) } else { (a, b) }
        }
    };
    storage.decide_review(id, Some((keep, drop)), who, now_ms)
}
