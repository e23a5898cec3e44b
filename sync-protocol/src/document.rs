//! [`ChildDocument`]: one child's Automerge document, with typed reads and writes.
//!
//! Layout (schema 1), all keys fixed:
//!
//! ```text
//! ROOT
//! ├─ schema: uint            1
//! ├─ id: str                 the child's UUID
//! ├─ profile: map            name, sex (L/P), birth_date (YYYY-MM-DD), mother_name,
//! │                          nik, no_kk, mother_nik, father_name, rt, rw, address, posyandu,
//! │                          desa (domicile, when recorded), birth_weight_g,
//! │                          birth_length_mm (whole numbers as text),
//! │                          consent_by, consent_on (parental consent)
//! ├─ measurements: map       <measurement UUID> → map
//! │    date (YYYY-MM-DD), weight_g, length_mm, muac_mm, head_mm (uint),
//! │    position (lying/standing), oedema (bool), posyandu, by, recorded_at (ms),
//! │    void_reason, voided_at (ms), voided_by            (set only when voided)
//! │    round (YYYY-MM)                                   (set only by imports)
//! │    merged_from (child UUID)                          (set only on a merge's copy)
//! ├─ verifications: map      <verification UUID> → map (verval checks, see
//! │    kind (birth_date/sex/remeasured/confirmed),        `verification.rs`)
//! │    date, sex, source (kia/kk/akta), measurement (UUID), round, by,
//! │    recorded_at (ms)
//! └─ merged_into: str        the survivor's UUID, while this registration is merged
//! ```
//!
//! **Merges** never delete: the district's merge copies the duplicate's
//! measurements into the survivor under their own ids, marked `merged_from`,
//! and sets `merged_into` on the duplicate; an unmerge deletes exactly the
//! copies marked with that duplicate and clears `merged_into`. Both are
//! ordinary changes (by the server's actor) that reach devices by sync.
//!
//! ```text
//! ```
//!
//! **Invariant: every nested map is created once, in the document's first
//! change.** Two devices that each created `measurements` would make two
//! conflicting maps and one device's measurements would vanish from view;
//! afterwards, devices only add keys to existing maps. Measurements are keyed
//! by UUID, so concurrent measurements never collide; a profile field edited
//! on two devices at once becomes a conflict that [`ChildDocument::conflicts`]
//! reports, so no edit is silently lost.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};
use std::collections::HashSet;

use chrono::NaiveDate;

use crate::error::DocumentError;
use crate::ids::{ChildId, MeasurementId, VerificationId};
use crate::record::{
    Child, Measurement, MeasurementInput, Position, Profile, ProfileField, Sex, Void,
};
use crate::units::{Grams, Millimetres};
use crate::verification::{Check, DocumentSource, Verification};

/// The document schema this crate writes and reads.
pub const SCHEMA_VERSION: u64 = 1;

/// One Automerge change: its hash and its encoded bytes, as stored and synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentChange {
    pub hash: ChangeHash,
    pub bytes: Vec<u8>,
}

/// A profile field that two devices set to different values concurrently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    pub field: ProfileField,
    /// Every concurrent value; the first is the one shown by default.
    pub values: Vec<String>,
}

/// A child's Automerge document.
pub struct ChildDocument {
    doc: AutoCommit,
    id: ChildId,
    profile: ObjId,
    measurements: ObjId,
    /// Created with every document; `None` only for a foreign document
    /// without it (read as no checks; recording a check is refused).
    verifications: Option<ObjId>,
}

impl std::fmt::Debug for ChildDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildDocument")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ChildDocument {
    /// Creates the document of a newly registered child in one change.
    pub fn create(
        actor: ActorId,
        id: ChildId,
        profile: &Profile,
        now_ms: i64,
    ) -> Result<Self, DocumentError> {
        let mut doc = AutoCommit::new().with_actor(actor);
        doc.put(ROOT, "schema", ScalarValue::Uint(SCHEMA_VERSION))?;
        doc.put(ROOT, "id", id.to_string())?;
        let profile_obj = doc.put_object(ROOT, "profile", ObjType::Map)?;
        let measurements = doc.put_object(ROOT, "measurements", ObjType::Map)?;
        let verifications = doc.put_object(ROOT, "verifications", ObjType::Map)?;
        for field in ProfileField::ALL {
            if let Some(value) = profile.get(field) {
                doc.put(&profile_obj, field.key(), value)?;
            }
        }
        doc.commit_with(
            CommitOptions::default()
                .with_message("register child")
                .with_time(now_ms),
        );
        Ok(Self {
            doc,
            id,
            profile: profile_obj,
            measurements,
            verifications: Some(verifications),
        })
    }

    /// Loads a document from bytes: a saved document, a sequence of changes,
    /// or both concatenated. `actor` is the device that will make new changes.
    pub fn load(actor: ActorId, bytes: &[u8]) -> Result<Self, DocumentError> {
        // A saved document loads as is; the changes after it go through the
        // same checks as `apply_changes` (Automerge's own load would panic
        // on a change naming an unknown actor), and one that fails them is
        // left out, with the changes built on it: a bad change stored once
        // must not make the child unreadable for everyone.
        let (saved, changes) = split_chunks(bytes)?;
        let open_saved = || -> Result<AutoCommit, DocumentError> {
            if saved.is_empty() {
                Ok(AutoCommit::new())
            } else {
                Ok(guarded("loading the saved document", || {
                    AutoCommit::load(saved)
                })??)
            }
        };
        let mut doc = open_saved()?;
        let parsed = changes
            .into_iter()
            .map(|c| automerge::Change::from_bytes(c.to_vec()).map_err(invalid_change))
            .collect::<Result<Vec<_>, _>>()?;
        let ready = checked_changes(&mut doc, parsed, BadChange::Skip)?;
        let batch = ready.clone();
        if !matches!(
            guarded("applying changes", || doc.apply_changes(batch)),
            Ok(Ok(()))
        ) {
            // A change passed the checks yet Automerge failed (or panicked)
            // on it (found by the `change_upload` fuzz target): the batch
            // may have left `doc` half-applied, so start again from the
            // saved document and apply the changes one at a time, each on a
            // fork, leaving out the ones Automerge cannot apply and the
            // changes built on them. `ready` is in dependency order.
            doc = open_saved()?;
            let mut left_out: HashSet<ChangeHash> = HashSet::new();
            for change in ready {
                if change.deps().iter().any(|d| left_out.contains(d)) {
                    left_out.insert(change.hash());
                    continue;
                }
                let mut trial = doc.fork();
                let one = change.clone();
                match guarded("applying a change", || trial.apply_changes([one])) {
                    Ok(Ok(())) => doc = trial,
                    _ => {
                        left_out.insert(change.hash());
                    }
                }
            }
        }
        Self::from_doc(doc.with_actor(actor))
    }

    fn from_doc(doc: AutoCommit) -> Result<Self, DocumentError> {
        let schema = match doc.get(ROOT, "schema")? {
            Some((Value::Scalar(s), _)) => s.as_u64().ok_or(DocumentError::Missing("schema"))?,
            _ => return Err(DocumentError::Missing("schema")),
        };
        if schema > SCHEMA_VERSION {
            return Err(DocumentError::TooNew {
                found: schema,
                supported: SCHEMA_VERSION,
            });
        }
        let id_text = read_str(&doc, &ROOT, "id")?.ok_or(DocumentError::Missing("id"))?;
        let id = id_text
            .parse::<ChildId>()
            .map_err(|e| DocumentError::Invalid {
                field: "id".into(),
                reason: e.to_string(),
            })?;
        let profile = map_obj(&doc, "profile")?;
        let measurements = map_obj(&doc, "measurements")?;
        let verifications = map_obj(&doc, "verifications").ok();
        Ok(Self {
            doc,
            id,
            profile,
            measurements,
            verifications,
        })
    }

    /// The child's id.
    pub fn id(&self) -> ChildId {
        self.id
    }

    /// The profile's posyandu code as `child()` would read it (the winning
    /// value when devices set it concurrently), without reading the rest of
    /// the record: the server checks it on every upload (a change must not
    /// move a child out of the uploading device's area).
    pub fn posyandu(&self) -> Result<Option<String>, DocumentError> {
        read_str(&self.doc, &self.profile, ProfileField::Posyandu.key())
    }

    /// The current heads (the hashes of the latest changes).
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Sets (or, with `None`, clears) profile fields in one change.
    pub fn set_fields(
        &mut self,
        edits: &[(ProfileField, Option<String>)],
        now_ms: i64,
    ) -> Result<(), DocumentError> {
        for (field, value) in edits {
            match value {
                Some(v) => self.doc.put(&self.profile, field.key(), v.as_str())?,
                None => self.doc.delete(&self.profile, field.key())?,
            }
        }
        self.doc.commit_with(
            CommitOptions::default()
                .with_message("edit profile")
                .with_time(now_ms),
        );
        Ok(())
    }

    /// Adds a measurement in one change.
    pub fn add_measurement(
        &mut self,
        id: MeasurementId,
        m: &MeasurementInput,
        now_ms: i64,
    ) -> Result<(), DocumentError> {
        self.put_measurement(&Measurement {
            id,
            input: m.clone(),
            recorded_at_ms: now_ms,
            void: None,
            merged_from: None,
        })?;
        self.doc.commit_with(
            CommitOptions::default()
                .with_message("measure")
                .with_time(now_ms),
        );
        Ok(())
    }

    /// Adds several measurements in one change, each recorded at its own
    /// `recorded_at_ms` (imports of many rows of one registration).
    pub fn add_measurements(
        &mut self,
        items: &[(MeasurementId, MeasurementInput, i64)],
        now_ms: i64,
    ) -> Result<(), DocumentError> {
        for (id, m, recorded_at) in items {
            let copy = Measurement {
                id: *id,
                input: m.clone(),
                recorded_at_ms: *recorded_at,
                void: None,
                merged_from: None,
            };
            self.put_measurement(&copy)?;
        }
        self.doc.commit_with(
            CommitOptions::default()
                .with_message("import measurements")
                .with_time(now_ms),
        );
        Ok(())
    }

    fn put_measurement(&mut self, m: &Measurement) -> Result<(), DocumentError> {
        let obj = self
            .doc
            .put_object(&self.measurements, m.id.to_string(), ObjType::Map)?;
        let d = &mut self.doc;
        let i = &m.input;
        d.put(&obj, "date", i.date.to_string())?;
        if let Some(w) = i.weight {
            d.put(&obj, "weight_g", ScalarValue::Uint(u64::from(w.0)))?;
        }
        if let Some(l) = i.length {
            d.put(&obj, "length_mm", ScalarValue::Uint(u64::from(l.0)))?;
        }
        if let Some(p) = i.position {
            d.put(&obj, "position", p.code())?;
        }
        if let Some(a) = i.muac {
            d.put(&obj, "muac_mm", ScalarValue::Uint(u64::from(a.0)))?;
        }
        if let Some(h) = i.head {
            d.put(&obj, "head_mm", ScalarValue::Uint(u64::from(h.0)))?;
        }
        d.put(&obj, "oedema", i.oedema)?;
        d.put(&obj, "posyandu", i.posyandu.as_str())?;
        d.put(&obj, "by", i.by.as_str())?;
        d.put(&obj, "recorded_at", ScalarValue::Int(m.recorded_at_ms))?;
        if let Some(round) = &i.round {
            d.put(&obj, "round", round.as_str())?;
        }
        if let Some(v) = &m.void {
            d.put(&obj, "void_reason", v.reason.as_str())?;
            d.put(&obj, "voided_at", ScalarValue::Int(v.at_ms))?;
            d.put(&obj, "voided_by", v.by.as_str())?;
        }
        if let Some(from) = m.merged_from {
            d.put(&obj, "merged_from", from.to_string())?;
        }
        Ok(())
    }

    /// The survivor's side of a merge, in one change: copies `duplicate`'s
    /// measurements (voids included) under their own ids, marked
    /// `merged_from`. Measurements already present are left as they are,
    /// except that a void made on the duplicate since is carried over.
    /// Idempotent; returns how many were copied or updated.
    pub fn absorb_measurements(
        &mut self,
        duplicate: &Child,
        now_ms: i64,
    ) -> Result<usize, DocumentError> {
        let mut copied = 0;
        for m in &duplicate.measurements {
            if m.merged_from.is_some() {
                // A copy the duplicate itself received from an earlier merge
                // belongs to that merge, not this one.
                continue;
            }
            if let Some((Value::Object(ObjType::Map), obj)) =
                self.doc.get(&self.measurements, m.id.to_string())?
            {
                // Already copied: carry over a void made on the duplicate
                // since (a kader who had not synced the merge yet).
                if let Some(v) = &m.void
                    && read_str(&self.doc, &obj, "void_reason")?.is_none()
                {
                    self.doc.put(&obj, "void_reason", v.reason.as_str())?;
                    self.doc.put(&obj, "voided_at", ScalarValue::Int(v.at_ms))?;
                    self.doc.put(&obj, "voided_by", v.by.as_str())?;
                    copied += 1;
                }
                continue;
            }
            let mut copy = m.clone();
            copy.merged_from = Some(duplicate.id);
            self.put_measurement(&copy)?;
            copied += 1;
        }
        if copied > 0 {
            self.doc.commit_with(
                CommitOptions::default()
                    .with_message("merge: absorb measurements")
                    .with_time(now_ms),
            );
        }
        Ok(copied)
    }

    /// The survivor's side of an unmerge, in one change: deletes exactly
    /// the copies marked `merged_from = duplicate`. Returns how many.
    pub fn release_measurements(
        &mut self,
        duplicate: ChildId,
        now_ms: i64,
    ) -> Result<usize, DocumentError> {
        let marker = duplicate.to_string();
        let mut keys = Vec::new();
        for item in self.doc.map_range(&self.measurements, ..) {
            let obj = item.id();
            if read_str(&self.doc, &obj, "merged_from")?.as_deref() == Some(marker.as_str()) {
                keys.push(item.key.to_string());
            }
        }
        for key in &keys {
            self.doc.delete(&self.measurements, key.as_str())?;
        }
        if !keys.is_empty() {
            self.doc.commit_with(
                CommitOptions::default()
                    .with_message("unmerge: release measurements")
                    .with_time(now_ms),
            );
        }
        Ok(keys.len())
    }

    /// The duplicate's side of a merge (`Some(survivor)`) or of an unmerge
    /// (`None`), in one change.
    pub fn set_merged_into(
        &mut self,
        survivor: Option<ChildId>,
        now_ms: i64,
    ) -> Result<(), DocumentError> {
        let message = match survivor {
            Some(s) => {
                self.doc.put(ROOT, "merged_into", s.to_string())?;
                "merge: mark duplicate"
            }
            None => {
                self.doc.delete(ROOT, "merged_into")?;
                "unmerge: clear mark"
            }
        };
        self.doc.commit_with(
            CommitOptions::default()
                .with_message(message)
                .with_time(now_ms),
        );
        Ok(())
    }

    /// Records a verval check in one change.
    pub fn add_verification(&mut self, v: &Verification) -> Result<(), DocumentError> {
        self.put_verification(v)?;
        self.doc.commit_with(
            CommitOptions::default()
                .with_message("verify")
                .with_time(v.recorded_at_ms),
        );
        Ok(())
    }

    /// Records a re-measurement taken for a check: the measurement and the
    /// [`Check::Remeasured`] check naming it, in one change (so neither
    /// arrives anywhere without the other).
    pub fn add_remeasurement(
        &mut self,
        id: MeasurementId,
        m: &MeasurementInput,
        v: &Verification,
    ) -> Result<(), DocumentError> {
        if v.check != (Check::Remeasured { measurement: id }) {
            return Err(DocumentError::Invalid {
                field: "verifications".into(),
                reason: "a re-measurement's check must name that measurement".into(),
            });
        }
        self.put_measurement(&Measurement {
            id,
            input: m.clone(),
            recorded_at_ms: v.recorded_at_ms,
            void: None,
            merged_from: None,
        })?;
        self.put_verification(v)?;
        self.doc.commit_with(
            CommitOptions::default()
                .with_message("verify: re-measure")
                .with_time(v.recorded_at_ms),
        );
        Ok(())
    }

    fn put_verification(&mut self, v: &Verification) -> Result<(), DocumentError> {
        let Some(map) = &self.verifications else {
            return Err(DocumentError::Missing("verifications"));
        };
        let obj = self.doc.put_object(map, v.id.to_string(), ObjType::Map)?;
        let d = &mut self.doc;
        d.put(&obj, "kind", v.check.kind())?;
        match &v.check {
            Check::BirthDate { date, source } => {
                d.put(&obj, "date", date.to_string())?;
                d.put(&obj, "source", source.code())?;
            }
            Check::Sex { sex, source } => {
                d.put(&obj, "sex", sex.code())?;
                d.put(&obj, "source", source.code())?;
            }
            Check::Remeasured { measurement } => {
                d.put(&obj, "measurement", measurement.to_string())?;
            }
            Check::Confirmed => {}
        }
        if let Some(round) = &v.round {
            d.put(&obj, "round", round.as_str())?;
        }
        d.put(&obj, "by", v.by.as_str())?;
        d.put(&obj, "recorded_at", ScalarValue::Int(v.recorded_at_ms))?;
        Ok(())
    }

    /// Voids a measurement (it stays in the document, marked with the reason).
    pub fn void_measurement(
        &mut self,
        id: MeasurementId,
        reason: &str,
        by: &str,
        now_ms: i64,
    ) -> Result<(), DocumentError> {
        let obj = match self.doc.get(&self.measurements, id.to_string())? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(DocumentError::NoSuchMeasurement(id.to_string())),
        };
        self.doc.put(&obj, "void_reason", reason)?;
        self.doc.put(&obj, "voided_at", ScalarValue::Int(now_ms))?;
        self.doc.put(&obj, "voided_by", by)?;
        self.doc.commit_with(
            CommitOptions::default()
                .with_message("void measurement")
                .with_time(now_ms),
        );
        Ok(())
    }

    /// The changes made after `heads` (all changes when `heads` is empty).
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<DocumentChange> {
        self.doc
            .get_changes(heads)
            .into_iter()
            .map(|c| DocumentChange {
                hash: c.hash(),
                bytes: c.raw_bytes().to_vec(),
            })
            .collect()
    }

    /// Applies changes received from elsewhere (already-known ones are ignored).
    pub fn apply_changes<'a>(
        &mut self,
        changes: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), DocumentError> {
        let mut parsed = Vec::new();
        for bytes in changes {
            parsed.push(automerge::Change::from_bytes(bytes.to_vec()).map_err(invalid_change)?);
        }
        let ready = checked_changes(&mut self.doc, parsed, BadChange::Refuse)?;
        if ready.is_empty() {
            return Ok(());
        }
        // Tried on a copy first: the document with the changes must save
        // into bytes that load again, or every reader of the saved
        // document would fail on it (Automerge 0.12 accepts some changes
        // it cannot save; found by the `change_upload` fuzz target).
        let mut trial = self.doc.fork();
        let candidate = ready.clone();
        guarded("applying the changes", || trial.apply_changes(candidate))??;
        guarded("saving and loading again", || {
            AutoCommit::load(&trial.save())
        })?
        .map_err(|e| {
            invalid_change(format!(
                "the document would not load again once saved with it: {e}"
            ))
        })?;
        self.doc.apply_changes(ready)?;
        Ok(())
    }

    /// The whole document in Automerge's compact format, loadable by any
    /// Automerge implementation.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The whole document without Automerge's own DEFLATE of its columns:
    /// still standard Automerge, larger alone, but a page of many of them
    /// compresses far better as one zstd stream (and loads faster).
    pub fn save_uncompressed(&mut self) -> Vec<u8> {
        self.doc.save_nocompress()
    }

    /// Reads the whole record.
    pub fn child(&self) -> Result<Child, DocumentError> {
        let d = &self.doc;
        let p = &self.profile;
        let text = |key: &'static str| read_str(d, p, key);
        let required = |key: &'static str| -> Result<String, DocumentError> {
            text(key)?.ok_or(DocumentError::Missing(key))
        };
        let sex = required("sex")?
            .parse::<Sex>()
            .map_err(|reason| DocumentError::Invalid {
                field: "sex".into(),
                reason,
            })?;
        let birth_date = parse_date("birth_date", &required("birth_date")?)?;
        let profile = Profile {
            name: required("name")?,
            sex,
            birth_date,
            mother_name: text("mother_name")?.unwrap_or_default(),
            nik: text("nik")?,
            no_kk: text("no_kk")?,
            mother_nik: text("mother_nik")?,
            father_name: text("father_name")?,
            rt: text("rt")?,
            rw: text("rw")?,
            address: text("address")?,
            posyandu: text("posyandu")?.unwrap_or_default(),
            desa: text("desa")?,
            birth_weight: whole_number(text("birth_weight_g")?, "birth_weight_g")?.map(Grams),
            birth_length: whole_number(text("birth_length_mm")?, "birth_length_mm")?
                .map(Millimetres),
            consent_by: text("consent_by")?,
            consent_on: text("consent_on")?
                .map(|d| parse_date("consent_on", &d))
                .transpose()?,
        };
        let mut measurements = Vec::new();
        for item in d.map_range(&self.measurements, ..) {
            let id = item
                .key
                .parse::<MeasurementId>()
                .map_err(|e| DocumentError::Invalid {
                    field: format!("measurements.{}", item.key),
                    reason: e.to_string(),
                })?;
            let obj = item.id();
            measurements.push(read_measurement(d, &obj, id)?);
        }
        measurements.sort_by_key(|m| (m.input.date, m.id));
        let merged_into = match read_str(d, &ROOT, "merged_into")? {
            None => None,
            Some(s) => Some(s.parse::<ChildId>().map_err(|e| DocumentError::Invalid {
                field: "merged_into".into(),
                reason: e.to_string(),
            })?),
        };
        let mut verifications = Vec::new();
        if let Some(map) = &self.verifications {
            for item in d.map_range(map, ..) {
                let id =
                    item.key
                        .parse::<VerificationId>()
                        .map_err(|e| DocumentError::Invalid {
                            field: format!("verifications.{}", item.key),
                            reason: e.to_string(),
                        })?;
                let obj = item.id();
                // A check of a kind from a later version is kept in the
                // document and skipped here.
                if let Some(v) = read_verification(d, &obj, id)? {
                    verifications.push(v);
                }
            }
        }
        verifications.sort_by_key(|v| (v.recorded_at_ms, v.id));
        Ok(Child {
            id: self.id,
            profile,
            measurements,
            merged_into,
            verifications,
        })
    }

    /// Profile fields that hold concurrent, different values.
    pub fn conflicts(&self) -> Result<Vec<FieldConflict>, DocumentError> {
        let mut out = Vec::new();
        for field in ProfileField::ALL {
            let all = self.doc.get_all(&self.profile, field.key())?;
            if all.len() > 1 {
                let mut values: Vec<String> = all
                    .iter()
                    .filter_map(|(v, _)| v.as_str().map(str::to_string))
                    .collect();
                values.sort();
                values.dedup();
                if values.len() > 1 {
                    // The value Automerge shows by default comes first.
                    if let Some(shown) = read_str(&self.doc, &self.profile, field.key())?
                        && let Some(i) = values.iter().position(|v| *v == shown)
                    {
                        values[..=i].rotate_right(1);
                    }
                    out.push(FieldConflict { field, values });
                }
            }
        }
        Ok(out)
    }
}

fn map_obj(doc: &AutoCommit, key: &'static str) -> Result<ObjId, DocumentError> {
    match doc.get(ROOT, key)? {
        Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
        _ => Err(DocumentError::Missing(key)),
    }
}

fn read_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<String>, DocumentError> {
    match doc.get(obj, key)? {
        None => Ok(None),
        Some((v, _)) => match v.as_str() {
            Some(s) => Ok(Some(s.to_string())),
            None => Err(DocumentError::Invalid {
                field: key.into(),
                reason: "expected text".into(),
            }),
        },
    }
}

/// A whole number kept as text in the profile (`None` stays `None`).
fn whole_number(text: Option<String>, field: &str) -> Result<Option<u32>, DocumentError> {
    text.map(|t| {
        t.trim().parse::<u32>().map_err(|_| DocumentError::Invalid {
            field: field.into(),
            reason: format!("`{t}` is not a whole number"),
        })
    })
    .transpose()
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, DocumentError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| DocumentError::Invalid {
        field: field.into(),
        reason: format!("`{s}` is not a YYYY-MM-DD date: {e}"),
    })
}

fn text_value(key: &str, v: &Value<'_>) -> Result<String, DocumentError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| DocumentError::Invalid {
            field: key.into(),
            reason: "expected text".into(),
        })
}

fn uint_value(key: &str, v: &Value<'_>) -> Result<u32, DocumentError> {
    v.as_u64()
        .or_else(|| v.as_i64().and_then(|i| u64::try_from(i).ok()))
        .and_then(|u| u32::try_from(u).ok())
        .ok_or_else(|| DocumentError::Invalid {
            field: key.into(),
            reason: "expected a whole number".into(),
        })
}

fn int_value(key: &str, v: &Value<'_>) -> Result<i64, DocumentError> {
    v.as_i64().ok_or_else(|| DocumentError::Invalid {
        field: key.into(),
        reason: "expected a number".into(),
    })
}

/// Reads one measurement map in a single pass over its entries (one lookup
/// per field would search the map a dozen times).
fn read_verification(
    doc: &AutoCommit,
    obj: &ObjId,
    id: VerificationId,
) -> Result<Option<Verification>, DocumentError> {
    let text = |key: &str| read_str(doc, obj, key);
    let invalid = |field: &str, reason: String| DocumentError::Invalid {
        field: format!("verifications.{id}.{field}"),
        reason,
    };
    let source = || -> Result<DocumentSource, DocumentError> {
        text("source")?
            .ok_or(DocumentError::Missing("verification source"))?
            .parse::<DocumentSource>()
            .map_err(|r| invalid("source", r))
    };
    let check = match text("kind")?.as_deref() {
        Some("birth_date") => Check::BirthDate {
            date: parse_date(
                "verification date",
                &text("date")?.ok_or(DocumentError::Missing("verification date"))?,
            )?,
            source: source()?,
        },
        Some("sex") => Check::Sex {
            sex: text("sex")?
                .ok_or(DocumentError::Missing("verification sex"))?
                .parse::<Sex>()
                .map_err(|r| invalid("sex", r))?,
            source: source()?,
        },
        Some("remeasured") => Check::Remeasured {
            measurement: text("measurement")?
                .ok_or(DocumentError::Missing("verification measurement"))?
                .parse::<MeasurementId>()
                .map_err(|e| invalid("measurement", e.to_string()))?,
        },
        Some("confirmed") => Check::Confirmed,
        Some(_) => return Ok(None),
        None => return Err(DocumentError::Missing("verification kind")),
    };
    let recorded_at_ms = match doc.get(obj, "recorded_at")? {
        Some((v, _)) => int_value("recorded_at", &v)?,
        None => 0,
    };
    Ok(Some(Verification {
        id,
        check,
        round: text("round")?,
        by: text("by")?.unwrap_or_default(),
        recorded_at_ms,
    }))
}

fn read_measurement(
    doc: &AutoCommit,
    obj: &ObjId,
    id: MeasurementId,
) -> Result<Measurement, DocumentError> {
    let mut date = None;
    let mut weight = None;
    let mut length = None;
    let mut position = None;
    let mut muac = None;
    let mut head = None;
    let mut oedema = false;
    let mut posyandu = String::new();
    let mut by = String::new();
    let mut recorded_at_ms = 0;
    let mut void_reason = None;
    let mut voided_at = 0;
    let mut voided_by = String::new();
    let mut round = None;
    let mut merged_from = None;
    for automerge::iter::MapRangeItem { key, value, .. } in doc.map_range(obj, ..) {
        let key: &str = &key;
        let v = &value.into_value();
        match key {
            "date" => date = Some(parse_date("date", &text_value(key, v)?)?),
            "weight_g" => weight = Some(Grams(uint_value(key, v)?)),
            "length_mm" => length = Some(Millimetres(uint_value(key, v)?)),
            "muac_mm" => muac = Some(Millimetres(uint_value(key, v)?)),
            "head_mm" => head = Some(Millimetres(uint_value(key, v)?)),
            "position" => {
                position = Some(text_value(key, v)?.parse::<Position>().map_err(|reason| {
                    DocumentError::Invalid {
                        field: "position".into(),
                        reason,
                    }
                })?)
            }
            "oedema" => oedema = v.as_bool().unwrap_or(false),
            "posyandu" => posyandu = text_value(key, v)?,
            "by" => by = text_value(key, v)?,
            "recorded_at" => recorded_at_ms = int_value(key, v)?,
            "void_reason" => void_reason = Some(text_value(key, v)?),
            "voided_at" => voided_at = int_value(key, v)?,
            "voided_by" => voided_by = text_value(key, v)?,
            "round" => round = Some(text_value(key, v)?),
            "merged_from" => {
                merged_from = Some(text_value(key, v)?.parse::<ChildId>().map_err(|e| {
                    DocumentError::Invalid {
                        field: "merged_from".into(),
                        reason: e.to_string(),
                    }
                })?)
            }
            // Fields of later schema versions are kept in the document.
            _ => {}
        }
    }
    Ok(Measurement {
        id,
        input: MeasurementInput {
            date: date.ok_or(DocumentError::Missing("measurement date"))?,
            weight,
            length,
            position,
            muac,
            head,
            oedema,
            posyandu,
            by,
            round,
        },
        recorded_at_ms,
        void: void_reason.map(|reason| Void {
            reason,
            at_ms: voided_at,
            by: voided_by,
        }),
        merged_from,
    })
}

/// Runs Automerge on outside bytes, turning a panic inside it into an
/// error: Automerge 0.12 still panics on some malformed changes (the
/// `change_upload` fuzz target found an op naming an actor index past the
/// change's own actor table), and a device's bytes must never bring a
/// thread of the server down nor make a child unreadable.
fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, DocumentError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| invalid_change(format!("Automerge could not process it ({what})")))
}

fn invalid_change(e: impl std::fmt::Display) -> DocumentError {
    DocumentError::Invalid {
        field: "change".into(),
        reason: e.to_string(),
    }
}

/// Splits bytes into Automerge chunks: the saved document (empty when there
/// is none; it must come first) and the changes after it. A chunk is
/// `magic(4) | checksum(4) | type(1) | uLEB length | body`.
fn split_chunks(bytes: &[u8]) -> Result<(&[u8], Vec<&[u8]>), DocumentError> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    let mut saved: &[u8] = &[];
    let mut changes = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let malformed = || invalid_change("not a sequence of Automerge chunks");
        if rest.len() < 9 || rest[..4] != MAGIC {
            return Err(malformed());
        }
        let mut cursor = std::io::Cursor::new(&rest[9..]);
        let len = leb128::read::unsigned(&mut cursor).map_err(|_| malformed())?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| len.checked_add(9 + cursor.position() as usize))
            .filter(|&end| end <= rest.len())
            .ok_or_else(malformed)?;
        let (chunk, after) = rest.split_at(end);
        if rest[8] == 0 {
            if !saved.is_empty() || !changes.is_empty() {
                return Err(invalid_change("a saved document after other chunks"));
            }
            saved = chunk;
        } else {
            changes.push(chunk);
        }
        rest = after;
    }
    Ok((saved, changes))
}

/// What [`checked_changes`] does with a change that fails its checks.
#[derive(Debug, Clone, Copy)]
enum BadChange {
    /// Refuse the whole batch with an error.
    Refuse,
    /// Leave the change out (and, as their dependency never arrives, the
    /// changes built on it).
    Skip,
}

/// The changes that can be applied to `doc`, in an order that applies
/// them, after checking each one's actors: every actor it names must
/// be the author of a change already in the document (or applied before
/// it), but for the change's own author at its first change (sequence 1).
/// Every well-formed change passes; Automerge 0.12 panics applying one that
/// does not (found by the `change_upload` fuzz target), so it is refused
/// here with an error and nothing is applied ([`BadChange::Refuse`]) or
/// left out ([`BadChange::Skip`]). A change whose dependencies never arrive
/// is left out: Automerge would only queue it, unread.
fn checked_changes(
    doc: &mut AutoCommit,
    changes: Vec<automerge::Change>,
    bad: BadChange,
) -> Result<Vec<automerge::Change>, DocumentError> {
    if changes.is_empty() {
        return Ok(changes);
    }
    let history = doc.get_changes(&[]);
    let mut hashes: HashSet<ChangeHash> = history.iter().map(|c| c.hash()).collect();
    let mut actors: HashSet<ActorId> = history.iter().map(|c| c.actor_id().clone()).collect();
    let mut waiting = changes;
    let mut ready = Vec::new();
    loop {
        let before = waiting.len();
        let mut later = Vec::new();
        for change in waiting {
            if hashes.contains(&change.hash()) {
                continue;
            }
            if !change.deps().iter().all(|d| hashes.contains(d)) {
                later.push(change);
                continue;
            }
            let author = change.actor_id();
            let problem = if change.seq() != 1 && !actors.contains(author) {
                Some(format!(
                    "change {} is number {} of author {author}, who has no earlier change here",
                    change.hash(),
                    change.seq()
                ))
            } else {
                change
                    .other_actor_ids()
                    .iter()
                    .find(|a| !actors.contains(*a))
                    .map(|other| {
                        format!(
                            "change {} refers to actor {other}, who has no change here",
                            change.hash()
                        )
                    })
            };
            // Every op of the change must decode: Automerge panics applying
            // one whose ops point outside its own actor table.
            let problem = problem.or_else(|| {
                guarded("decoding", || change.decode())
                    .err()
                    .map(|_| format!("change {} has ops that do not decode", change.hash()))
            });
            match (problem, bad) {
                (None, _) => {}
                (Some(reason), BadChange::Refuse) => return Err(invalid_change(reason)),
                (Some(_), BadChange::Skip) => continue,
            }
            hashes.insert(change.hash());
            actors.insert(author.clone());
            ready.push(change);
        }
        if later.is_empty() || later.len() == before {
            return Ok(ready);
        }
        waiting = later;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ids::DeviceId;

    fn profile() -> Profile {
        Profile {
            name: "Siti Aisyah".into(),
            sex: Sex::P,
            birth_date: NaiveDate::from_ymd_opt(2023, 5, 17).unwrap(),
            mother_name: "Sri Wahyuni".into(),
            nik: None,
            no_kk: Some("3530010109131126".into()),
            mother_nik: None,
            father_name: None,
            rt: Some("3".into()),
            rw: Some("5".into()),
            address: Some("Dusun Krajan".into()),
            posyandu: "353001200205".into(),
            desa: None,
            birth_weight: None,
            birth_length: None,
            consent_by: None,
            consent_on: None,
        }
    }

    fn measurement(day: u32, weight_g: u32) -> MeasurementInput {
        MeasurementInput {
            date: NaiveDate::from_ymd_opt(2024, 3, day).unwrap(),
            weight: Some(Grams(weight_g)),
            length: Some(Millimetres(731)),
            position: Some(Position::Lying),
            muac: None,
            head: None,
            oedema: false,
            posyandu: "353001200205".into(),
            by: "kader-1".into(),
            round: None,
        }
    }

    #[test]
    fn a_created_child_reads_back_exactly() {
        let id = ChildId::new();
        let mut doc = ChildDocument::create(DeviceId::new().actor(), id, &profile(), 1).unwrap();
        let mid = MeasurementId::new();
        doc.add_measurement(mid, &measurement(4, 8350), 2).unwrap();
        let child = doc.child().unwrap();
        assert_eq!(child.id, id);
        assert_eq!(child.profile, profile());
        assert_eq!(child.measurements.len(), 1);
        assert_eq!(child.measurements[0].id, mid);
        assert_eq!(child.measurements[0].input, measurement(4, 8350));
        assert_eq!(child.measurements[0].recorded_at_ms, 2);
    }

    #[test]
    fn concatenated_changes_load_as_the_document() {
        let mut doc =
            ChildDocument::create(DeviceId::new().actor(), ChildId::new(), &profile(), 1).unwrap();
        doc.add_measurement(MeasurementId::new(), &measurement(4, 8350), 2)
            .unwrap();
        let bytes: Vec<u8> = doc
            .changes_since(&[])
            .into_iter()
            .flat_map(|c| c.bytes)
            .collect();
        let loaded = ChildDocument::load(DeviceId::new().actor(), &bytes).unwrap();
        assert_eq!(loaded.child().unwrap(), doc.child().unwrap());
    }

    #[test]
    fn concurrent_measurements_from_two_devices_both_survive() {
        let mut a =
            ChildDocument::create(DeviceId::new().actor(), ChildId::new(), &profile(), 1).unwrap();
        let base: Vec<u8> = a.save();
        let mut b = ChildDocument::load(DeviceId::new().actor(), &base).unwrap();
        let heads = a.heads();
        a.add_measurement(MeasurementId::new(), &measurement(4, 8350), 2)
            .unwrap();
        b.add_measurement(MeasurementId::new(), &measurement(5, 8400), 3)
            .unwrap();
        let from_b = b.changes_since(&heads);
        a.apply_changes(from_b.iter().map(|c| c.bytes.as_slice()))
            .unwrap();
        assert_eq!(a.child().unwrap().measurements.len(), 2);
    }

    #[test]
    fn checks_recorded_offline_on_two_devices_both_survive_with_their_values() {
        let child = ChildId::new();
        let mut a = ChildDocument::create(DeviceId::new().actor(), child, &profile(), 1).unwrap();
        let mut b = ChildDocument::load(DeviceId::new().actor(), &a.save()).unwrap();
        let birth = Verification {
            id: VerificationId::new(),
            check: Check::BirthDate {
                date: NaiveDate::from_ymd_opt(2023, 5, 7).unwrap(),
                source: DocumentSource::Kia,
            },
            round: Some("2024-08".into()),
            by: "Bidan Sri".into(),
            recorded_at_ms: 10,
        };
        a.add_verification(&birth).unwrap();
        let m_id = MeasurementId::new();
        let again = Verification {
            id: VerificationId::new(),
            check: Check::Remeasured { measurement: m_id },
            round: Some("2024-08".into()),
            by: "Kader Ani".into(),
            recorded_at_ms: 20,
        };
        b.add_remeasurement(m_id, &measurement(20, 9100), &again)
            .unwrap();
        let wrong = Verification {
            check: Check::Remeasured {
                measurement: MeasurementId::new(),
            },
            ..again.clone()
        };
        assert!(
            b.add_remeasurement(MeasurementId::new(), &measurement(21, 1), &wrong)
                .is_err()
        );
        let from_b = b.changes_since(&[]);
        a.apply_changes(from_b.iter().map(|c| c.bytes.as_slice()))
            .unwrap();
        let merged = a.child().unwrap();
        assert_eq!(merged.verifications, vec![birth, again]);
        assert!(merged.measurements.iter().any(|m| m.id == m_id));
        // The entered birth date is not touched by the check.
        assert_eq!(merged.profile.birth_date, profile().birth_date);
    }

    #[test]
    fn concurrent_profile_edits_are_reported_as_a_conflict() {
        let mut a =
            ChildDocument::create(DeviceId::new().actor(), ChildId::new(), &profile(), 1).unwrap();
        let mut b = ChildDocument::load(DeviceId::new().actor(), &a.save()).unwrap();
        let heads = a.heads();
        a.set_fields(&[(ProfileField::Name, Some("Siti Aisah".into()))], 2)
            .unwrap();
        b.set_fields(&[(ProfileField::Name, Some("Siti Aisyah Putri".into()))], 3)
            .unwrap();
        let from_b = b.changes_since(&heads);
        a.apply_changes(from_b.iter().map(|c| c.bytes.as_slice()))
            .unwrap();
        let conflicts = a.conflicts().unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].field, ProfileField::Name);
        let mut values = conflicts[0].values.clone();
        values.sort();
        assert_eq!(
            values,
            vec!["Siti Aisah".to_string(), "Siti Aisyah Putri".to_string()]
        );
    }

    #[test]
    fn voiding_keeps_the_measurement_with_its_reason() {
        let mut doc =
            ChildDocument::create(DeviceId::new().actor(), ChildId::new(), &profile(), 1).unwrap();
        let mid = MeasurementId::new();
        doc.add_measurement(mid, &measurement(4, 8350), 2).unwrap();
        doc.void_measurement(mid, "salah timbang", "kader-1", 3)
            .unwrap();
        let child = doc.child().unwrap();
        let void = child.measurements[0].void.clone().unwrap();
        assert_eq!(void.reason, "salah timbang");
        assert_eq!(child.valid_measurements().count(), 0);
        assert!(matches!(
            doc.void_measurement(MeasurementId::new(), "x", "k", 4),
            Err(DocumentError::NoSuchMeasurement(_))
        ));
    }

    #[test]
    fn garbage_bytes_are_an_error_not_a_panic() {
        assert!(ChildDocument::load(DeviceId::new().actor(), b"\x85o\x4a\x83garbage").is_err());
        assert!(ChildDocument::load(DeviceId::new().actor(), &[]).is_err());
    }

    #[test]
    fn a_document_without_the_schema_is_refused() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "id", "x").unwrap();
        let bytes = doc.save();
        assert!(matches!(
            ChildDocument::load(DeviceId::new().actor(), &bytes),
            Err(DocumentError::Missing("schema"))
        ));
    }
}
