//! Sync with the central server: the device side of the protocol in
//! `sync-protocol` (see its `PROTOCOL.md`).
//!
//! A sync is, in steady state, **one exchange**: the outbox and the cursor
//! go up, acknowledgements and the feed page come down, and both are applied
//! in one local transaction. A new device first pulls its area's snapshot,
//! page by page (each page commits, so a cut resumes where it stopped). When
//! the server's checksum of the device's scope disagrees with the device's
//! own, a repair exchange runs for the children that differ.
//!
//! The exchange is written against [`Transport`], so HTTP ([`http`]) and
//! tests with injected faults share it; bundles ([`bundle`]) reuse the
//! request and response handling.

pub mod bundle;
pub mod http;
pub mod state;

use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use rand::Rng;
use rusqlite::params;
use sync_protocol::wire::{
    self, Ack, RepairRequest, RepairResponse, ScopeChecksum, SnapshotRequest, SnapshotResponse,
    SyncRequest, SyncResponse, WireError,
};
use thiserror::Error;
use uuid::Uuid;

use crate::store::{Store, StoreError};

/// Which exchange a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Sync,
    Snapshot,
    Repair,
}

impl Endpoint {
    /// The HTTP path.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Sync => "/v1/sync",
            Endpoint::Snapshot => "/v1/snapshot",
            Endpoint::Repair => "/v1/repair",
        }
    }
}

/// A failed exchange.
#[derive(Debug, Error)]
pub enum TransportError {
    /// Worth retrying: the network failed or the server had a passing problem.
    #[error("{0}")]
    Retryable(String),
    /// Retrying will not help (e.g. the token was revoked, the request is bad).
    #[error("the server refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
}

/// Carries one framed message to the server and brings back the answer.
pub trait Transport {
    fn exchange(&mut self, endpoint: Endpoint, body: &[u8]) -> Result<Vec<u8>, TransportError>;
}

/// Why a sync stopped.
#[derive(Debug, Error)]
pub enum SyncError {
    #[error(
        "this device has not signed in to a server: run `tumbuh login --server URL --token TOKEN`"
    )]
    NotLoggedIn,
    #[error(
        "gave up after {attempts} attempts in {seconds} s: {last}. Nothing was lost: what was not sent stays in the outbox; sync again when the signal is better"
    )]
    GaveUp {
        attempts: u32,
        seconds: u64,
        last: String,
    },
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Refused(TransportError),
    #[error("the server's answer is unreadable: {0}")]
    Wire(#[from] WireError),
    #[error("the server's answer does not match the request: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for SyncError {
    fn from(e: rusqlite::Error) -> Self {
        SyncError::Store(StoreError::from(e))
    }
}

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Stop retrying after this long.
    pub give_up_after: Duration,
    /// Page size asked of the server (0 = its default).
    pub page_bytes: u32,
    /// Upload at most about this many bytes per exchange.
    pub upload_bytes: usize,
    /// First retry delay; doubles up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Show progress bars (on stderr, when it is a terminal).
    pub progress: bool,
    /// Now, in Unix milliseconds.
    pub now_ms: i64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            give_up_after: Duration::from_secs(120),
            page_bytes: 0,
            upload_bytes: 4 << 20,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            progress: false,
            now_ms: 0,
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyncSummary {
    /// Changes the server acknowledged.
    pub sent: u64,
    /// Changes the server refused, with the reason.
    pub rejected: Vec<String>,
    /// New changes received.
    pub received: u64,
    /// Children received in the first-sync snapshot.
    pub snapshot_children: u64,
    /// Children whose record now holds conflicting values.
    pub conflicts: u64,
    /// Exchanges with the server (retries not counted).
    pub round_trips: u64,
    /// Failed attempts that were retried.
    pub retries: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Whether the scope checksum disagreed and a repair ran.
    pub repaired: bool,
    /// After the sync, the device holds exactly what the server holds for its area.
    pub verified: bool,
}

struct Session<'a> {
    transport: &'a mut dyn Transport,
    options: &'a SyncOptions,
    started: Instant,
    summary: SyncSummary,
}

impl Session<'_> {
    /// One exchange, retried with exponential backoff and full jitter until
    /// it succeeds, is refused, or time runs out.
    fn exchange<Req: wire::Message, Resp: wire::Message>(
        &mut self,
        endpoint: Endpoint,
        request: &Req,
    ) -> Result<Resp, SyncError> {
        let body = wire::encode(request)?;
        let mut backoff = self.options.first_backoff;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let error = match self.transport.exchange(endpoint, &body) {
                Ok(bytes) => match wire::decode::<Resp>(&bytes, wire::MAX_MESSAGE_BYTES) {
                    Ok(resp) => {
                        self.summary.round_trips += 1;
                        self.summary.bytes_sent += body.len() as u64;
                        self.summary.bytes_received += bytes.len() as u64;
                        return Ok(resp);
                    }
                    // A body cut short by the network decodes badly: retry.
                    Err(e) => e.to_string(),
                },
                Err(TransportError::Retryable(e)) => e,
                Err(refused) => return Err(SyncError::Refused(refused)),
            };
            let elapsed = self.started.elapsed();
            if elapsed >= self.options.give_up_after {
                return Err(SyncError::GaveUp {
                    attempts,
                    seconds: elapsed.as_secs(),
                    last: error,
                });
            }
            self.summary.retries += 1;
            tracing::info!(attempt = attempts, %error, "sync exchange failed; retrying");
            let jitter = rand::rng().random_range(0..=backoff.as_millis() as u64);
            let wait = Duration::from_millis(jitter)
                .min(self.options.give_up_after.saturating_sub(elapsed));
            std::thread::sleep(wait);
            backoff = (backoff * 2).min(self.options.max_backoff);
        }
    }
}

fn bar(options: &SyncOptions, len: Option<u64>, message: &'static str) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    bar.set_message(message);
    if let Ok(style) = indicatif::ProgressStyle::with_template(match len {
        Some(_) => "{msg} [{bar:30}] {pos}/{len} ({eta})",
        None => "{spinner} {msg} {pos}",
    }) {
        bar.set_style(style);
    }
    bar
}

/// Signs this device in to the server at `url` with an enrolment token and
/// records it in the store. Returns the enrolment and whether the sync state
/// was reset (a different server or enrolment than before).
pub fn login(
    store: &mut Store,
    url: &str,
    token: &str,
) -> Result<(http::LoginInfo, bool), SyncError> {
    login_with_ca(store, url, token, None)
}

/// [`login`], trusting the CA certificate(s) in `ca_pem` for this server
/// (kept in the store for later syncs).
pub fn login_with_ca(
    store: &mut Store,
    url: &str,
    token: &str,
    ca_pem: Option<&[u8]>,
) -> Result<(http::LoginInfo, bool), SyncError> {
    let url = url.trim_end_matches('/').to_string();
    let transport = http::HttpTransport::with_ca(&url, token, Duration::from_secs(60), ca_pem)
        .map_err(SyncError::Refused)?;
    let info = transport
        .login(&store.device().id.to_string())
        .map_err(|e| match e {
            TransportError::Retryable(last) => SyncError::Unreachable(last),
            refused => SyncError::Refused(refused),
        })?;
    let scope = sync_protocol::Scope::from_text(&info.enrolment.scope)
        .map_err(|e| SyncError::Protocol(format!("bad scope from the server: {e}")))?;
    let restarted = store.write(|w| -> Result<bool, SyncError> {
        Ok(state::login(
            w.tx(),
            &url,
            token.trim(),
            info.enrolment.id,
            &info.enrolment.role,
            &scope,
            ca_pem,
        )?)
    })?;
    Ok((info, restarted))
}

/// Runs a whole sync: snapshot if the device is new, then exchanges until
/// the outbox is empty and the feed drained, then the checksum check.
pub fn sync(
    store: &mut Store,
    transport: &mut dyn Transport,
    options: &SyncOptions,
) -> Result<SyncSummary, SyncError> {
    let Some(server) = state::server(store.conn())? else {
        return Err(SyncError::NotLoggedIn);
    };
    store.conn().execute(
        "UPDATE server SET last_attempt_at = ?1 WHERE id = 1",
        [options.now_ms],
    )?;
    let mut session = Session {
        transport,
        options,
        started: Instant::now(),
        summary: SyncSummary::default(),
    };
    let result = run(store, &mut session, &server);
    match &result {
        Ok(()) => {
            store.conn().execute(
                "UPDATE server SET last_sync_at = ?1, last_error = NULL WHERE id = 1",
                [options.now_ms],
            )?;
        }
        Err(e) => {
            store.conn().execute(
                "UPDATE server SET last_error = ?1 WHERE id = 1",
                [e.to_string()],
            )?;
        }
    }
    result?;
    session.summary.conflicts = store.conn().query_row(
        "SELECT count(*) FROM children WHERE conflicts > 0",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    Ok(session.summary)
}

fn run(
    store: &mut Store,
    session: &mut Session<'_>,
    server: &state::ServerState,
) -> Result<(), SyncError> {
    if !server.snapshot_done && server.cursor == 0 {
        download_snapshot(store, session, server)?;
    }
    let checksum = exchange_until_done(store, session)?;
    let local = state::scope_checksum(store.conn(), &server.scope)?;
    if checksum == Some(local) {
        session.summary.verified = true;
        return Ok(());
    }
    // The digests disagree: find and mend the children that differ.
    tracing::info!("scope checksum differs; repairing");
    session.summary.repaired = true;
    repair(store, session, server)?;
    let checksum = exchange_until_done(store, session)?;
    let local = state::scope_checksum(store.conn(), &server.scope)?;
    session.summary.verified = checksum == Some(local);
    if !session.summary.verified {
        tracing::warn!("scope checksum still differs after repair");
    }
    Ok(())
}

fn download_snapshot(
    store: &mut Store,
    session: &mut Session<'_>,
    server: &state::ServerState,
) -> Result<(), SyncError> {
    let mut upto = server.snapshot_upto;
    let mut after = server.snapshot_after;
    let progress = bar(session.options, None, "unduh data wilayah / area snapshot");
    loop {
        let request = SnapshotRequest {
            upto,
            after,
            max_page_bytes: session.options.page_bytes,
        };
        let page: SnapshotResponse = session.exchange(Endpoint::Snapshot, &request)?;
        if upto != 0 && page.upto != upto {
            return Err(SyncError::Protocol(format!(
                "snapshot page for #{} when #{upto} was asked",
                page.upto
            )));
        }
        progress.set_length(page.total_children);
        let now = session.options.now_ms;
        let received = store.write(|w| -> Result<u64, SyncError> {
            let mut received = 0;
            for child in &page.children {
                received += w.apply_document(child.child, &child.document, now)? as u64;
            }
            let done = page.next.is_none();
            w.tx().execute(
                "UPDATE server SET snapshot_upto = ?1, snapshot_after = ?2, snapshot_done = ?3,
                        cursor = CASE WHEN ?3 THEN max(cursor, ?1) ELSE cursor END
                  WHERE id = 1",
                params![page.upto as i64, page.next.map(|c| c.to_string()), done],
            )?;
            Ok(received)
        })?;
        session.summary.received += received;
        session.summary.snapshot_children += page.children.len() as u64;
        progress.inc(page.children.len() as u64);
        upto = page.upto;
        after = page.next;
        if after.is_none() {
            progress.finish_and_clear();
            return Ok(());
        }
    }
}

/// Builds the next request from the outbox.
pub(crate) fn next_request(
    store: &Store,
    upload_bytes: usize,
    page_bytes: u32,
) -> Result<(SyncRequest, Vec<i64>, bool), SyncError> {
    let server = state::server(store.conn())?.ok_or(SyncError::NotLoggedIn)?;
    let (upload, seqs, truncated) = state::outbox(store.conn(), upload_bytes)?;
    Ok((
        SyncRequest {
            batch: Uuid::now_v7(),
            cursor: server.cursor,
            upload,
            max_page_bytes: page_bytes,
        },
        seqs,
        truncated,
    ))
}

/// Applies a sync response in one transaction: acknowledgements, feed, cursor.
pub(crate) fn apply_response(
    store: &mut Store,
    seqs: &[i64],
    response: &SyncResponse,
    now_ms: i64,
    summary: &mut SyncSummary,
) -> Result<(), SyncError> {
    if response.acks.len() != seqs.len() {
        return Err(SyncError::Protocol(format!(
            "{} acknowledgements for {} changes sent",
            response.acks.len(),
            seqs.len()
        )));
    }
    let (sent, mut rejected, received) = store.write(|w| -> Result<_, SyncError> {
        let mut sent = 0u64;
        let mut rejected = Vec::new();
        {
            let tx = w.tx();
            let mut ok = tx.prepare_cached("UPDATE changes SET synced = 1 WHERE seq = ?1")?;
            let mut refuse = tx
                .prepare_cached("UPDATE changes SET rejected = ?2 WHERE seq = ?1 AND synced = 0")?;
            for (seq, ack) in seqs.iter().zip(&response.acks) {
                match ack {
                    Ack::Stored => {
                        ok.execute([seq])?;
                        sent += 1;
                    }
                    Ack::Rejected(reason) => {
                        refuse.execute(params![seq, reason])?;
                        rejected.push(reason.clone());
                    }
                }
            }
        }
        let mut received = 0u64;
        for group in &response.feed {
            let changes: Vec<&[u8]> = group.changes.iter().map(|c| c.as_slice()).collect();
            received += w.apply_remote(group.child, &changes, now_ms)? as u64;
        }
        w.tx().execute(
            "UPDATE server SET cursor = max(cursor, ?1) WHERE id = 1",
            [response.cursor as i64],
        )?;
        Ok((sent, rejected, received))
    })?;
    summary.sent += sent;
    summary.received += received;
    rejected.sort();
    rejected.dedup();
    summary.rejected.extend(rejected);
    Ok(())
}

/// Exchanges until nothing is left to send and the feed is drained; returns
/// the server's checksum from the last page.
fn exchange_until_done(
    store: &mut Store,
    session: &mut Session<'_>,
) -> Result<Option<ScopeChecksum>, SyncError> {
    let progress = bar(session.options, None, "sinkronisasi / syncing changes");
    loop {
        let (request, seqs, truncated) = next_request(
            store,
            session.options.upload_bytes,
            session.options.page_bytes,
        )?;
        let response: SyncResponse = session.exchange(Endpoint::Sync, &request)?;
        if response.batch != request.batch {
            return Err(SyncError::Protocol("answer for another batch".into()));
        }
        let before = session.summary.sent + session.summary.received;
        apply_response(
            store,
            &seqs,
            &response,
            session.options.now_ms,
            &mut session.summary,
        )?;
        progress.inc(session.summary.sent + session.summary.received - before);
        if !response.more && !truncated {
            progress.finish_and_clear();
            return Ok(response.checksum);
        }
    }
}

fn repair(
    store: &mut Store,
    session: &mut Session<'_>,
    server: &state::ServerState,
) -> Result<(), SyncError> {
    let digests = state::child_digests(store.conn(), &server.scope)?;
    let response: RepairResponse =
        session.exchange(Endpoint::Repair, &RepairRequest { digests })?;
    let now = session.options.now_ms;
    let received = store.write(|w| -> Result<u64, SyncError> {
        let mut received = 0;
        for group in &response.children {
            let changes: Vec<&[u8]> = group.changes.iter().map(|c| c.as_slice()).collect();
            received += w.apply_remote(group.child, &changes, now)? as u64;
        }
        let mut again = w
            .tx()
            .prepare_cached("UPDATE changes SET synced = 0, rejected = NULL WHERE child_id = ?1")?;
        for child in &response.reupload {
            again.execute([child.to_string()])?;
        }
        Ok(received)
    })?;
    session.summary.received += received;
    Ok(())
}
