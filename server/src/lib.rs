//! The Tumbuh central server.
//!
//! Field devices sync here: they upload the Automerge changes they made
//! offline and receive the changes of their area ([`http`], with the protocol
//! of `sync-protocol`). Changes are stored as they arrive ([`storage`]);
//! a background worker ([`worker`]) keeps a relational projection with WHO
//! z-scores ([`projection`]) up to date for the read API and the district's
//! work. Devices are enrolled with tokens ([`token`], [`enrol`]); sync by
//! file goes through [`bundle`]; [`demo`] seeds a made-up district.
//!
//! The binary `tumbuh-server` (`main.rs`) is a thin shell over [`serve`] and
//! the admin commands.

pub mod bundle;
pub mod dedup;
pub mod demo;
pub mod enrol;
pub mod http;
pub mod import;
pub mod ingest;
pub mod link;
pub mod people;
pub mod projection;
pub mod review;
pub mod storage;
pub mod token;
pub mod verval;
pub mod worker;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

pub use http::Limits;
pub use storage::sqlite::SqliteStorage;
pub use storage::{Role, Storage, StorageError};

/// The HTTP application over `storage`. `projection` is woken after uploads.
pub fn app(storage: Arc<dyn Storage>, projection: worker::Kick, limits: Limits) -> Router {
    http::router(http::AppState::new(storage, projection, limits))
}

/// Serves on `listener` until `shutdown` completes, then finishes the
/// requests in flight and stops the projection worker.
pub async fn serve(
    listener: TcpListener,
    storage: Arc<dyn Storage>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = worker::ProjectionWorker::start(storage.clone(), limits.dedup_every);
    let router = app(storage, worker.kick_handle(), limits);
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    tokio::task::spawn_blocking(move || worker.stop())
        .await
        .ok();
    result
}

/// The certificate and private key (PEM files) for HTTPS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// Like [`serve`], over HTTPS (rustls with the ring provider: no system
/// TLS library). `listener` must be non-blocking.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    storage: Arc<dyn Storage>,
    limits: Limits,
    tls: &TlsFiles,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Installing twice is harmless (the first provider stays).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot use the TLS certificate {} and key {}: {e}",
                    tls.cert.display(),
                    tls.key.display()
                ),
            )
        })?;
    let worker = worker::ProjectionWorker::start(storage.clone(), limits.dedup_every);
    let router = app(storage, worker.kick_handle(), limits);
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
    });
    let result = axum_server::from_tcp_rustls(listener, config)?
        .handle(handle)
        .serve(router.into_make_service())
        .await;
    tokio::task::spawn_blocking(move || worker.stop())
        .await
        .ok();
    result
}
