//! The user's language: Bahasa Indonesia by default, English with `--lang en`.
//!
//! Each message is written at its call site in both languages
//! (`lang.pick("Anak terdaftar", "Child registered")`), so a translation can
//! never drift away from the code that uses it.

use clap::ValueEnum;

/// The language of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Lang {
    /// Bahasa Indonesia.
    #[default]
    Id,
    /// English.
    En,
}

impl Lang {
    /// The message in this language.
    pub fn pick<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

/// An error for the user, in both languages. Command code returns it (inside
/// `anyhow::Error`); the binary prints the text in the user's language.
#[derive(Debug, Clone)]
pub struct UserError {
    pub id: String,
    pub en: String,
    /// Process exit code (2 = bad input, 3 = refused because of a likely duplicate).
    pub exit_code: u8,
    /// Extra data for `--json` output.
    pub json: Option<serde_json::Value>,
}

impl UserError {
    /// A bad-input error (exit code 2).
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            en: en.into(),
            exit_code: 2,
            json: None,
        }
    }

    /// The message in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.id, &self.en)
    }
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

impl std::error::Error for UserError {}

/// Shorthand: `Err(user_error(..))?` in command code.
pub fn user_error(id: impl Into<String>, en: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError::new(id, en))
}
