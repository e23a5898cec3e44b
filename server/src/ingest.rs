//! From imported rows to registrations the store can take: rows with
//! byte-identical identity fields are one registration (a kader who picks a
//! child's existing record copies its fields), and every id is derived from
//! the file's own ids, so importing the same file twice stores nothing
//! twice and a later round's file finds the registrations of the earlier one.
//!
//! Ids are UUID v5 (name-based) in a Tumbuh namespace: the child's from its
//! identity fields, the measurement's from the row's external id.

use std::collections::BTreeMap;

use sync_protocol::{ChildId, MeasurementId, MeasurementInput, Profile};
use uuid::Uuid;

use crate::import::ImportRow;
use crate::storage::{IncomingMeasurement, IncomingRegistration};

/// Tumbuh's namespace for name-based ids of imported records.
const NAMESPACE: Uuid = Uuid::from_u128(0x5f0c_1d2e_8a47_4b6c_9e13_7d2a_6c4b_1e90);

/// Who the measurements of an import are recorded by when the file names
/// no kader.
pub const IMPORT_BY: &str = "import";

fn identity_key(r: &ImportRow) -> String {
    let opt = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
    [
        r.posyandu.clone(),
        r.name.trim().to_owned(),
        r.sex.code().to_owned(),
        r.birth_date.to_string(),
        r.mother_name.trim().to_owned(),
        opt(&r.nik),
        opt(&r.no_kk),
        opt(&r.mother_nik),
        opt(&r.father_name),
        opt(&r.rt),
        opt(&r.rw),
        opt(&r.address),
        opt(&r.desa),
    ]
    .join("\u{1f}")
}

/// The id an imported row's measurement gets.
pub fn measurement_id(external_id: &str) -> MeasurementId {
    MeasurementId::from_uuid(Uuid::new_v5(
        &NAMESPACE,
        format!("measurement\u{1f}{external_id}").as_bytes(),
    ))
}

/// Groups rows into registrations, in file order.
pub fn registrations(rows: &[ImportRow]) -> Vec<IncomingRegistration> {
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<IncomingRegistration> = Vec::new();
    for r in rows {
        let key = identity_key(r);
        let i = *by_key.entry(key.clone()).or_insert_with(|| {
            out.push(IncomingRegistration {
                child: ChildId::from_uuid(Uuid::new_v5(
                    &NAMESPACE,
                    format!("child\u{1f}{key}").as_bytes(),
                )),
                profile: Profile {
                    name: r.name.trim().to_owned(),
                    sex: r.sex,
                    birth_date: r.birth_date,
                    mother_name: r.mother_name.trim().to_owned(),
                    nik: r.nik.clone(),
                    no_kk: r.no_kk.clone(),
                    mother_nik: r.mother_nik.clone(),
                    father_name: r.father_name.clone(),
                    rt: r.rt.clone(),
                    rw: r.rw.clone(),
                    address: r.address.clone(),
                    posyandu: r.posyandu.clone(),
                    // Only kept when it says more than the posyandu does.
                    desa: r
                        .desa
                        .clone()
                        .filter(|d| !r.posyandu.starts_with(d.as_str())),
                    birth_weight: r.birth_weight,
                    birth_length: r.birth_length,
                    consent_by: None,
                    consent_on: None,
                },
                measurements: Vec::new(),
                bare_rows: Vec::new(),
            });
            out.len() - 1
        });
        let reg = &mut out[i];
        match measurement_input(r) {
            Some(input) => reg.measurements.push(IncomingMeasurement {
                external_id: r.external_id.clone(),
                id: measurement_id(&r.external_id),
                input,
            }),
            None => reg.bare_rows.push(r.external_id.clone()),
        }
    }
    out
}

/// The measurement an imported row records, as the document stores it
/// (`None` for a registration-only row).
pub fn measurement_input(r: &ImportRow) -> Option<MeasurementInput> {
    let m = r.measurement.as_ref()?;
    Some(MeasurementInput {
        date: m.date,
        weight: m.weight,
        length: m.length,
        position: m.position,
        muac: m.muac,
        head: None,
        oedema: false,
        posyandu: r.posyandu.clone(),
        by: r.kader.clone().unwrap_or_else(|| IMPORT_BY.to_owned()),
        round: r.round.clone(),
    })
}
