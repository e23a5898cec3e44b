//! `tumbuh-server demo`: seeds a small made-up district so a newcomer sees
//! the whole flow at once — children with a year of measurements (some of
//! them stunted) in two posyandu, and enrolment tokens for two kader devices
//! and the district.
//!
//! The records go in through the same sync path as a device's (one upload
//! per posyandu), so the demo exercises what production does. All names are
//! invented.

use chrono::{Months, NaiveDate};
use serde::Serialize;
use sync_protocol::compact;
use sync_protocol::wire::{Ack, ChildChanges, SyncRequest};
use sync_protocol::{
    AreaCode, ChildDocument, ChildId, DeviceId, Grams, MeasurementId, MeasurementInput,
    Millimetres, Position, Profile, Scope, Sex,
};

use crate::enrol::enrol;
use crate::storage::{Role, Storage, StorageError};

/// The demo's posyandu (two in one desa of a made-up kecamatan).
pub const POSYANDU: [&str; 2] = ["353001200201", "353001200202"];

const NAMES: [&str; 20] = [
    "Ahmad Fauzi",
    "Siti Nurhaliza",
    "Muhammad Rizki",
    "Putri Ayu",
    "Dimas Pratama",
    "Nur Aini",
    "Rizky Ramadhan",
    "Aisyah Zahra",
    "Bagus Saputra",
    "Dewi Lestari",
    "Fajar Hidayat",
    "Intan Permata",
    "Yusuf Maulana",
    "Salsabila",
    "Andi Wijaya",
    "Nabila Putri",
    "Galih Prakoso",
    "Citra Kirana",
    "Reza Firmansyah",
    "Wulan Sari",
];
const MOTHERS: [&str; 10] = [
    "Sri Wahyuni",
    "Siti Aminah",
    "Nurul Hidayah",
    "Rina Marlina",
    "Dwi Astuti",
    "Yuliani",
    "Sumarni",
    "Endang Susilowati",
    "Ratna Sari",
    "Fitri Handayani",
];

/// WHO median length/height (cm) and weight (kg) by month, boys, roughly;
/// enough to make plausible demo children.
const MEDIAN: [(u32, f64, f64); 10] = [
    (0, 49.9, 3.3),
    (3, 61.4, 6.4),
    (6, 67.6, 7.9),
    (9, 72.0, 8.9),
    (12, 75.7, 9.6),
    (18, 82.3, 10.9),
    (24, 87.1, 12.2),
    (36, 96.1, 14.3),
    (48, 103.3, 16.3),
    (60, 110.0, 18.3),
];

fn median(months: u32) -> (f64, f64) {
    for w in MEDIAN.windows(2) {
        let ((m0, l0, w0), (m1, l1, w1)) = (w[0], w[1]);
        if months <= m1 {
            let t = f64::from(months - m0) / f64::from(m1 - m0);
            return (l0 + t * (l1 - l0), w0 + t * (w1 - w0));
        }
    }
    (110.0, 18.3)
}

/// What the demo made.
#[derive(Debug, Serialize)]
pub struct Demo {
    pub children: usize,
    pub measurements: usize,
    /// (role, area, token) of each enrolment made.
    pub tokens: Vec<(String, String, String)>,
}

/// Seeds the demo district into `storage`, dated so the last round is `today`'s month.
pub fn seed(storage: &dyn Storage, today: NaiveDate, now_ms: i64) -> Result<Demo, StorageError> {
    let mut tokens = Vec::new();
    let mut children = 0;
    let mut measurements = 0;
    let mut seed: u64 = 0x7475_6d62_7568;
    let mut next = move |n: u64| {
        // SplitMix64: deterministic, good enough for made-up data.
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    };
    for (p, posyandu) in POSYANDU.iter().enumerate() {
        let area = AreaCode::parse(posyandu).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let (kader, token) = enrol(
            storage,
            Role::Kader,
            Scope::Areas(vec![area]),
            &format!("Kader demo {}", p + 1),
            now_ms,
        )?;
        tokens.push(("kader".into(), posyandu.to_string(), token));
        let actor = DeviceId::new().actor();
        let mut upload = Vec::new();
        for i in 0..15 {
            let n = p * 15 + i;
            let age_months = 6 + next(48) as u32;
            let birth = today
                .checked_sub_months(Months::new(age_months))
                .and_then(|d| d.checked_sub_days(chrono::Days::new(next(28))))
                .unwrap_or(today);
            let profile = Profile {
                name: NAMES[n % NAMES.len()].to_string(),
                sex: if n % 2 == 0 { Sex::L } else { Sex::P },
                birth_date: birth,
                mother_name: MOTHERS[n % MOTHERS.len()].to_string(),
                nik: None,
                no_kk: None,
                mother_nik: None,
                father_name: None,
                rt: Some(format!("{:03}", 1 + next(5))),
                rw: Some(format!("{:03}", 1 + next(3))),
                address: None,
                posyandu: posyandu.to_string(),
                desa: None,
                birth_weight: None,
                birth_length: None,
                consent_by: None,
                consent_on: None,
            };
            let id = ChildId::new();
            let mut doc = ChildDocument::create(actor.clone(), id, &profile, now_ms)
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            // About a third of the children grow below −2 SD.
            let z = if next(3) == 0 { -2.6 } else { -0.5 } + next(10) as f64 / 20.0;
            for back in (0..12).rev() {
                let Some(months) = age_months.checked_sub(back) else {
                    continue;
                };
                let Some(date) = today.checked_sub_months(Months::new(back)) else {
                    continue;
                };
                let (l, w) = median(months);
                let length = l * (1.0 + 0.037 * z);
                let weight = w * (1.0 + 0.11 * z * 0.8);
                let input = MeasurementInput {
                    date,
                    weight: Some(Grams((weight * 1000.0).round() as u32)),
                    length: Some(Millimetres((length * 10.0).round() as u32)),
                    position: Some(if months < 24 {
                        Position::Lying
                    } else {
                        Position::Standing
                    }),
                    muac: None,
                    head: None,
                    oedema: false,
                    posyandu: posyandu.to_string(),
                    by: kader.name.clone(),
                    round: None,
                };
                doc.add_measurement(MeasurementId::new(), &input, now_ms)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?;
                measurements += 1;
            }
            upload.push(ChildChanges {
                child: id,
                changes: doc
                    .changes_since(&[])
                    .into_iter()
                    .map(|c| serde_bytes::ByteBuf::from(compact::compact(&c.bytes, |_| false)))
                    .collect(),
            });
            children += 1;
        }
        let request = SyncRequest {
            batch: uuid::Uuid::now_v7(),
            cursor: i64::MAX as u64,
            upload,
            max_page_bytes: 0,
        };
        let response = storage.sync(&kader, &request, 0, now_ms)?;
        if let Some(Ack::Rejected(reason)) =
            response.acks.iter().find(|a| matches!(a, Ack::Rejected(_)))
        {
            return Err(StorageError::Corrupt(format!(
                "demo data refused: {reason}"
            )));
        }
    }
    let district =
        AreaCode::parse(&POSYANDU[0][..4]).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let (_, token) = enrol(
        storage,
        Role::District,
        Scope::Areas(vec![district.clone()]),
        "Dinkes demo",
        now_ms,
    )?;
    tokens.push(("district".into(), district.to_string(), token));
    storage.project_all()?;
    Ok(Demo {
        children,
        measurements,
        tokens,
    })
}
