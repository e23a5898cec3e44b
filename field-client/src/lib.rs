//! The Tumbuh field client: the offline store and commands behind the
//! `tumbuh` CLI that kader and bidan use at the posyandu.
//!
//! - [`store`]: the local SQLite store (Automerge changes + derived tables),
//!   encrypted at rest under a key unlocked by the kader's PIN ([`pin`]).
//! - [`projection`]: derived rows (z-scores, N/T) from a child's document.
//! - [`commands`]: one module per command; [`cli`] is the clap definition.
//! - [`sync`]: sync with the server (HTTP and file bundles).
//! - [`batch`]: the streaming CSV z-score calculator.
//! - [`report`], [`chart`]: how results are shown; [`i18n`]: Indonesian/English.

pub mod batch;
pub mod chart;
pub mod cli;
pub mod commands;
pub mod dates;
pub mod i18n;
pub mod pin;
pub mod projection;
pub mod report;
pub mod store;
pub mod sync;

use std::path::PathBuf;

/// Where the store lives when neither `--db` nor `TUMBUH_DB` says: the
/// platform's data folder (e.g. `~/.local/share/tumbuh/tumbuh.db`).
pub fn default_db_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("id", "Tumbuh", "tumbuh").map(|d| d.data_dir().join("tumbuh.db"))
}
