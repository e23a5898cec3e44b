//! Finding the same child across registrations (record linkage) for Tumbuh.
//!
//! Posyandu data arrive from many devices, and the same child is often
//! registered more than once, with the name, birth date and NIK typed
//! afresh each time. This crate holds the pure building blocks (no I/O, no
//! clock) used by the field client for the duplicate warning at
//! registration, spelling-tolerant search and NIK checks, and later by the
//! full linkage engine:
//!
//! - [`names`]: Indonesian name normalisation, newborn placeholders
//!   ("By Ny Siti"), phonetic keys and a name similarity;
//! - [`nik`]: parsing and checking the 16-digit NIK;
//! - [`candidates`]: how much a new registration looks like an existing
//!   child, and whether it is likely the same one;
//! - [`engine`]: the district's batch linkage ([`link`]), built from
//!   [`record`], [`blocking`], [`compare`], [`scoring`] and [`cluster`].
//!
//! Everything is re-exported at the crate root.
//!
//! ```
//! use chrono::NaiveDate;
//! use linkage::{ChildKey, Nik, Sex, is_likely_same_child, likeness, name_similarity, normalize_name};
//!
//! assert_eq!(normalize_name("Moch. Rizky  PRATAMA"), "muhammad rizky pratama");
//! assert!(name_similarity("Muhammad Rizky", "M. Rizqi") >= 0.85);
//! assert!(name_similarity("Salma", "Salwa") < 0.85);
//!
//! let nik = Nik::parse("3530015507210012")?;
//! assert_eq!(nik.sex(), Some(Sex::Female));
//!
//! let born = NaiveDate::from_ymd_opt(2021, 7, 15);
//! let new = ChildKey { name: "Aisah Putri", sex: Some(Sex::Female), birth_date: born,
//!     mother_name: Some("Ny. Siti Aminah"), nik: None };
//! let old = ChildKey { name: "AISYAH PUTRI", sex: Some(Sex::Female), birth_date: born,
//!     mother_name: Some("Siti Aminah"), nik: Some("3530015507210012") };
//! assert!(is_likely_same_child(&likeness(&new, &old)));
//! # Ok::<(), linkage::NikError>(())
//! ```

pub mod blocking;
pub mod candidates;
pub mod cluster;
pub mod compare;
pub mod engine;
pub mod names;
pub mod nik;
pub mod record;
pub mod scoring;

pub use candidates::{
    ChildKey, DIFFERENT_MOTHER_THRESHOLD, Likeness, LikenessReason, SIBLING_MIN_GAP_DAYS,
    SIMILAR_MOTHER_THRESHOLD, SIMILAR_NAME_THRESHOLD, SIMILAR_NAME_THRESHOLD_OTHER_SEX,
    is_likely_same_child, likely_candidates, likeness,
};
pub use engine::{Increment, LinkConfig, Linkage, ReviewPair, link, link_increment};
pub use names::{
    is_newborn_placeholder, mother_name_similarity, name_similarity, normalize_name, phonetic_key,
};
pub use nik::{Nik, NikError, NikWarning, Sex, check_nik_against_record};
pub use record::FieldRecord;
pub use scoring::Weights;
