//! `tumbuh search TEXT`: finds children by name, mother's name or NIK,
//! tolerant of the spelling variants kader type (Rizky/Rizki, M./Muhammad).

use std::io::Write;

use serde_json::{Value, json};

use super::Context;
use super::child::all_children;

/// Below this similarity a name is not shown as a match.
const MIN_SIMILARITY: f64 = 0.80;
/// At most this many results.
const MAX_RESULTS: usize = 20;

pub fn run(
    args: &super::super::cli::SearchArgs,
    ctx: &Context,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let lang = ctx.lang;
    let store = ctx.open_store()?;
    let text = args.text.trim();
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let by_number =
        !digits.is_empty() && digits.len() == text.chars().filter(|c| !c.is_whitespace()).count();
    let mut hits: Vec<(f64, super::child::ChildRow)> = Vec::new();
    for row in all_children(store.conn())? {
        let score = if by_number {
            if row.nik.as_deref().is_some_and(|n| n.starts_with(&digits)) {
                1.0
            } else {
                0.0
            }
        } else {
            let name = linkage::name_similarity(text, &row.name);
            let mother = linkage::name_similarity(text, &row.mother_name) * 0.95;
            name.max(mother)
        };
        if score >= MIN_SIMILARITY {
            hits.push((score, row));
        }
    }
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    hits.truncate(MAX_RESULTS);
    if ctx.json {
        let list: Vec<Value> = hits
            .iter()
            .map(|(s, r)| {
                let mut v = r.json();
                v["score"] = json!(s);
                v
            })
            .collect();
        return ctx.print_json(out, &Value::Array(list));
    }
    if hits.is_empty() {
        writeln!(out, "{}", lang.pick("Tidak ditemukan.", "Nothing found."))?;
        return Ok(());
    }
    let id_len = super::child::unique_prefix_len(hits.iter().map(|(_, r)| r.id.as_str()));
    for (_, r) in &hits {
        writeln!(
            out,
            "{}  ({}: {})",
            r.line(lang, id_len),
            lang.pick("ibu", "mother"),
            r.mother_name
        )?;
    }
    Ok(())
}
