//! How an assessment is shown: the lines a kader reads after weighing, and
//! the same facts as JSON.

use growth::{Assessment, WeightGain, WeightGainStatus, ZScore};
use serde_json::{Value, json};
use sync_protocol::MeasurementAssessment;

use crate::i18n::Lang;

/// One index line of an assessment: name, z and category label.
struct IndexLine {
    name: &'static str,
    z: Option<ZScore>,
    label: Option<String>,
    alarm: bool,
}

fn lines(a: &Assessment, lang: Lang) -> Vec<IndexLine> {
    let label = |id: &'static str, en: &'static str| lang.pick(id, en).to_string();
    let lying = a.age_days < 731;
    vec![
        IndexLine {
            name: "BB/U",
            z: a.waz,
            label: a.bbu.map(|c| label(c.label_id(), c.label_en())),
            alarm: a.bbu.is_some_and(|c| c.is_alarm()),
        },
        IndexLine {
            name: if lying { "PB/U" } else { "TB/U" },
            z: a.haz,
            label: a.tbu.map(|c| label(c.label_id(), c.label_en())),
            alarm: a.tbu.is_some_and(|c| c.is_alarm()),
        },
        IndexLine {
            name: if lying { "BB/PB" } else { "BB/TB" },
            z: a.whz,
            label: a.bbtb.map(|c| label(c.label_id(), c.label_en())),
            alarm: a.bbtb.is_some_and(|c| c.is_alarm()),
        },
        IndexLine {
            name: "IMT/U",
            z: a.bmiz,
            label: a.imtu.map(|c| label(c.label_id(), c.label_en())),
            alarm: a.imtu.is_some_and(|c| c.is_alarm()),
        },
        IndexLine {
            name: "LiLA/U",
            z: a.muacz,
            label: None,
            alarm: false,
        },
        IndexLine {
            name: "LK/U",
            z: a.hcz,
            label: None,
            alarm: false,
        },
    ]
}

/// Formats a z-score rounded to 2 decimals, e.g. `-2.15`.
pub fn fmt_z(z: &ZScore) -> String {
    format!("{:.2}", z.rounded())
}

/// The weight-gain phrase: `N (naik) +300 g, KBM 400 g`.
pub fn weight_gain_text(g: &WeightGain, lang: Lang) -> String {
    let mut s = format!(
        "{} ({})",
        g.status.code(),
        lang.pick(g.status.label_id(), g.status.label_en())
    );
    if let (Some(gain), Some(kbm)) = (g.gain_g, g.kbm_g) {
        s.push_str(&format!(" {gain:+} g, KBM {kbm} g"));
    }
    if g.two_t {
        s.push_str(lang.pick(
            " — 2T: dua kali tidak naik, RUJUK ke puskesmas",
            " — 2T: no gain twice in a row, REFER to the puskesmas",
        ));
    }
    s
}

/// The text block shown after a measurement and in `child show`.
pub fn assessment_text(ma: &MeasurementAssessment, lang: Lang) -> String {
    let (a, gain) = (&ma.growth, ma.weight_gain.as_ref());
    let mut out = String::new();
    for line in lines(a, lang) {
        let Some(z) = line.z else { continue };
        let mark = if z.implausible {
            lang.pick("  ⚠ tidak wajar: ukur ulang", "  ⚠ implausible: re-measure")
        } else if line.alarm {
            "  ⚠"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {:<7}{:>6}  {}{}\n",
            line.name,
            fmt_z(&z),
            line.label.unwrap_or_default(),
            mark
        ));
    }
    if let Some(m) = ma.muac {
        let mark = if m.is_alarm() { "  ⚠" } else { "" };
        out.push_str(&format!(
            "  LiLA   {}{mark}\n",
            lang.pick(m.label_id(), m.label_en())
        ));
    }
    if let Some(g) = gain {
        out.push_str(&format!(
            "  {}: {}\n",
            lang.pick("Berat", "Weight"),
            weight_gain_text(g, lang)
        ));
    }
    if a.c9mo_flag {
        out.push_str(lang.pick(
            "  Catatan: anak < 9 bulan diukur berdiri; ukur ulang dengan berbaring.\n",
            "  Note: child under 9 months measured standing; re-measure lying down.\n",
        ));
    }
    out
}

/// The JSON form of an assessment.
pub fn assessment_json(ma: &MeasurementAssessment) -> Value {
    let (a, gain) = (&ma.growth, ma.weight_gain.as_ref());
    let z = |z: Option<ZScore>| match z {
        Some(z) => json!({"z": z.rounded(), "raw": z.raw, "implausible": z.implausible}),
        None => Value::Null,
    };
    json!({
        "age_days": a.age_days,
        "standard": a.standard.code(),
        "clenhei_cm": a.clenhei_cm,
        "c9mo_flag": a.c9mo_flag,
        "haz": z(a.haz),
        "waz": z(a.waz),
        "whz": z(a.whz),
        "bmiz": z(a.bmiz),
        "muacz": z(a.muacz),
        "hcz": z(a.hcz),
        "tbu_cat": a.tbu.map(|c| c.code()),
        "bbu_cat": a.bbu.map(|c| c.code()),
        "bbtb_cat": a.bbtb.map(|c| c.code()),
        "imtu_cat": a.imtu.map(|c| c.code()),
        "lila_cat": ma.muac.map(|c| c.code()),
        "stunted": a.is_stunted(),
        "wasted": a.is_wasted(),
        "underweight": a.is_underweight(),
        "implausible": a.implausible(),
        "weight_gain": gain.map(|g| json!({
            "status": g.status.code(),
            "gain_g": g.gain_g,
            "kbm_g": g.kbm_g,
            "two_t": g.two_t,
        })),
    })
}

/// True when the status asks for a referral or attention.
pub fn gain_needs_attention(g: &WeightGain) -> bool {
    g.two_t || g.status == WeightGainStatus::TidakNaik
}

/// Age as `10 bulan 3 hari` / `10 months 3 days` from completed months.
pub fn age_text(months: i64, days: i64, lang: Lang) -> String {
    match lang {
        Lang::Id => format!("{months} bulan {days} hari"),
        Lang::En => format!("{months} months {days} days"),
    }
}
