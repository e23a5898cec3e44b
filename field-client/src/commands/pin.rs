//! `tumbuh pin change` and `tumbuh pin set`: the PIN that unlocks the store.

use std::io::Write;

use serde_json::json;

use super::Context;
use crate::i18n::user_error;
use crate::store::Store;

/// `tumbuh pin change`: re-encrypts the store under a new PIN.
pub fn change(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut store = ctx.open_store()?;
    let new = ctx.new_pin(ctx.new_pin.as_ref())?;
    if ctx.pin.as_ref() == Some(new) {
        return Err(user_error(
            "PIN baru sama dengan PIN lama",
            "the new PIN is the same as the current one",
        ));
    }
    store.change_pin(new).map_err(|e| ctx.store_error(e))?;
    if ctx.json {
        return ctx.print_json(
            out,
            &json!({"db": ctx.db.display().to_string(), "pin_changed": true}),
        );
    }
    writeln!(
        out,
        "{}",
        ctx.lang.pick(
            "PIN diganti. PIN lama tidak lagi membuka penyimpanan ini.",
            "PIN changed. The old PIN no longer opens this store."
        )
    )?;
    Ok(())
}

/// `tumbuh pin set`: encrypts a store made before PINs.
pub fn set(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    use crate::store::{StoreError, StoreFile, inspect};
    match inspect(&ctx.db) {
        StoreFile::Missing => {
            return Err(ctx.store_error(StoreError::NotInitialised(ctx.db.clone())));
        }
        StoreFile::Encrypted => {
            return Err(ctx.store_error(StoreError::AlreadyEncrypted(ctx.db.clone())));
        }
        StoreFile::Plain => {}
    }
    let pin = ctx.new_pin(ctx.pin.as_ref())?;
    Store::encrypt_plain(&ctx.db, pin, ctx.kdf).map_err(|e| ctx.store_error(e))?;
    if ctx.json {
        return ctx.print_json(
            out,
            &json!({"db": ctx.db.display().to_string(), "encrypted": true}),
        );
    }
    writeln!(
        out,
        "{}",
        ctx.lang.pick(
            "Penyimpanan dienkripsi dengan PIN. Salinan lama yang tidak terenkripsi (cadangan, kartu SD) harus dihapus juga.",
            "The store is now encrypted with the PIN. Delete old unencrypted copies too (backups, SD cards)."
        )
    )?;
    Ok(())
}
