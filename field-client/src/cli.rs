//! The command line of `tumbuh`, as clap types. Parsing only: the commands
//! live in [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::i18n::Lang;
use crate::store::StoreFile;

/// Tumbuh: catat penimbangan dan pengukuran anak di posyandu, tanpa sinyal.
/// Record children's weights and heights at the posyandu, offline.
#[derive(Debug, Parser)]
#[command(name = "tumbuh", version, propagate_version = true)]
pub struct Cli {
    /// The local store (default: the platform data folder).
    #[arg(long, global = true, env = "TUMBUH_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Language of messages: id (Bahasa Indonesia) or en (English).
    #[arg(long, global = true, env = "TUMBUH_LANG", value_enum, default_value_t = Lang::Id)]
    pub lang: Lang,
    /// Print data as JSON (one document on stdout).
    #[arg(long, global = true)]
    pub json: bool,
    /// Read the PIN from the first line of stdin (for scripts; `pin change`
    /// reads the new PIN from the second line). Without it the PIN comes
    /// from TUMBUH_PIN (and TUMBUH_NEW_PIN), else a hidden prompt on the terminal.
    #[arg(long, global = true)]
    pub pin_stdin: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the local store for this device.
    Init(InitArgs),
    /// Register, list, show and edit children.
    #[command(subcommand)]
    Child(ChildCommand),
    /// Find children by name, mother's name or NIK (tolerant of spelling variants).
    Search(SearchArgs),
    /// Record a measurement (and show the assessment at once), or void one.
    Measure(MeasureArgs),
    /// Record a verval check on a child from the worklist: the birth date or
    /// sex read from a document, a re-measurement, or the record confirmed.
    Verify(VerifyArgs),
    /// Compute WHO z-scores for a CSV file (batch mode for analysts).
    Zscore(ZscoreArgs),
    /// Sign in to the Tumbuh server with the enrolment token from the district.
    Login(LoginArgs),
    /// Send what was recorded offline and receive the area's updates.
    Sync(SyncArgs),
    /// What waits to be sent, and when the last sync succeeded.
    Status,
    /// Sync by file where there is no signal at all.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Change the PIN that unlocks the store, or encrypt an old store.
    #[command(subcommand)]
    Pin(PinCommand),
}

#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Change the PIN (asks for the current PIN, then the new one twice).
    Change,
    /// Encrypt a store made before PINs, under a new PIN.
    Set,
}

/// Which PINs a command needs before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinNeed {
    /// None (the command does not touch the store).
    None,
    /// The current PIN, to unlock the store.
    Current,
    /// A new PIN (asked twice on a terminal): `init`, `pin set`.
    New,
    /// The current PIN and a new one: `pin change`.
    CurrentAndNew,
}

impl Command {
    /// Which PINs this command needs, given what is at the store's path
    /// (none is asked for when the command can only fail: a store that is
    /// not there or not encrypted, `init` over an existing one).
    pub fn pin_need(&self, store: StoreFile) -> PinNeed {
        match (self, store) {
            (Command::Zscore(_), _) => PinNeed::None,
            (Command::Init(_), StoreFile::Missing) => PinNeed::New,
            (Command::Pin(PinCommand::Set), StoreFile::Plain) => PinNeed::New,
            (_, StoreFile::Missing | StoreFile::Plain) => PinNeed::None,
            (Command::Init(_) | Command::Pin(PinCommand::Set), StoreFile::Encrypted) => {
                PinNeed::None
            }
            (Command::Pin(PinCommand::Change), StoreFile::Encrypted) => PinNeed::CurrentAndNew,
            (_, StoreFile::Encrypted) => PinNeed::Current,
        }
    }
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server address, e.g. https://tumbuh.dinkes.example.go.id
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// The enrolment token printed by `tumbuh-server device add`.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "TUMBUH_TOKEN",
        hide_env_values = true
    )]
    pub token: String,
    /// Allow plain http:// to a server that is not on this machine (the
    /// token and children's data would cross the network unencrypted).
    #[arg(long)]
    pub insecure: bool,
    /// Trust this CA certificate (PEM) for the server, e.g. a district's own CA.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Give up retrying after this many seconds (nothing is lost; sync again later).
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Write everything the server has not acknowledged into FILE.
    Export {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Apply the server's reply bundle.
    Import {
        #[arg(value_name = "REPLY")]
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The 12-digit posyandu code (province 2 + kabupaten 2 + kecamatan 2 + desa 4 + posyandu 2).
    #[arg(long, value_name = "CODE")]
    pub posyandu: String,
    /// The kader's name (recorded with every measurement made on this device).
    #[arg(long, value_name = "NAME")]
    pub kader: String,
}

#[derive(Debug, Subcommand)]
pub enum ChildCommand {
    /// Register a new child.
    Add(ChildAddArgs),
    /// List the children in the store.
    List(ChildListArgs),
    /// Show a child's record: profile, measurements, z-scores, N/T, growth chart.
    Show(ChildShowArgs),
    /// Change profile fields of a child.
    Edit(ChildEditArgs),
}

/// Profile fields, shared by `child add` and `child edit`.
#[derive(Debug, Args, Default)]
pub struct ProfileArgs {
    /// Child's name as typed.
    #[arg(long)]
    pub name: Option<String>,
    /// L (laki-laki) or P (perempuan).
    #[arg(long)]
    pub sex: Option<String>,
    /// YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY.
    #[arg(long, value_name = "DATE")]
    pub birth_date: Option<String>,
    #[arg(long)]
    pub mother_name: Option<String>,
    /// Child's NIK (16 digits).
    #[arg(long)]
    pub nik: Option<String>,
    /// Family card number (No. KK, 16 digits).
    #[arg(long)]
    pub no_kk: Option<String>,
    #[arg(long)]
    pub mother_nik: Option<String>,
    #[arg(long)]
    pub father_name: Option<String>,
    #[arg(long)]
    pub rt: Option<String>,
    #[arg(long)]
    pub rw: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
    /// The parent or guardian who consented to recording the child's data,
    /// e.g. "Sri (ibu)" (UU 27/2022). An empty value withdraws it.
    #[arg(long, value_name = "NAME")]
    pub consent_by: Option<String>,
    /// The day consent was given (default: today).
    #[arg(long, value_name = "DATE", requires = "consent_by")]
    pub consent_on: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChildAddArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Register even though a similar child exists (after checking the candidates).
    #[arg(long)]
    pub new: bool,
}

#[derive(Debug, Args)]
pub struct ChildListArgs {
    /// Only children whose latest length/height-for-age is below −2 SD.
    #[arg(long)]
    pub stunted: bool,
    /// Only children with no measurement in this month (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM")]
    pub not_measured_in: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChildShowArgs {
    /// Child id or a unique prefix of it.
    pub id: String,
}

#[derive(Debug, Args)]
pub struct ChildEditArgs {
    /// Child id or a unique prefix of it.
    pub id: String,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Name, mother's name or NIK.
    pub text: String,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct MeasureArgs {
    #[command(subcommand)]
    pub action: Option<MeasureAction>,
    /// Child id or a unique prefix of it.
    #[arg(required = true)]
    pub id: Option<String>,
    /// Date of the measurement (default: today).
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Weight in kg (e.g. 8.35).
    #[arg(long, value_name = "KG", required = true)]
    pub weight: Option<f64>,
    /// Length (lying) or height (standing) in cm.
    #[arg(long, value_name = "CM", requires = "position")]
    pub height: Option<f64>,
    /// How the length/height was measured.
    #[arg(long, value_name = "lying|standing", requires = "height")]
    pub position: Option<String>,
    /// Mid-upper arm circumference (LiLA) in cm.
    #[arg(long, value_name = "CM")]
    pub muac: Option<f64>,
    /// Head circumference in cm.
    #[arg(long, value_name = "CM")]
    pub head: Option<f64>,
    /// Bilateral pitting oedema present.
    #[arg(long)]
    pub oedema: bool,
}

#[derive(Debug, Subcommand)]
pub enum MeasureAction {
    /// Void a wrong measurement (it is kept, marked with the reason).
    Void(VoidArgs),
}

#[derive(Debug, Args)]
pub struct VoidArgs {
    /// Measurement id or a unique prefix of it.
    pub id: String,
    /// Why it is wrong.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("check").required(true).args(["birth_date", "sex", "remeasure", "confirmed"])))]
pub struct VerifyArgs {
    /// Child id or a unique prefix of it.
    pub id: String,
    /// The birth date as read from the document (needs --source).
    #[arg(long, value_name = "DATE", requires = "source")]
    pub birth_date: Option<String>,
    /// The sex as read from the document, L or P (needs --source).
    #[arg(long, value_name = "L|P", requires = "source")]
    pub sex: Option<String>,
    /// The document: kia (buku KIA), kk (Kartu Keluarga) or akta (akta kelahiran).
    #[arg(long, value_name = "kia|kk|akta")]
    pub source: Option<String>,
    /// The child was measured again for the check (with --weight, --height, --position).
    #[arg(long, requires = "weight")]
    pub remeasure: bool,
    /// The record was checked and is correct as it stands.
    #[arg(long)]
    pub confirmed: bool,
    /// The verval round the check is for, YYYY-MM (default: this month).
    #[arg(long, value_name = "YYYY-MM")]
    pub round: Option<String>,
    /// Re-measurement: date (default: today).
    #[arg(long, value_name = "DATE", requires = "remeasure")]
    pub date: Option<String>,
    /// Re-measurement: weight in kg.
    #[arg(long, value_name = "KG", requires = "remeasure")]
    pub weight: Option<f64>,
    /// Re-measurement: length (lying) or height (standing) in cm.
    #[arg(long, value_name = "CM", requires_all = ["remeasure", "position"])]
    pub height: Option<f64>,
    /// Re-measurement: how the length/height was measured.
    #[arg(long, value_name = "lying|standing", requires_all = ["remeasure", "height"])]
    pub position: Option<String>,
}

#[derive(Debug, Args)]
pub struct ZscoreArgs {
    /// Input CSV: sex,dob,measure_date,weight_kg,lenhei_cm,measure[,oedema]; other columns are passed through.
    #[arg(long, value_name = "IN.csv")]
    pub input: PathBuf,
    /// Output CSV (the input columns plus the computed ones).
    #[arg(long, value_name = "OUT.csv")]
    pub output: PathBuf,
    /// Write bad rows with an `error` column instead of stopping at the first.
    #[arg(long)]
    pub skip_bad: bool,
}
