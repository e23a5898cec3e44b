//! The `tumbuh` commands. Each takes the parsed arguments and a [`Context`],
//! writes its result to `out` (text or JSON) and returns an error for the
//! binary to print in the user's language.

mod child;
mod init;
mod measure;
mod pin;
mod search;
mod sync;
mod verify;
mod zscore;

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cli::{BundleCommand, ChildCommand, Cli, Command, PinCommand};
use crate::i18n::{Lang, user_error};
use crate::pin::{KdfParams, Pin};
use crate::store::{Failpoint, Store};

/// What every command needs besides its arguments. Built by the binary, so
/// that the library reads no environment and no clock of its own.
#[derive(Debug, Clone)]
pub struct Context {
    pub db: PathBuf,
    pub lang: Lang,
    pub json: bool,
    /// Today's date on the device (measurements may not be later).
    pub today: NaiveDate,
    /// Now, in Unix milliseconds (stamped on changes).
    pub now_ms: i64,
    pub failpoint: Option<Failpoint>,
    /// The PIN given for this command (current, or new for `init` and
    /// `pin set`); `None` when the command needs none or none was given.
    pub pin: Option<Pin>,
    /// The new PIN of `pin change`.
    pub new_pin: Option<Pin>,
    /// The Argon2id cost for a store created now.
    pub kdf: KdfParams,
}

impl Context {
    /// Opens the store, arming the failpoint if any.
    fn open_store(&self) -> anyhow::Result<Store> {
        let pin = self.current_pin()?;
        let mut store = Store::open(&self.db, pin).map_err(|e| self.store_error(e))?;
        store.set_failpoint(self.failpoint);
        Ok(store)
    }

    /// The PIN that unlocks the store; a missing store is reported first.
    fn current_pin(&self) -> anyhow::Result<&Pin> {
        use crate::store::{StoreError, StoreFile, inspect};
        match inspect(&self.db) {
            StoreFile::Missing => {
                return Err(self.store_error(StoreError::NotInitialised(self.db.clone())));
            }
            StoreFile::Plain => {
                return Err(self.store_error(StoreError::Unencrypted(self.db.clone())));
            }
            StoreFile::Encrypted => {}
        }
        self.pin.as_ref().ok_or_else(|| {
            user_error(
                "PIN diperlukan: ketik di terminal, atau beri --pin-stdin atau TUMBUH_PIN",
                "a PIN is needed: type it on a terminal, or give --pin-stdin or TUMBUH_PIN",
            )
        })
    }

    /// A new PIN (for `init`, `pin set`, `pin change`), checked for strength.
    fn new_pin<'a>(&self, pin: Option<&'a Pin>) -> anyhow::Result<&'a Pin> {
        let pin = pin.ok_or_else(|| {
            user_error(
                "PIN baru diperlukan: ketik di terminal, atau beri --pin-stdin atau TUMBUH_PIN",
                "a new PIN is needed: type it on a terminal, or give --pin-stdin or TUMBUH_PIN",
            )
        })?;
        pin.check_new().map_err(|problem| {
            user_error(
                format!(
                    "{} (PIN ini yang membuka data anak di perangkat ini)",
                    problem.indonesian()
                ),
                format!("{problem} (this PIN unlocks the children's data on this device)"),
            )
        })?;
        Ok(pin)
    }

    /// Turns store errors the user can act on into bilingual messages.
    fn store_error(&self, e: crate::store::StoreError) -> anyhow::Error {
        use crate::store::StoreError as E;
        match &e {
            E::NotInitialised(p) => user_error(
                format!(
                    "belum ada penyimpanan Tumbuh di {}: jalankan dulu `tumbuh init --posyandu KODE --kader NAMA`",
                    p.display()
                ),
                e.to_string(),
            ),
            E::AlreadyInitialised(p) => user_error(
                format!("penyimpanan Tumbuh sudah ada di {}", p.display()),
                e.to_string(),
            ),
            E::NoSuchChild(id) => {
                user_error(format!("tidak ada anak dengan id {id}"), e.to_string())
            }
            E::NoSuchMeasurement(id) => user_error(
                format!("tidak ada pengukuran dengan id {id}"),
                e.to_string(),
            ),
            E::Ambiguous { prefix, count } => user_error(
                format!(
                    "awalan id `{prefix}` cocok dengan {count} catatan; ketik lebih banyak karakter"
                ),
                e.to_string(),
            ),
            E::WrongPin(_) => user_error(
                "PIN salah (atau penyimpanan atau berkas kuncinya rusak): penyimpanan tidak dibuka dan tidak ada yang diubah",
                "wrong PIN (or a damaged store or key file): the store was not opened and nothing was changed",
            ),
            E::Unencrypted(p) => user_error(
                format!(
                    "penyimpanan di {} belum dienkripsi (dibuat sebelum ada PIN): jalankan `tumbuh pin set` untuk mengenkripsinya dengan PIN",
                    p.display()
                ),
                e.to_string(),
            ),
            E::AlreadyEncrypted(p) => user_error(
                format!(
                    "penyimpanan di {} sudah dilindungi PIN: gunakan `tumbuh pin change`",
                    p.display()
                ),
                e.to_string(),
            ),
            E::KeyFile(crate::pin::KeyFileError::Missing(p)) => user_error(
                format!(
                    "berkas kunci {} hilang: tanpa berkas itu penyimpanan tidak dapat dibuka (salin kembali bersama penyimpanannya)",
                    p.display()
                ),
                format!(
                    "the key file {} is missing: the store cannot be opened without it (copy it back with the store)",
                    p.display()
                ),
            ),
            E::KeyFile(crate::pin::KeyFileError::Damaged { path, reason }) => user_error(
                format!("berkas kunci {} rusak: {reason}", path.display()),
                e.to_string(),
            ),
            _ => anyhow::Error::new(e),
        }
    }

    /// Writes JSON to `out`.
    fn print_json(&self, out: &mut dyn Write, value: &serde_json::Value) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut *out, value)?;
        writeln!(out)?;
        Ok(())
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(args) => init::run(&args, ctx, out),
        Command::Child(ChildCommand::Add(args)) => child::add(&args, ctx, out),
        Command::Child(ChildCommand::List(args)) => child::list(&args, ctx, out),
        Command::Child(ChildCommand::Show(args)) => child::show(&args, ctx, out),
        Command::Child(ChildCommand::Edit(args)) => child::edit(&args, ctx, out),
        Command::Search(args) => search::run(&args, ctx, out),
        Command::Measure(args) => measure::run(&args, ctx, out),
        Command::Verify(args) => verify::run(&args, ctx, out),
        Command::Zscore(args) => zscore::run(&args, ctx, out),
        Command::Login(args) => sync::login(&args, ctx, out),
        Command::Sync(args) => sync::sync(&args, ctx, out),
        Command::Status => sync::status(ctx, out),
        Command::Bundle(BundleCommand::Export { file }) => sync::bundle_export(&file, ctx, out),
        Command::Bundle(BundleCommand::Import { file }) => sync::bundle_import(&file, ctx, out),
        Command::Pin(PinCommand::Change) => pin::change(ctx, out),
        Command::Pin(PinCommand::Set) => pin::set(ctx, out),
    }
}
