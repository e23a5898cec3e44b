//! The Tumbuh record model, shared by the field client and the server.
//!
//! A child and everything measured of it is **one Automerge document**
//! ([`ChildDocument`]): the profile (name, sex, birth date, family fields) and
//! the measurements keyed by measurement UUID. Automerge is a CRDT, so the
//! copies that several kader and the bidan edit offline always merge without
//! losing an edit; concurrent edits of the same profile field are kept as a
//! visible conflict rather than silently dropped.
//!
//! Values in the document use integer units ([`Grams`], [`Millimetres`]) and
//! ISO dates as strings, so that every Automerge implementation reads them the
//! same way. Relational tables on either side are *derived* from these
//! documents and can always be rebuilt from them.
//!
//! The sync protocol itself ([`wire`], [`bundle`], documented in
//! `PROTOCOL.md`) is transport-independent: HTTP and file bundles carry the
//! same framed messages.
//!
//! This crate does no I/O.

pub mod area;
pub mod assessment;
pub mod bundle;
pub mod compact;
pub mod document;
pub mod error;
pub mod ids;
pub mod record;
pub mod units;
pub mod verification;
pub mod wire;

pub use area::{AreaCode, AreaError, AreaLevel, Scope};
pub use assessment::{
    LatestStatus, MeasurementAssessment, assess_child, growth_input, latest_status,
};
pub use document::{ChildDocument, DocumentChange, FieldConflict, SCHEMA_VERSION};
pub use error::DocumentError;
pub use ids::{ChildId, DeviceId, IdParseError, MeasurementId, VerificationId};
pub use record::{
    Child, Measurement, MeasurementInput, Position, Profile, ProfileField, Sex, Void,
};
pub use units::{Grams, Millimetres, UnitError};
pub use verification::{Check, DocumentSource, Verification};
