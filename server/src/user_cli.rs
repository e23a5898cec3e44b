//! `tumbuh-server user …`: the people who sign in with a password
//! (district, puskesmas and bidan staff, administrators), separate from the
//! field devices' tokens (`device …`). Binary-only, like `district_cli`.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Subcommand;
use sync_protocol::{AreaCode, Scope};
use tumbuh_server::{Role, Storage, people};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person; the password is asked for (hidden) on a terminal, else
    /// read from the first line of standard input.
    Add {
        /// The sign-in name.
        name: String,
        /// bidan, puskesmas, district or admin (kader work on devices).
        #[arg(long)]
        role: Role,
        /// Area code(s), as for `device add`.
        #[arg(
            long,
            value_name = "CODE",
            required_unless_present = "all_areas",
            value_delimiter = ','
        )]
        area: Vec<String>,
        /// Admin only: every area.
        #[arg(long)]
        all_areas: bool,
    },
    /// List the people (disabled and locked ones marked).
    List,
    /// Set a new password (ends the person's open sessions, unlocks the name).
    Password { name: String },
    /// Disable a person who left: sign-in refused, open sessions ended.
    Disable { name: String },
}

/// The password: hidden prompt (twice) on a terminal, else one line of stdin.
fn read_password(name: &str) -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("password for {name}: "))?;
        let again = rpassword::prompt_password("again: ")?;
        if first != again {
            bail!("the two passwords differ; nothing changed");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    people::check_policy(name, &password)?;
    Ok(password)
}

pub fn run(
    storage: &dyn Storage,
    command: &UserCommand,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            area,
            all_areas,
        } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("the sign-in name must not be empty");
            }
            if *role == Role::Kader {
                bail!(
                    "kader work on field devices: enrol the device with `device add --role kader`"
                );
            }
            let scope = if *all_areas {
                if *role != Role::Admin {
                    bail!("--all-areas is for admin only");
                }
                Scope::All
            } else {
                Scope::Areas(
                    area.iter()
                        .map(|a| AreaCode::parse(a))
                        .collect::<Result<Vec<_>, _>>()?,
                )
            };
            role.check_scope(&scope).map_err(anyhow::Error::msg)?;
            let password = read_password(name)?;
            let user = storage.add_user(
                name,
                *role,
                &scope,
                &people::hash_password(&password)?,
                now_ms,
            )?;
            if json {
                return crate::print_json(&user);
            }
            println!(
                "added {} {} ({}), area {}; sign in with POST /v1/session",
                user.role.code(),
                user.name,
                user.id,
                user.scope.to_text()
            );
            Ok(())
        }
        UserCommand::List => {
            let users = storage.users()?;
            if json {
                return crate::print_json(&users);
            }
            for u in users {
                let mut state = String::new();
                if u.disabled_at_ms.is_some() {
                    state.push_str(" [disabled]");
                }
                if u.locked_until_ms.is_some_and(|t| t > now_ms) {
                    state.push_str(" [locked]");
                }
                println!(
                    "{:<20} {:<10} {}{state}",
                    u.name,
                    u.role.code(),
                    u.scope.to_text()
                );
            }
            Ok(())
        }
        UserCommand::Password { name } => {
            let password = read_password(name)?;
            let user =
                storage.set_user_password(name, &people::hash_password(&password)?, now_ms)?;
            if json {
                return crate::print_json(&user);
            }
            println!(
                "new password set for {}; their open sessions are ended",
                user.name
            );
            Ok(())
        }
        UserCommand::Disable { name } => {
            let user = storage.disable_user(name, now_ms)?;
            if json {
                return crate::print_json(&user);
            }
            println!("{} is disabled; their open sessions are ended", user.name);
            Ok(())
        }
    }
}
