//! The server's storage, behind a trait.
//!
//! Handlers and commands only talk to [`Storage`], so a PostgreSQL backend
//! can be added beside [`sqlite::SqliteStorage`] without touching them. The
//! methods are whole operations (one sync exchange, one page of a snapshot),
//! each atomic: the backend runs it in one transaction, so a request cut or a
//! process killed half-way keeps nothing of it or all of it.
//!
//! Methods are blocking; the HTTP layer calls them on tokio's blocking pool.

pub mod sqlite;

use serde::Serialize;
use sync_protocol::wire::{
    RepairRequest, RepairResponse, SnapshotRequest, SnapshotResponse, SyncRequest, SyncResponse,
};
use sync_protocol::{AreaCode, ChildId, DeviceId, Scope};
use thiserror::Error;
use uuid::Uuid;

/// What a device is for; decides the size of its area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A posyandu cadre: one posyandu (12 digits).
    Kader,
    /// A village midwife: one desa (10 digits).
    Bidan,
    /// A puskesmas: the list of its desa (10 digits each).
    Puskesmas,
    /// The district health office: one kabupaten/kota (4 digits).
    District,
    /// Server administrator: everything.
    Admin,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Kader => "kader",
            Role::Bidan => "bidan",
            Role::Puskesmas => "puskesmas",
            Role::District => "district",
            Role::Admin => "admin",
        }
    }

    pub fn from_code(s: &str) -> Option<Role> {
        Some(match s {
            "kader" => Role::Kader,
            "bidan" => Role::Bidan,
            "puskesmas" => Role::Puskesmas,
            "district" => Role::District,
            "admin" => Role::Admin,
            _ => return None,
        })
    }

    /// Every role, for help texts.
    pub const ALL: [Role; 5] = [
        Role::Kader,
        Role::Bidan,
        Role::Puskesmas,
        Role::District,
        Role::Admin,
    ];

    /// Checks that `scope` has the shape this role is given.
    pub fn check_scope(self, scope: &Scope) -> Result<(), String> {
        let (digits, many) = match self {
            Role::Admin => return Ok(()),
            Role::Kader => (12, false),
            Role::Bidan => (10, false),
            Role::Puskesmas => (10, true),
            Role::District => (4, false),
        };
        let Scope::Areas(areas) = scope else {
            return Err(format!("a {} device needs an area", self.code()));
        };
        if areas.is_empty() || (!many && areas.len() != 1) {
            return Err(format!(
                "a {} device takes exactly one area code{}",
                self.code(),
                if many { " or more" } else { "" }
            ));
        }
        if let Some(bad) = areas.iter().find(|a| a.as_str().len() != digits) {
            return Err(format!(
                "a {} device's area is a {}-digit code, `{bad}` has {}",
                self.code(),
                digits,
                bad.as_str().len()
            ));
        }
        Ok(())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::from_code(&s.trim().to_ascii_lowercase()).ok_or_else(|| {
            format!("`{s}` is not a role: use kader, bidan, puskesmas, district or admin")
        })
    }
}

/// An enrolled device (or person holding an admin token).
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    #[serde(serialize_with = "scope_text")]
    pub scope: Scope,
    /// The field device's Automerge actor, once it has signed in.
    pub actor: Option<String>,
    pub created_at_ms: i64,
    pub last_sync_ms: Option<i64>,
    /// When the token stops working (none: never).
    pub expires_at_ms: Option<i64>,
    /// When the device was revoked; a revoked token is refused.
    pub revoked_at_ms: Option<i64>,
}

fn scope_text<S: serde::Serializer>(scope: &Scope, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&scope.to_text())
}

/// A device to enrol: its token hash and bundle key are made by the caller.
#[derive(Debug, Clone)]
pub struct NewEnrolment {
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub token_hash: [u8; 32],
    pub bundle_key: [u8; 32],
    pub expires_at_ms: Option<i64>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    /// The enrolment that acted (`admin-cli` for commands run on the server).
    pub who: String,
    /// What was done: `device.add`, `device.revoke`, `device.rotate`,
    /// `bundle.import`, `children.list`, `child.read`, `document.read`, ….
    pub action: String,
    /// What it was done to (an enrolment, a child, an area); ids only.
    pub target: String,
    /// Counts and parameters; never names, NIKs or measurements.
    pub detail: String,
}

/// A filter for the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since_ms: Option<i64>,
    pub who: Option<String>,
    pub action: Option<String>,
    pub limit: usize,
}

/// A child in a list.
#[derive(Debug, Clone, Serialize)]
pub struct ChildSummary {
    pub id: String,
    pub posyandu: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub mother_name: String,
    pub last_measured: Option<String>,
    /// Latest valid height-for-age z-score.
    pub last_haz: Option<f64>,
    /// Its Permenkes category code.
    pub last_tbu: Option<String>,
    pub stunted: bool,
    pub conflicts: u32,
}

/// One measurement with its z-scores and categories.
#[derive(Debug, Clone, Serialize)]
pub struct MeasurementRow {
    pub id: String,
    pub date: String,
    pub age_days: i64,
    pub weight_kg: Option<f64>,
    pub length_cm: Option<f64>,
    pub position: Option<String>,
    pub muac_cm: Option<f64>,
    pub oedema: bool,
    pub haz: Option<f64>,
    pub waz: Option<f64>,
    pub whz: Option<f64>,
    pub bmiz: Option<f64>,
    pub tbu: Option<String>,
    pub bbu: Option<String>,
    pub bbtb: Option<String>,
    pub imtu: Option<String>,
    pub implausible: bool,
    pub weight_gain: Option<String>,
    pub voided: Option<String>,
}

/// Two or more concurrent values of one profile field.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub child_id: String,
    pub posyandu: String,
    pub field: String,
    /// The value shown by default first, then the others.
    pub values: Vec<String>,
}

/// A child with its measurements.
#[derive(Debug, Clone, Serialize)]
pub struct ChildDetail {
    #[serde(flatten)]
    pub summary: ChildSummary,
    pub nik: Option<String>,
    pub no_kk: Option<String>,
    pub mother_nik: Option<String>,
    pub father_name: Option<String>,
    pub rt: Option<String>,
    pub rw: Option<String>,
    pub address: Option<String>,
    pub measurements: Vec<MeasurementRow>,
    /// The profile fields holding concurrent values (`conflicts` in the
    /// summary counts them).
    pub conflicting_fields: Vec<Conflict>,
}

/// Counts for `status` and the health endpoint.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stats {
    pub children: u64,
    pub changes: u64,
    pub last_seq: u64,
    /// Children whose projection lags behind their changes.
    pub pending_projection: u64,
    pub devices: u64,
}

/// What went wrong in storage.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database at {path} was made by a newer tumbuh-server (schema {found}, this one knows {known})"
    )]
    TooNew {
        path: String,
        found: i64,
        known: usize,
    },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("no such device: {0}")]
    NoSuchDevice(String),
}

/// The server's storage.
pub trait Storage: Send + Sync + 'static {
    /// Enrols a device.
    fn add_device(&self, new: NewEnrolment, now_ms: i64) -> Result<Enrolment, StorageError>;
    /// Every enrolment, revoked ones included.
    fn devices(&self) -> Result<Vec<Enrolment>, StorageError>;
    /// Revokes a device: its token stops working at once; what it synced is kept.
    fn revoke_device(&self, id: Uuid, now_ms: i64) -> Result<Enrolment, StorageError>;
    /// Gives a device a new token (hash and bundle key); the old one stops working.
    fn rotate_token(
        &self,
        id: Uuid,
        token_hash: [u8; 32],
        bundle_key: [u8; 32],
        expires_at_ms: Option<i64>,
    ) -> Result<Enrolment, StorageError>;
    /// Appends to the audit log.
    fn audit(
        &self,
        at_ms: i64,
        who: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StorageError>;
    /// Reads the audit log, oldest first.
    fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StorageError>;
    /// The enrolment a token hash belongs to, revoked or expired ones
    /// included (the caller refuses those with a clear message).
    fn authenticate(&self, token_hash: &[u8; 32]) -> Result<Option<Enrolment>, StorageError>;
    /// The enrolment and bundle key of a device, for bundles.
    fn bundle_key(&self, id: Uuid) -> Result<Option<(Enrolment, [u8; 32])>, StorageError>;
    /// Records the field device's actor id at sign-in.
    fn bind_actor(&self, id: Uuid, actor: DeviceId) -> Result<(), StorageError>;
    /// One sync exchange: store the upload, answer with acks and a page of
    /// the feed (one transaction).
    fn sync(
        &self,
        who: &Enrolment,
        request: &SyncRequest,
        max_page_bytes: usize,
        now_ms: i64,
    ) -> Result<SyncResponse, StorageError>;
    /// One page of the area snapshot for a new device.
    fn snapshot(
        &self,
        who: &Enrolment,
        request: &SnapshotRequest,
        max_page_bytes: usize,
    ) -> Result<SnapshotResponse, StorageError>;
    /// Finds and sends the children whose change sets differ.
    fn repair(
        &self,
        who: &Enrolment,
        request: &RepairRequest,
    ) -> Result<RepairResponse, StorageError>;
    /// Children in `scope` (optionally only inside `area`), by id, a page
    /// after `after`.
    fn children(
        &self,
        scope: &Scope,
        area: Option<&AreaCode>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ChildSummary>, StorageError>;
    /// One child, if it exists (the caller checks the scope on `posyandu`).
    fn child(&self, id: ChildId) -> Result<Option<ChildDetail>, StorageError>;
    /// A child's area and Automerge document (`save()` bytes).
    fn document(&self, id: ChildId) -> Result<Option<(String, Vec<u8>)>, StorageError>;
    /// Open conflicts in `scope`.
    fn conflicts(&self, scope: &Scope) -> Result<Vec<Conflict>, StorageError>;
    /// Brings the projection of up to `limit` children up to date; returns
    /// how many it projected.
    fn project_pending(&self, limit: usize) -> Result<usize, StorageError>;
    /// Counts.
    fn stats(&self) -> Result<Stats, StorageError>;
}
