//! Errors raised while reading or writing a child document.

use thiserror::Error;

/// What went wrong with a child document.
#[derive(Debug, Error)]
pub enum DocumentError {
    /// The bytes are not a valid Automerge document or change.
    #[error("not a valid Automerge document: {0}")]
    Automerge(Box<automerge::AutomergeError>),
    /// The document is valid Automerge but lacks a part every child document has.
    #[error("child document is missing `{0}`")]
    Missing(&'static str),
    /// A field holds a value of the wrong kind (e.g. text where a number belongs).
    #[error("child document field `{field}` has an invalid value: {reason}")]
    Invalid { field: String, reason: String },
    /// The document was written by a newer version of Tumbuh.
    #[error(
        "child document schema {found} is newer than this program understands ({supported}); update Tumbuh"
    )]
    TooNew { found: u64, supported: u64 },
    /// No measurement with this id in the child's document.
    #[error("measurement {0} not found in this child's record")]
    NoSuchMeasurement(String),
}

impl From<automerge::AutomergeError> for DocumentError {
    fn from(e: automerge::AutomergeError) -> Self {
        // Boxed: Automerge's error is large, and results travel on hot paths.
        Self::Automerge(Box::new(e))
    }
}
