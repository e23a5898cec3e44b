//! `tumbuh login`, `tumbuh sync`, `tumbuh status`, `tumbuh bundle export|import`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use sync_protocol::{AreaCode, Scope};

use super::Context;
use crate::cli::{LoginArgs, SyncArgs};
use crate::i18n::user_error;
use crate::sync::bundle::{self, BundleFileError};
use crate::sync::http::HttpTransport;
use crate::sync::{SyncError, SyncOptions, SyncSummary, TransportError, state};

/// Whether `url` may be used: `https://`, or plain `http://` only to this
/// machine unless the user insists (`--insecure`).
fn check_url(url: &str, insecure: bool) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        user_error(
            format!("alamat server tidak valid ({e}): {url}"),
            format!("not a valid server address ({e}): {url}"),
        )
    })?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback || insecure {
                Ok(())
            } else {
                Err(user_error(
                    format!(
                        "http:// tanpa enkripsi ke server lain ditolak: gunakan https:// (atau --insecure bila memang disengaja): {url}"
                    ),
                    format!(
                        "plain http:// to another machine is refused: use https:// (or --insecure if you really mean it): {url}"
                    ),
                ))
            }
        }
        _ => Err(user_error(
            format!("alamat server harus diawali http:// atau https://: {url}"),
            format!("the server address must start with http:// or https://: {url}"),
        )),
    }
}

fn transport_error(e: TransportError) -> anyhow::Error {
    match &e {
        TransportError::Refused {
            status: 401,
            message,
        } => user_error(
            format!("server menolak token ini: {message}"),
            format!("the server refused this token: {message}"),
        ),
        TransportError::Retryable(m) => user_error(
            format!("tidak dapat menghubungi server: {m}"),
            format!("cannot reach the server: {m}"),
        ),
        _ => anyhow::Error::new(e),
    }
}

pub fn login(args: &LoginArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    check_url(&args.server, args.insecure)?;
    let ca = args
        .ca_cert
        .as_ref()
        .map(|p| {
            std::fs::read(p).map_err(|e| {
                user_error(
                    format!("tidak dapat membaca {}: {e}", p.display()),
                    format!("cannot read {}: {e}", p.display()),
                )
            })
        })
        .transpose()?;
    let mut store = ctx.open_store()?;
    let (info, restarted) =
        crate::sync::login_with_ca(&mut store, &args.server, &args.token, ca.as_deref())
            .map_err(sync_error)?;
    let scope = Scope::from_text(&info.enrolment.scope)
        .map_err(|e| anyhow::anyhow!("the server sent a bad scope: {e}"))?;
    let posyandu = store.device().posyandu.clone();
    let url = args.server.trim_end_matches('/').to_string();
    let in_scope = AreaCode::parse(&posyandu).is_ok_and(|_| scope.contains(&posyandu));
    if !in_scope {
        eprintln!(
            "{}",
            ctx.lang.pick(
                &format!(
                    "peringatan: posyandu perangkat ini ({posyandu}) di luar wilayah token ({}); anak baru dari perangkat ini akan ditolak server",
                    scope.to_text()
                ),
                &format!(
                    "warning: this device's posyandu ({posyandu}) is outside the token's area ({}); the server will refuse children registered here",
                    scope.to_text()
                )
            )
        );
    }
    if ctx.json {
        return ctx.print_json(
            out,
            &serde_json::json!({
                "server": url, "enrolment": info.enrolment.id, "role": info.enrolment.role,
                "scope": scope.to_text(), "restarted": restarted,
            }),
        );
    }
    writeln!(
        out,
        "{} {url} — {} {}, {} {}",
        ctx.lang.pick("Masuk ke", "Signed in to"),
        info.enrolment.role,
        info.enrolment.name,
        ctx.lang.pick("wilayah", "area"),
        scope.to_text()
    )?;
    writeln!(
        out,
        "{}",
        ctx.lang.pick(
            "Jalankan `tumbuh sync` untuk mengirim dan menerima data.",
            "Run `tumbuh sync` to send and receive records."
        )
    )?;
    Ok(())
}

fn sync_error(e: SyncError) -> anyhow::Error {
    match e {
        SyncError::NotLoggedIn => user_error(
            "perangkat ini belum masuk ke server: jalankan `tumbuh login --server URL --token TOKEN`",
            e.to_string(),
        ),
        SyncError::Unreachable(ref last) => user_error(
            format!("tidak dapat menghubungi server: {last}"),
            format!("cannot reach the server: {last}"),
        ),
        SyncError::GaveUp {
            attempts,
            seconds,
            ref last,
        } => user_error(
            format!(
                "sinkronisasi gagal setelah {attempts} percobaan dalam {seconds} detik ({last}). Tidak ada data yang hilang: yang belum terkirim tetap tersimpan; coba lagi saat sinyal lebih baik"
            ),
            e.to_string(),
        ),
        SyncError::Refused(TransportError::Refused {
            status: 401,
            ref message,
        }) => user_error(
            format!(
                "server menolak token perangkat ini ({message}); minta token baru ke dinas kesehatan"
            ),
            format!(
                "the server refused this device's token ({message}); ask the district for a new one"
            ),
        ),
        other => anyhow::Error::new(other),
    }
}

fn print_summary(ctx: &Context, out: &mut dyn Write, s: &SyncSummary) -> anyhow::Result<()> {
    if ctx.json {
        return ctx.print_json(out, &serde_json::to_value(s)?);
    }
    let l = ctx.lang;
    writeln!(
        out,
        "{}: {} {}, {} {}, {} {}",
        l.pick("Sinkronisasi selesai", "Sync done"),
        s.sent,
        l.pick("perubahan terkirim", "changes sent"),
        s.received,
        l.pick("diterima", "received"),
        s.conflicts,
        l.pick("anak dengan konflik", "children with conflicts"),
    )?;
    if s.snapshot_children > 0 {
        writeln!(
            out,
            "{} {} {}",
            l.pick("Data wilayah:", "Area snapshot:"),
            s.snapshot_children,
            l.pick("anak", "children")
        )?;
    }
    for reason in &s.rejected {
        writeln!(
            out,
            "{} {reason}",
            l.pick("Ditolak server:", "Refused by the server:")
        )?;
    }
    if s.repaired {
        writeln!(
            out,
            "{}",
            if s.verified {
                l.pick(
                    "Selisih data dengan server ditemukan dan diperbaiki.",
                    "A difference with the server was found and repaired.",
                )
            } else {
                l.pick(
                    "Peringatan: data perangkat masih berbeda dengan server; sinkronkan lagi.",
                    "Warning: the device still differs from the server; sync again.",
                )
            }
        )?;
    }
    Ok(())
}

pub fn sync(args: &SyncArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut store = ctx.open_store()?;
    let server = state::server(store.conn())?.ok_or_else(|| sync_error(SyncError::NotLoggedIn))?;
    let mut transport = HttpTransport::with_ca(
        &server.url,
        &server.token,
        Duration::from_secs(60),
        server.ca_cert.as_deref(),
    )
    .map_err(transport_error)?;
    let options = SyncOptions {
        give_up_after: Duration::from_secs(args.timeout),
        progress: !ctx.json,
        now_ms: ctx.now_ms,
        ..SyncOptions::default()
    };
    let summary = crate::sync::sync(&mut store, &mut transport, &options).map_err(sync_error)?;
    print_summary(ctx, out, &summary)
}

fn format_ms(ms: Option<i64>) -> Option<String> {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
}

pub fn status(ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let server = state::server(store.conn())?;
    let (pending, children, rejected) = state::outbox_size(store.conn())?;
    let l = ctx.lang;
    if ctx.json {
        return ctx.print_json(
            out,
            &serde_json::json!({
                "device": store.device().id.to_string(),
                "posyandu": store.device().posyandu,
                "server": server.as_ref().map(|s| s.url.clone()),
                "scope": server.as_ref().map(|s| s.scope.to_text()),
                "pending_changes": pending,
                "pending_children": children,
                "rejected_changes": rejected,
                "last_sync": server.as_ref().and_then(|s| format_ms(s.last_sync_at)),
                "last_sync_ms": server.as_ref().and_then(|s| s.last_sync_at),
                "last_error": server.as_ref().and_then(|s| s.last_error.clone()),
            }),
        );
    }
    writeln!(
        out,
        "{} {} ({} {})",
        l.pick("Perangkat", "Device"),
        store.device().id,
        l.pick("posyandu", "posyandu"),
        store.device().posyandu
    )?;
    match &server {
        None => writeln!(
            out,
            "{}",
            l.pick(
                "Belum masuk ke server (tumbuh login --server URL --token TOKEN).",
                "Not signed in to a server (tumbuh login --server URL --token TOKEN)."
            )
        )?,
        Some(s) => {
            writeln!(out, "Server: {} ({} {})", s.url, s.role, s.scope.to_text())?;
            writeln!(
                out,
                "{}: {}",
                l.pick("Sinkronisasi terakhir berhasil", "Last successful sync"),
                format_ms(s.last_sync_at).unwrap_or_else(|| l.pick("belum pernah", "never").into())
            )?;
            if let Some(e) = &s.last_error {
                writeln!(out, "{}: {e}", l.pick("Galat terakhir", "Last error"))?;
            }
        }
    }
    writeln!(
        out,
        "{}: {pending} {} ({children} {})",
        l.pick("Menunggu dikirim", "Waiting to be sent"),
        l.pick("perubahan", "changes"),
        l.pick("anak", "children")
    )?;
    if rejected > 0 {
        writeln!(
            out,
            "{}: {rejected}",
            l.pick("Ditolak server", "Refused by the server")
        )?;
    }
    Ok(())
}

fn bundle_error(e: BundleFileError) -> anyhow::Error {
    match e {
        BundleFileError::Sync(s) => sync_error(s),
        BundleFileError::Bundle(ref b) => user_error(
            format!("berkas bundel ditolak: {b}"),
            format!("bundle refused: {b}"),
        ),
        BundleFileError::UnknownBatch => user_error(
            "balasan ini bukan untuk bundel dari perangkat ini",
            e.to_string(),
        ),
    }
}

pub fn bundle_export(file: &Path, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let store = ctx.open_store()?;
    let (bytes, export) = bundle::export(&store, ctx.now_ms).map_err(bundle_error)?;
    let tmp = file.with_extension("partial");
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| {
            user_error(
                format!("tidak dapat menulis {}: {e}", file.display()),
                format!("cannot write {}: {e}", file.display()),
            )
        })?;
    if ctx.json {
        return ctx.print_json(out, &serde_json::to_value(&export)?);
    }
    writeln!(
        out,
        "{} {}: {} {} ({} {}), {} bytes",
        ctx.lang.pick("Bundel ditulis ke", "Bundle written to"),
        file.display(),
        export.changes,
        ctx.lang.pick("perubahan", "changes"),
        export.children,
        ctx.lang.pick("anak", "children"),
        export.bytes
    )?;
    Ok(())
}

pub fn bundle_import(file: &Path, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut store = ctx.open_store()?;
    let bytes = std::fs::read(file).map_err(|e| {
        user_error(
            format!("tidak dapat membaca {}: {e}", file.display()),
            format!("cannot read {}: {e}", file.display()),
        )
    })?;
    let summary = bundle::import(&mut store, &bytes, ctx.now_ms).map_err(bundle_error)?;
    print_summary(ctx, out, &summary)
}
