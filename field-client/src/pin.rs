//! The kader's PIN and the key it unlocks.
//!
//! The local store is one SQLCipher database (AES-256 pages, each with an
//! HMAC-SHA512) opened with a *raw* 256-bit key. The key is never stored: it
//! is derived from the PIN with Argon2id, under a random 16-byte salt and cost
//! parameters kept in a small plaintext sidecar beside the store
//! (`tumbuh.db.kdf`, [`KeyFile`]). The sidecar holds no secret: without the
//! PIN it only tells an attacker how expensive each guess is.
//!
//! A wrong PIN gives a wrong key, and SQLCipher refuses the first page (its
//! HMAC does not verify): there is no separate PIN verifier to attack.

use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

/// Shortest PIN accepted (digits).
pub const MIN_DIGITS: usize = 6;
/// Longest PIN accepted (digits).
pub const MAX_DIGITS: usize = 64;

/// A PIN as typed. Its `Debug` never shows it and its memory is wiped when
/// dropped.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// A PIN from what was typed or read (surrounding whitespace, such as the
    /// newline of a line read from stdin, is dropped).
    pub fn new(text: &str) -> Pin {
        Pin(Zeroizing::new(text.trim().to_string()))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Checks a *new* PIN: 6 to 64 digits, and not one that every thief tries
    /// first (one digit repeated, a run up or down such as `123456`).
    pub fn check_new(&self) -> Result<(), PinProblem> {
        let digits = self.bytes();
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(PinProblem::NotDigits);
        }
        if digits.len() < MIN_DIGITS {
            return Err(PinProblem::TooShort);
        }
        if digits.len() > MAX_DIGITS {
            return Err(PinProblem::TooLong);
        }
        let steps: Vec<i16> = digits
            .windows(2)
            .map(|w| (i16::from(w[1]) - i16::from(w[0])).rem_euclid(10))
            .collect();
        let run = |step: i16| steps.iter().all(|&s| s == step);
        if run(0) || run(1) || run(9) {
            return Err(PinProblem::Trivial);
        }
        Ok(())
    }
}

impl PartialEq for Pin {
    fn eq(&self, other: &Pin) -> bool {
        self.bytes() == other.bytes()
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(***)")
    }
}

/// Why a new PIN is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PinProblem {
    #[error("the PIN must be digits only")]
    NotDigits,
    #[error("the PIN must have at least {MIN_DIGITS} digits")]
    TooShort,
    #[error("the PIN must have at most {MAX_DIGITS} digits")]
    TooLong,
    #[error("the PIN is too easy to guess (one digit repeated, or a run such as 123456)")]
    Trivial,
}

impl PinProblem {
    /// The reason in Bahasa Indonesia.
    pub fn indonesian(self) -> String {
        match self {
            PinProblem::NotDigits => "PIN hanya boleh berisi angka".to_string(),
            PinProblem::TooShort => format!("PIN minimal {MIN_DIGITS} angka"),
            PinProblem::TooLong => format!("PIN maksimal {MAX_DIGITS} angka"),
            PinProblem::Trivial => {
                "PIN terlalu mudah ditebak (satu angka berulang, atau urutan seperti 123456)"
                    .to_string()
            }
        }
    }
}

/// Argon2id cost: memory in KiB, passes, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl KdfParams {
    /// The cost of every new store: 19 MiB, 2 passes, 1 lane — OWASP's
    /// recommended minimum for Argon2id. Every `tumbuh` command unlocks the
    /// store, so this is paid per command: about 20 ms on one core of the
    /// build machine, which keeps `tumbuh measure` within its 30 ms aim; a
    /// costlier setting buys little against an offline attack on a 6-digit
    /// PIN (see SECURITY.md for the figures). Stores keep the cost they
    /// were made with (it is in their `.kdf` file).
    pub const PHONE: KdfParams = KdfParams {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };

    /// Almost no cost, for tests only (`TUMBUH_INSECURE_TEST_KDF=1`): the
    /// end-to-end tests run the binary thousands of times. A store made with
    /// it is as easy to brute-force as its PIN is short.
    pub const INSECURE_TEST: KdfParams = KdfParams {
        m_kib: 8,
        t: 1,
        p: 1,
    };
}

/// The sidecar `<store>.kdf`: how to turn the PIN into the store's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Always `"tumbuh-store-kdf"`.
    pub format: String,
    /// Always 1.
    pub version: u32,
    /// Always `"argon2id"` (version 0x13).
    pub kdf: String,
    #[serde(flatten)]
    pub params: KdfParams,
    /// 16 random bytes, hex.
    pub salt: String,
}

const FORMAT: &str = "tumbuh-store-kdf";

/// What can go wrong with the sidecar or the derivation.
#[derive(Debug, Error)]
pub enum KeyFileError {
    #[error("the key file {0} is missing")]
    Missing(PathBuf),
    #[error("the key file {path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error("cannot write the key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the sidecar of the store at `db` lives: `<db>.kdf`.
pub fn key_file_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_os_string();
    name.push(".kdf");
    PathBuf::from(name)
}

impl KeyFile {
    /// A new sidecar with a fresh random salt.
    pub fn new(params: KdfParams) -> KeyFile {
        let salt: [u8; 16] = rand::random();
        KeyFile {
            format: FORMAT.to_string(),
            version: 1,
            kdf: "argon2id".to_string(),
            params,
            salt: hex::encode(salt),
        }
    }

    /// Reads and checks the sidecar of the store at `db`.
    pub fn read(db: &Path) -> Result<KeyFile, KeyFileError> {
        let path = key_file_path(db);
        let damaged = |reason: String| KeyFileError::Damaged {
            path: path.clone(),
            reason,
        };
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyFileError::Missing(path));
            }
            Err(e) => return Err(damaged(e.to_string())),
        };
        let file: KeyFile = serde_json::from_slice(&text).map_err(|e| damaged(e.to_string()))?;
        if file.format != FORMAT || file.version != 1 || file.kdf != "argon2id" {
            return Err(damaged(format!(
                "unknown format {} version {} kdf {}",
                file.format, file.version, file.kdf
            )));
        }
        file.salt_bytes().map_err(damaged)?;
        file.argon2().map_err(damaged)?;
        Ok(file)
    }

    /// Writes the sidecar of the store at `db` durably: a temporary file,
    /// flushed, renamed over the old one, and the folder flushed.
    pub fn write(&self, db: &Path) -> Result<(), KeyFileError> {
        let path = key_file_path(db);
        let error = |source| KeyFileError::Write {
            path: path.clone(),
            source,
        };
        let mut tmp = path.as_os_str().to_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let text = serde_json::to_vec_pretty(self).map_err(|e| error(e.into()))?;
        let mut file = std::fs::File::create(&tmp).map_err(error)?;
        file.write_all(&text).map_err(error)?;
        file.write_all(b"\n").map_err(error)?;
        file.sync_all().map_err(error)?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(error)?;
        sync_folder(&path).map_err(error)?;
        Ok(())
    }

    fn salt_bytes(&self) -> Result<Vec<u8>, String> {
        let salt = hex::decode(&self.salt).map_err(|e| format!("salt: {e}"))?;
        if salt.len() < 16 {
            return Err(format!("salt of {} bytes, need 16", salt.len()));
        }
        Ok(salt)
    }

    fn argon2(&self) -> Result<Argon2<'static>, String> {
        let p = self.params;
        // Refuse absurd costs from a damaged or hostile file (at most 4 GiB,
        // 100 passes, 16 lanes) rather than try to allocate them.
        if p.m_kib > 4 * 1024 * 1024 || p.t > 100 || p.p > 16 {
            return Err(format!(
                "cost out of range (m={} KiB, t={}, p={})",
                p.m_kib, p.t, p.p
            ));
        }
        let params = Params::new(p.m_kib, p.t, p.p, Some(32)).map_err(|e| e.to_string())?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// The store's 256-bit key for `pin`.
    pub fn derive(&self, pin: &Pin) -> Result<Zeroizing<[u8; 32]>, String> {
        let salt = self.salt_bytes()?;
        let mut key = Zeroizing::new([0u8; 32]);
        self.argon2()?
            .hash_password_into(pin.bytes(), &salt, key.as_mut())
            .map_err(|e| e.to_string())?;
        Ok(key)
    }
}

/// Flushes the folder holding `path`, so that a rename in it survives a
/// power cut.
pub(crate) fn sync_folder(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// SQL that sets the raw key `key` on a fresh connection (`PRAGMA key`) or
/// changes it (`PRAGMA rekey`), wiped after use.
pub(crate) fn key_pragma(pragma: &str, key: &[u8; 32]) -> Zeroizing<String> {
    let mut sql = Zeroizing::new(String::with_capacity(90));
    sql.push_str("PRAGMA ");
    sql.push_str(pragma);
    sql.push_str(" = \"x'");
    for b in key {
        sql.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
        sql.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
    }
    sql.push_str("'\";");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_pins_are_checked() {
        let check = |s: &str| Pin::new(s).check_new();
        assert_eq!(check("12345"), Err(PinProblem::TooShort));
        assert_eq!(check("12a456"), Err(PinProblem::NotDigits));
        assert_eq!(check("111111"), Err(PinProblem::Trivial));
        assert_eq!(check("123456"), Err(PinProblem::Trivial));
        assert_eq!(check("987654"), Err(PinProblem::Trivial));
        assert_eq!(check("890123"), Err(PinProblem::Trivial));
        assert_eq!(check(&"5".repeat(65)), Err(PinProblem::TooLong));
        assert_eq!(check("246810"), Ok(()));
        assert_eq!(check(" 480213\n"), Ok(()));
        assert_eq!(check(&"13".repeat(33)), Err(PinProblem::TooLong));
    }

    #[test]
    fn the_key_depends_on_pin_and_salt() {
        let file = KeyFile::new(KdfParams::INSECURE_TEST);
        let a = file.derive(&Pin::new("246810")).expect("derive");
        let b = file.derive(&Pin::new("246811")).expect("derive");
        let other = KeyFile::new(KdfParams::INSECURE_TEST);
        let c = other.derive(&Pin::new("246810")).expect("derive");
        assert_ne!(*a, *b);
        assert_ne!(*a, *c);
        assert_eq!(*a, *file.derive(&Pin::new("246810")).expect("derive"));
    }

    #[test]
    fn debug_hides_the_pin() {
        assert_eq!(format!("{:?}", Pin::new("246810")), "Pin(***)");
    }

    #[test]
    fn key_pragma_is_raw_hex() {
        let sql = key_pragma("key", &[0xab; 32]);
        assert_eq!(
            sql.as_str(),
            format!("PRAGMA key = \"x'{}'\";", "AB".repeat(32))
        );
    }
}
