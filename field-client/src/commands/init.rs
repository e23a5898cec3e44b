//! `tumbuh init`: creates the device's local store, encrypted under the
//! kader's new PIN.

use std::io::Write;

use serde_json::json;

use super::Context;
use crate::cli::InitArgs;
use crate::i18n::user_error;
use crate::store::Store;

pub fn run(args: &InitArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let code = args.posyandu.trim();
    if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(user_error(
            format!(
                "kode posyandu `{code}` harus 12 angka (provinsi 2 + kabupaten 2 + kecamatan 2 + desa 4 + posyandu 2)"
            ),
            format!(
                "posyandu code `{code}` must be 12 digits (province 2 + kabupaten 2 + kecamatan 2 + desa 4 + posyandu 2)"
            ),
        ));
    }
    let kader = args.kader.trim();
    if kader.is_empty() {
        return Err(user_error(
            "nama kader tidak boleh kosong",
            "the kader's name must not be empty",
        ));
    }
    if ctx.db.exists() {
        return Err(ctx.store_error(crate::store::StoreError::AlreadyInitialised(ctx.db.clone())));
    }
    let pin = ctx.new_pin(ctx.pin.as_ref())?;
    let store = Store::create(&ctx.db, pin, ctx.kdf, code, kader, ctx.now_ms)
        .map_err(|e| ctx.store_error(e))?;
    let device = store.device();
    if ctx.json {
        return ctx.print_json(
            out,
            &json!({"db": ctx.db.display().to_string(), "device_id": device.id.to_string(), "posyandu": device.posyandu, "kader": device.kader}),
        );
    }
    writeln!(
        out,
        "{} {}\nPosyandu: {}  Kader: {}\n{}",
        ctx.lang.pick("Penyimpanan dibuat:", "Store created:"),
        ctx.db.display(),
        device.posyandu,
        device.kader,
        ctx.lang.pick(
            "Data dienkripsi; PIN diperlukan untuk setiap perintah. Jangan lupa PIN: tanpa PIN, data yang belum disinkronkan tidak dapat dipulihkan.",
            "The data is encrypted; every command needs the PIN. Do not forget it: without the PIN, data not yet synced cannot be recovered."
        )
    )?;
    Ok(())
}
