//! Identifiers: UUIDv7 newtypes for children, measurements and devices.
//!
//! UUIDv7 sorts by creation time, which keeps SQLite B-tree inserts local and
//! lets a person read roughly when a record was made. The newtypes stop a
//! measurement id from ever being passed where a child id belongs.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;
use uuid::Uuid;

/// An id that is not a UUID.
#[derive(Debug, Error)]
#[error(
    "`{input}` is not a valid id (expected a UUID such as 0190f5c4-8d2e-7b1a-9c3d-1e2f3a4b5c6d)"
)]
pub struct IdParseError {
    pub input: String,
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            /// The underlying UUID.
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
            /// Wraps an existing UUID.
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| IdParseError { input: s.to_string() })
            }
        }
    };
}

uuid_id!(
    /// Identifies one child (one Automerge document).
    ChildId
);
uuid_id!(
    /// Identifies one measurement inside a child's document.
    MeasurementId
);
uuid_id!(
    /// Identifies one recorded verification check inside a child's document.
    VerificationId
);
uuid_id!(
    /// Identifies a field device; its bytes are the device's Automerge actor id.
    DeviceId
);

impl DeviceId {
    /// The Automerge actor id of this device: every change it makes carries it.
    pub fn actor(&self) -> automerge::ActorId {
        automerge::ActorId::from(self.0.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = ChildId::new();
        let back: ChildId = id.to_string().parse().expect("parses");
        assert_eq!(id, back);
    }

    #[test]
    fn bad_id_is_an_error_that_names_the_input() {
        let err = "not-a-uuid"
            .parse::<MeasurementId>()
            .expect_err("must fail");
        assert!(err.to_string().contains("not-a-uuid"));
    }

    #[test]
    fn v7_ids_sort_by_creation() {
        let a = ChildId::new();
        let b = ChildId::new();
        assert!(a < b);
    }
}
