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
use sync_protocol::{AreaCode, ChildId, DeviceId, MeasurementId, MeasurementInput, Profile, Scope};
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
    /// A person's session (`crate::people`), not a device: it may read and
    /// decide like a device of its role and area, but never sync.
    #[serde(skip)]
    pub person: bool,
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

/// Who the audit log names for commands run on the server itself.
pub const ADMIN_CLI: &str = "admin-cli";

/// A person who signs in with a password (`crate::people`).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    #[serde(serialize_with = "scope_text")]
    pub scope: Scope,
    pub created_at_ms: i64,
    pub disabled_at_ms: Option<i64>,
    /// Wrong passwords in a row since the last good one.
    pub failed_signins: i64,
    /// Sign-in refused until then after too many wrong passwords.
    pub locked_until_ms: Option<i64>,
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
    #[error("no such child: {0}")]
    NoSuchChild(String),
    #[error("{0}")]
    Refused(String),
}

/// A child id read back from a table; a malformed one means damaged data.
pub fn stored_child_id(text: &str) -> Result<ChildId, StorageError> {
    text.parse()
        .map_err(|_| StorageError::Corrupt(format!("bad child id in the database: {text}")))
}

/// A pair of children in one order, so (a, b) and (b, a) are one key (as
/// the `review` table stores pairs).
pub fn pair_key(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned())
    } else {
        (b.to_owned(), a.to_owned())
    }
}

/// One registration (identity) an import brings, with its measurements.
#[derive(Debug, Clone)]
pub struct IncomingRegistration {
    /// Derived from the identity fields, so a re-import finds it again.
    pub child: ChildId,
    pub profile: Profile,
    pub measurements: Vec<IncomingMeasurement>,
    /// External ids of rows without a measurement (registration only).
    pub bare_rows: Vec<String>,
}

/// One imported measurement, under the id derived from its external id.
#[derive(Debug, Clone)]
pub struct IncomingMeasurement {
    pub external_id: String,
    pub id: MeasurementId,
    pub input: MeasurementInput,
}

/// What an import stored.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ImportOutcome {
    pub children_created: usize,
    pub children_updated: usize,
    pub measurements_stored: usize,
    /// Rows whose external id was imported before (nothing stored twice).
    pub already_imported: usize,
}

/// Why and by whom two registrations are merged.
#[derive(Debug, Clone)]
pub struct MergeDecision {
    pub who: String,
    /// `auto` (the dedup run), `review` (an accepted review pair) or `manual`.
    pub source: &'static str,
    /// Match probability, when the engine scored the pair.
    pub score: Option<f64>,
    /// The comparison levels and weights that drove the decision.
    pub evidence: String,
}

/// A merge, active or undone.
#[derive(Debug, Clone, Serialize)]
pub struct MergeRecord {
    pub id: i64,
    pub survivor: String,
    pub duplicate: String,
    pub source: String,
    pub score: Option<f64>,
    pub evidence: String,
    pub at_ms: i64,
    pub who: String,
    pub undone_at_ms: Option<i64>,
    pub undone_by: Option<String>,
}

/// A doubtful pair for the district team, to create.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub child_a: String,
    pub child_b: String,
    pub score: f64,
    pub evidence: String,
}

/// A pair in the review queue.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    pub id: i64,
    pub child_a: String,
    pub child_b: String,
    pub score: f64,
    pub evidence: String,
    /// Higher first, computed when read (not frozen when queued): per child
    /// of the pair, 2 if stunted at its latest measurement and 1 if measured
    /// towards the coming verval round (`review::coming_round`).
    pub priority: i64,
    /// `open`, `accepted`, `rejected` or `stale` (a child was merged
    /// elsewhere since).
    pub status: String,
    pub created_at_ms: i64,
    pub decided_at_ms: Option<i64>,
    pub decided_by: Option<String>,
}

/// Which review pairs to list.
#[derive(Debug, Clone, Copy)]
pub struct ReviewQuery<'a> {
    /// Only pairs with this status (`None`: all).
    pub status: Option<&'a str>,
    /// Only pairs whose two children both have their home posyandu here;
    /// applied before `limit`.
    pub scope: &'a Scope,
    /// The caller's date, which decides the coming verval round.
    pub today: chrono::NaiveDate,
    pub limit: usize,
}

/// What storing an area directory changed.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AreasStored {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
}

/// A child of the register (after dedup) for verval and exports: the
/// report's view of it, and the raw values of each of its measurements (in
/// the same order) for the e-PPGBM columns.
#[derive(Debug, Clone)]
pub struct RegisterChild {
    pub child: crate::verval::RoundChild,
    pub raw: Vec<RawMeasurement>,
    pub no_kk: Option<String>,
    pub birth_weight_g: Option<i64>,
    pub birth_length_mm: Option<i64>,
    /// Every registration folded into this child, its own first: the
    /// evidence for its birth date and sex (`verval::evidence`).
    pub registrations: Vec<crate::verval::evidence::Registration>,
    /// The verval checks recorded on it.
    pub verifications: Vec<sync_protocol::Verification>,
    /// The children it is paired with in an open review item.
    pub review_partners: Vec<String>,
    /// Parental consent: who gave it and when (`YYYY-MM-DD`), if recorded.
    pub consent_by: Option<String>,
    pub consent_on: Option<String>,
}

/// A measurement's values as entered.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawMeasurement {
    pub weight_g: Option<i64>,
    pub length_mm: Option<i64>,
    pub standing: Option<bool>,
    pub muac_mm: Option<i64>,
    pub head_mm: Option<i64>,
    pub oedema: bool,
}

/// What the dedup run reads: one field row per measurement of every
/// registration that is not merged (one bare row for a registration
/// without measurements), the child of each row, and the children changed
/// since the last run with the sequence they were read at.
#[derive(Debug, Clone, Default)]
pub struct LinkInputs {
    pub records: Vec<linkage::FieldRecord>,
    pub child_of_record: Vec<String>,
    pub changed: Vec<(String, i64)>,
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
    /// included (the caller refuses those with a clear message): a device,
    /// or a person's session (`person` set; expired, ended or disabled ones
    /// come back revoked or expired).
    fn authenticate(&self, token_hash: &[u8; 32]) -> Result<Option<Enrolment>, StorageError>;
    /// Adds a person who signs in with a password (hash made by the caller).
    fn add_user(
        &self,
        name: &str,
        role: Role,
        scope: &Scope,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<User, StorageError>;
    /// Every person, disabled ones included.
    fn users(&self) -> Result<Vec<User>, StorageError>;
    /// A person and their password hash, for sign-in.
    fn user_credentials(&self, name: &str) -> Result<Option<(User, String)>, StorageError>;
    /// Sets a new password hash (and unlocks the name); audited.
    fn set_user_password(
        &self,
        name: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<User, StorageError>;
    /// Disables a person and ends their sessions; audited.
    fn disable_user(&self, name: &str, now_ms: i64) -> Result<User, StorageError>;
    /// Records a sign-in attempt: a good one opens a session with this token
    /// hash until `expires_at_ms` and clears the failures; a bad one counts,
    /// locking the name after `crate::people::MAX_FAILURES`. Audited.
    fn record_signin(
        &self,
        user: &User,
        session: Option<([u8; 32], i64)>,
        now_ms: i64,
    ) -> Result<(), StorageError>;
    /// Ends a person's session (sign-out); false when there was none.
    fn end_session(&self, token_hash: &[u8; 32], now_ms: i64) -> Result<bool, StorageError>;
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
    /// Brings the whole projection up to date, for commands that run
    /// without the server's projection worker.
    fn project_all(&self) -> Result<(), StorageError> {
        while self.project_pending(512)? > 0 {}
        Ok(())
    }
    /// Counts.
    fn stats(&self) -> Result<Stats, StorageError>;

    // --- District reconciliation -------------------------------------

    /// Stores imported registrations and measurements in one transaction,
    /// as changes by the server's actor; rows imported before are skipped.
    fn import(
        &self,
        who: &str,
        file: &str,
        registrations: &[IncomingRegistration],
        now_ms: i64,
    ) -> Result<ImportOutcome, StorageError>;
    /// Merges `duplicate` into `survivor` (copies of its measurements go to
    /// the survivor, the duplicate is marked); audited.
    fn merge(
        &self,
        survivor: ChildId,
        duplicate: ChildId,
        decision: &MergeDecision,
        now_ms: i64,
    ) -> Result<MergeRecord, StorageError>;
    /// Several merges in one transaction (the dedup run's); a refused one
    /// (already merged meanwhile, …) is skipped with its reason.
    fn merge_many(
        &self,
        merges: &[(ChildId, ChildId, MergeDecision)],
        now_ms: i64,
    ) -> Result<Vec<Result<MergeRecord, String>>, StorageError>;
    /// Copies into survivors what reached merged registrations after their
    /// merge (measurements, voids); returns how many were copied or updated.
    fn catch_up_merges(&self, now_ms: i64) -> Result<usize, StorageError>;
    /// Undoes a merge exactly; the pair is not merged automatically again.
    fn unmerge(&self, merge_id: i64, who: &str, now_ms: i64) -> Result<MergeRecord, StorageError>;
    /// Merges, newest first (`active_only`: not undone).
    fn merges(&self, active_only: bool) -> Result<Vec<MergeRecord>, StorageError>;
    /// The register: every child not merged into another whose home
    /// posyandu is in `scope`, with all its measurements (copies from merged
    /// registrations included).
    fn register(&self, scope: &Scope) -> Result<Vec<RegisterChild>, StorageError>;
    /// A value the server keeps for itself (e.g. the linkage weights).
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Sets a value of [`Storage::meta`].
    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StorageError>;
    /// How many children arrived or changed since the dedup last ran.
    fn unlinked(&self) -> Result<u64, StorageError>;
    /// The dedup run's input.
    fn link_inputs(&self) -> Result<LinkInputs, StorageError>;
    /// Records that the dedup run has seen these children at these sequences.
    fn mark_linked(&self, seen: &[(String, i64)]) -> Result<(), StorageError>;
    /// Records that the dedup run's own merges are seen: these children are
    /// linked as far as they are projected now.
    fn mark_linked_as_projected(&self, children: &[String]) -> Result<(), StorageError>;
    /// Pairs a person rejected (or unmerged): never merged automatically.
    fn kept_apart(&self) -> Result<Vec<(String, String)>, StorageError>;
    /// Adds pairs to the review queue (a pair already there is left as it
    /// is); returns how many were new.
    /// Each pair queued is audited under `who` (the dedup run) with its
    /// score and evidence.
    fn add_reviews(
        &self,
        items: &[NewReview],
        who: &str,
        now_ms: i64,
    ) -> Result<usize, StorageError>;
    /// The review queue in the query's scope, most important first: open
    /// pairs, then higher priority (as of `today`), then higher score, then
    /// older (smaller id).
    fn reviews(&self, query: &ReviewQuery<'_>) -> Result<Vec<ReviewItem>, StorageError>;
    /// One review pair, its priority as of `today`.
    fn review(&self, id: i64, today: chrono::NaiveDate)
    -> Result<Option<ReviewItem>, StorageError>;
    /// Records a person's decision on an open pair in one transaction (the
    /// merge, the pair's status, the audit): accept merges it (survivor
    /// chosen by the caller), reject keeps the two apart for good.
    fn decide_review(
        &self,
        id: i64,
        accept: Option<(ChildId, ChildId)>,
        who: &str,
        now_ms: i64,
    ) -> Result<(ReviewItem, Option<MergeRecord>), StorageError>;
    /// Records a verval check on a child as a change by the server (so it
    /// reaches the devices like any edit), audited. Refused for a child merged
    /// into another (the check belongs on the survivor) and for a
    /// re-measurement (taken in the field, with its measurement).
    fn verify(
        &self,
        child: ChildId,
        check: &sync_protocol::Verification,
        now_ms: i64,
    ) -> Result<(), StorageError>;
    /// Stores the area directory (upsert by code: a code seen before takes
    /// the new level, name and parent); audited.
    fn store_areas(
        &self,
        areas: &[crate::import::AreaEntry],
        who: &str,
        now_ms: i64,
    ) -> Result<AreasStored, StorageError>;
    /// The stored area directory (empty when none was stored).
    fn areas(&self) -> Result<Vec<crate::import::AreaEntry>, StorageError>;
}
