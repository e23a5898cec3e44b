//! The area directory: codes, names and parents of provinsi, kabupaten/kota,
//! kecamatan, desa/kelurahan and posyandu, loaded from a CSV
//! (`code,level,name,parent_code`, the layout of `shared/synthetic/areas.csv`).
//!
//! e-PPGBM exports name their areas instead of giving codes, so importing
//! them needs the walk Prov → Kab → Kec → Desa → Posyandu by name
//! ([`AreaDirectory::find_posyandu`]); reports use the same directory to
//! print names next to codes ([`AreaDirectory::name`]).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use sync_protocol::AreaLevel;
use thiserror::Error;

use super::fields::collapse_spaces;

/// Why the directory file could not be loaded.
#[derive(Debug, Error)]
pub enum AreaDirectoryError {
    #[error("cannot read the area directory {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("area directory line {line}: {reason}")]
    Line { line: u64, reason: String },
    #[error("the area directory needs the columns code, level, name, parent_code; found: {0}")]
    Header(String),
    #[error("the stored area directory is damaged at area {code}: {reason}")]
    Stored { code: String, reason: String },
}

#[derive(Debug, Clone)]
struct Area {
    level: AreaLevel,
    /// The level word as written (`desa` or `kelurahan`, `kabupaten`...).
    level_word: String,
    name: String,
    parent: Option<String>,
    /// [`full_key`] and [`short_key`] of the name, computed once.
    full: String,
    short: String,
}

/// One area as the server's database stores it (`tumbuh-server areas
/// import`): a line of the directory file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaEntry {
    pub code: String,
    /// The level word as written (`desa`, `kelurahan`, `kabupaten`…).
    pub level: String,
    pub name: String,
    pub parent: Option<String>,
}

/// Every known area, by code.
#[derive(Debug, Clone, Default)]
pub struct AreaDirectory {
    areas: HashMap<String, Area>,
    children: HashMap<Option<String>, Vec<String>>,
    by_level: BTreeMap<AreaLevel, Vec<String>>,
}

/// Why a name walk found no single area.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AreaLookupError {
    #[error("{level} `{name}` not found{within}")]
    NotFound {
        level: &'static str,
        name: String,
        within: String,
    },
    #[error("{level} `{name}` matches several areas ({codes}); give the areas above it")]
    Ambiguous {
        level: &'static str,
        name: String,
        codes: String,
    },
    #[error("no {level} name given")]
    Missing { level: &'static str },
}

/// Parses the level word of the directory file.
fn level_of(word: &str) -> Option<AreaLevel> {
    match word.trim().to_lowercase().as_str() {
        "provinsi" | "province" | "prov" => Some(AreaLevel::Province),
        "kabupaten" | "kota" | "kabupaten/kota" | "kab" => Some(AreaLevel::Kabupaten),
        "kecamatan" | "kec" => Some(AreaLevel::Kecamatan),
        "desa" | "kelurahan" | "desa/kelurahan" | "kel" => Some(AreaLevel::Desa),
        "posyandu" => Some(AreaLevel::Posyandu),
        _ => None,
    }
}

/// Words that prefix area names and are left out when matching.
const PREFIXES: &[&str] = &[
    "provinsi",
    "prov",
    "kabupaten",
    "kab",
    "kota",
    "kecamatan",
    "kec",
    "desa",
    "kelurahan",
    "kel",
    "posyandu",
    "pos",
];

/// The full key of a name: lower case, punctuation as spaces, a trailing
/// parenthesis ("(fiktif)") dropped, spaces collapsed.
fn full_key(name: &str) -> String {
    let name = match name.find('(') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    };
    let spaced: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    collapse_spaces(&spaced).to_lowercase()
}

/// The key without prefixes like "Kabupaten", "Kab.", "Desa", "Posyandu".
fn short_key(name: &str) -> String {
    let full = full_key(name);
    let mut words: Vec<&str> = full.split(' ').collect();
    while words.len() > 1 && PREFIXES.contains(&words[0]) {
        words.remove(0);
    }
    words.join(" ")
}

impl AreaDirectory {
    /// Loads `code,level,name,parent_code` (header required, any order).
    pub fn from_csv_reader<R: Read>(reader: R) -> Result<Self, AreaDirectoryError> {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = csv
            .headers()
            .map_err(|e| AreaDirectoryError::Line {
                line: 1,
                reason: e.to_string(),
            })?
            .clone();
        let col = |n: &str| {
            headers
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == n)
        };
        let (Some(code_i), Some(level_i), Some(name_i), Some(parent_i)) =
            (col("code"), col("level"), col("name"), col("parent_code"))
        else {
            return Err(AreaDirectoryError::Header(
                headers.iter().collect::<Vec<_>>().join(", "),
            ));
        };
        let mut dir = AreaDirectory::default();
        for record in csv.records() {
            let record = record.map_err(|e| AreaDirectoryError::Line {
                line: e.position().map_or(0, |p| p.line()),
                reason: e.to_string(),
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let get = |i: usize| record.get(i).unwrap_or("").trim().to_string();
            let code = get(code_i).replace('.', "");
            if code.is_empty() {
                continue;
            }
            let word = get(level_i);
            let level = level_of(&word).ok_or_else(|| AreaDirectoryError::Line {
                line,
                reason: format!("unknown level `{word}`"),
            })?;
            if code.len() != level.digits() || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AreaDirectoryError::Line {
                    line,
                    reason: format!(
                        "code `{code}` is not a {} code of {} digits",
                        level.name_id(),
                        level.digits()
                    ),
                });
            }
            let parent = Some(get(parent_i).replace('.', "")).filter(|p| !p.is_empty());
            let name = collapse_spaces(&get(name_i));
            dir.insert(code, level, &word, name, parent);
        }
        Ok(dir)
    }

    fn insert(
        &mut self,
        code: String,
        level: AreaLevel,
        word: &str,
        name: String,
        parent: Option<String>,
    ) {
        self.children
            .entry(parent.clone())
            .or_default()
            .push(code.clone());
        self.by_level.entry(level).or_default().push(code.clone());
        self.areas.insert(
            code,
            Area {
                level,
                level_word: word.to_lowercase(),
                full: full_key(&name),
                short: short_key(&name),
                name,
                parent,
            },
        );
    }

    /// The directory from the entries the server stored (checked when they
    /// were stored; an entry whose level word is unknown is refused).
    pub fn from_entries(entries: &[AreaEntry]) -> Result<Self, AreaDirectoryError> {
        let mut dir = AreaDirectory::default();
        for e in entries {
            let level = level_of(&e.level).ok_or_else(|| AreaDirectoryError::Stored {
                code: e.code.clone(),
                reason: format!("unknown level `{}`", e.level),
            })?;
            dir.insert(
                e.code.clone(),
                level,
                &e.level,
                e.name.clone(),
                e.parent.clone(),
            );
        }
        Ok(dir)
    }

    /// Every area as an entry to store, sorted by code.
    pub fn entries(&self) -> Vec<AreaEntry> {
        let mut out: Vec<AreaEntry> = self
            .areas
            .iter()
            .map(|(code, a)| AreaEntry {
                code: code.clone(),
                level: a.level_word.clone(),
                name: a.name.clone(),
                parent: a.parent.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    /// Loads the directory from a file.
    pub fn from_path(path: &Path) -> Result<Self, AreaDirectoryError> {
        let file = std::fs::File::open(path).map_err(|source| AreaDirectoryError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_csv_reader(std::io::BufReader::new(file))
    }

    /// Number of areas.
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    /// True when no area is known.
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The name of an area, as written in the directory.
    pub fn name(&self, code: &str) -> Option<&str> {
        self.areas.get(code).map(|a| a.name.as_str())
    }

    /// The level of an area.
    pub fn level(&self, code: &str) -> Option<AreaLevel> {
        self.areas.get(code).map(|a| a.level)
    }

    /// The level word as written (`desa` vs `kelurahan`).
    pub fn level_word(&self, code: &str) -> Option<&str> {
        self.areas.get(code).map(|a| a.level_word.as_str())
    }

    /// The parent's code.
    pub fn parent(&self, code: &str) -> Option<&str> {
        self.areas.get(code).and_then(|a| a.parent.as_deref())
    }

    /// The codes directly under `parent` (`None`: the top-level areas).
    pub fn children(&self, parent: Option<&str>) -> &[String] {
        self.children
            .get(&parent.map(str::to_string))
            .map_or(&[], Vec::as_slice)
    }

    /// "Posyandu Mawar 1, Mojoharjo, Kedungjati, …": the name with its
    /// parents, for reports; the code itself when unknown.
    pub fn path_name(&self, code: &str) -> String {
        let mut names = Vec::new();
        let mut at = Some(code);
        while let Some(c) = at {
            match self.areas.get(c) {
                Some(a) => names.push(a.name.clone()),
                None => break,
            }
            at = self.parent(c);
        }
        if names.is_empty() {
            code.to_string()
        } else {
            names.join(", ")
        }
    }

    /// The areas at `level` under any of `parents` (all of them at that level
    /// when `parents` is `None`) whose name matches `name`: case and spaces
    /// ignored, then prefixes like "Kab." or "Desa" ignored too.
    pub fn find_by_name(
        &self,
        level: AreaLevel,
        name: &str,
        parents: Option<&[String]>,
    ) -> Vec<String> {
        let candidates = self.at_level(level, parents);
        let pick = |want: &str, key: fn(&Area) -> &str| -> Vec<String> {
            candidates
                .iter()
                .filter(|c| self.areas.get(c.as_str()).is_some_and(|a| key(a) == want))
                .cloned()
                .collect()
        };
        let mut found = pick(&full_key(name), |a| &a.full);
        if found.is_empty() {
            found = pick(&short_key(name), |a| &a.short);
        }
        found
    }

    /// The areas at `level` under any of `parents` (all of them when
    /// `None`), sorted. Walks the children index, so a lookup costs the size
    /// of the parents' families, not of the whole directory.
    fn at_level(&self, level: AreaLevel, parents: Option<&[String]>) -> Vec<String> {
        let mut found: Vec<String> = match parents {
            Some(ps) => ps
                .iter()
                .flat_map(|p| self.children(Some(p)))
                .filter(|c| self.level(c) == Some(level))
                .cloned()
                .collect(),
            None => self.by_level.get(&level).cloned().unwrap_or_default(),
        };
        found.sort();
        found
    }

    /// Walks provinsi → kabupaten → kecamatan → desa → posyandu by name and
    /// returns the posyandu code. A level whose name is not given (column
    /// missing or cell empty) is skipped: the search goes on under all its
    /// areas. The posyandu name is required.
    pub fn find_posyandu(
        &self,
        province: Option<&str>,
        kabupaten: Option<&str>,
        kecamatan: Option<&str>,
        desa: Option<&str>,
        posyandu: Option<&str>,
    ) -> Result<String, AreaLookupError> {
        if posyandu.is_none_or(|p| p.trim().is_empty()) {
            return Err(AreaLookupError::Missing { level: "posyandu" });
        }
        let steps = [
            (AreaLevel::Province, province),
            (AreaLevel::Kabupaten, kabupaten),
            (AreaLevel::Kecamatan, kecamatan),
            (AreaLevel::Desa, desa),
            (AreaLevel::Posyandu, posyandu),
        ];
        // `None`: no constraint yet (top of the tree).
        let mut current: Option<Vec<String>> = None;
        let mut within = String::new();
        for (level, name) in steps {
            let name = name.map(str::trim).filter(|n| !n.is_empty());
            let found = match name {
                Some(n) => self.find_by_name(level, n, current.as_deref()),
                None => self.at_level(level, current.as_deref()),
            };
            if let Some(n) = name {
                if found.is_empty() {
                    return Err(AreaLookupError::NotFound {
                        level: level.name_id(),
                        name: n.to_string(),
                        within,
                    });
                }
                within = format!(
                    " in {} {}",
                    level.name_id(),
                    self.name(&found[0]).unwrap_or(n)
                );
            }
            current = Some(found);
        }
        let found = current.unwrap_or_default();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(AreaLookupError::NotFound {
                level: "posyandu",
                name: posyandu.unwrap_or("").trim().to_string(),
                within,
            }),
            many => Err(AreaLookupError::Ambiguous {
                level: "posyandu",
                name: posyandu.unwrap_or("").trim().to_string(),
                codes: many.join(", "),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AREAS: &str = "code,level,name,parent_code
35,provinsi,Jawa Timur,
3530,kabupaten,Kabupaten Sukamakmur (fiktif),35
3571,kota,Kota Sukamakmur,35
353001,kecamatan,Kedungjati,3530
3530011001,kelurahan,Mojoharjo,353001
353001100101,posyandu,Posyandu Mawar 1,3530011001
3530012001,desa,Mulyorejo,353001
353001200101,posyandu,Posyandu Mawar 1,3530012001
";

    fn dir() -> AreaDirectory {
        AreaDirectory::from_csv_reader(AREAS.as_bytes()).expect("directory")
    }

    #[test]
    fn entries_round_trip_through_the_database_form() {
        let d = dir();
        let entries = d.entries();
        assert_eq!(entries.len(), 8);
        assert_eq!(
            entries[0],
            AreaEntry {
                code: "35".into(),
                level: "provinsi".into(),
                name: "Jawa Timur".into(),
                parent: None,
            }
        );
        let back = AreaDirectory::from_entries(&entries).expect("stored entries");
        assert_eq!(back.entries(), entries);
        assert_eq!(
            back.find_posyandu(None, None, None, Some("Kel. Mojoharjo"), Some("Mawar 1")),
            Ok("353001100101".to_string())
        );
        let bad = [AreaEntry {
            level: "dusun".into(),
            ..entries[0].clone()
        }];
        assert!(AreaDirectory::from_entries(&bad).is_err());
    }

    #[test]
    fn names_levels_and_parents() {
        let d = dir();
        assert_eq!(d.len(), 8);
        assert_eq!(d.name("3530011001"), Some("Mojoharjo"));
        assert_eq!(d.level("3530011001"), Some(AreaLevel::Desa));
        assert_eq!(d.level_word("3530011001"), Some("kelurahan"));
        assert_eq!(d.level("3571"), Some(AreaLevel::Kabupaten));
        assert_eq!(d.parent("353001100101"), Some("3530011001"));
        assert_eq!(d.children(None), ["35".to_string()]);
        assert_eq!(d.name("99"), None);
    }

    #[test]
    fn the_walk_ignores_case_prefixes_and_spaces() {
        let d = dir();
        let code = d.find_posyandu(
            Some("JAWA TIMUR"),
            Some("Kab. Sukamakmur"),
            Some("Kec.  Kedungjati"),
            Some("Desa Mulyorejo"),
            Some("MAWAR 1"),
        );
        assert_eq!(code, Ok("353001200101".to_string()));
        // "Kota X" and "Kabupaten X" are told apart by the full name.
        assert_eq!(
            d.find_by_name(AreaLevel::Kabupaten, "Kota Sukamakmur", None),
            ["3571"]
        );
        assert_eq!(
            d.find_posyandu(
                None,
                None,
                None,
                Some("Kel. Mojoharjo"),
                Some("Posyandu Mawar 1")
            ),
            Ok("353001100101".to_string())
        );
    }

    #[test]
    fn a_missing_name_says_which() {
        let d = dir();
        let err = d
            .find_posyandu(
                Some("Jawa Timur"),
                Some("Sukamakmur"),
                Some("Kedungjati"),
                Some("Sukamaju"),
                Some("Mawar 1"),
            )
            .expect_err("not found");
        assert_eq!(
            err.to_string(),
            "desa/kelurahan `Sukamaju` not found in kecamatan Kedungjati"
        );
        let err = d
            .find_posyandu(None, None, None, None, Some("Mawar 1"))
            .expect_err("ambiguous");
        assert!(matches!(err, AreaLookupError::Ambiguous { .. }), "{err}");
    }
}
