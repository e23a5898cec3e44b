//! The HTTP API (axum): the sync endpoints that carry framed protocol
//! messages, and the JSON read API.
//!
//! Every endpoint but `/v1/health` needs `Authorization: Bearer <token>`;
//! the token's enrolment decides what the caller may see and write. Storage
//! calls run on tokio's blocking pool.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use sync_protocol::wire::{self, Message, PROTOCOL_VERSION};
use sync_protocol::{AreaCode, ChildId, DeviceId, Scope};

use crate::storage::{Enrolment, Role, Storage, StorageError};
use crate::worker::Kick;

/// The media type of framed sync messages.
pub const SYNC_MEDIA_TYPE: &str = "application/vnd.tumbuh.sync";

/// Limits applied to requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body accepted (compressed).
    pub max_body_bytes: usize,
    /// Largest decompressed message.
    pub max_message_bytes: usize,
    /// Largest page of changes sent back.
    pub max_page_bytes: usize,
    /// Most changes one sync request may carry (413 beyond).
    pub max_changes_per_request: usize,
    /// A request (body included) must complete within this time (408 beyond),
    /// so a slow or stalled client cannot hold a connection forever.
    pub request_timeout: std::time::Duration,
    /// Requests per second allowed per token (429 beyond), and the burst.
    pub requests_per_second: u32,
    pub burst: u32,
    /// How often the background dedup runs while registrations arrived or
    /// changed since its last run (`None`: only by `tumbuh-server dedup`).
    pub dedup_every: Option<std::time::Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 << 20,
            max_message_bytes: wire::MAX_MESSAGE_BYTES,
            max_page_bytes: 4 << 20,
            max_changes_per_request: 200_000,
            request_timeout: std::time::Duration::from_secs(120),
            requests_per_second: 20,
            burst: 100,
            dedup_every: Some(std::time::Duration::from_secs(300)),
        }
    }
}

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub projection: Kick,
    pub limits: Limits,
    pub limiter: Arc<governor::DefaultKeyedRateLimiter<uuid::Uuid>>,
}

impl AppState {
    /// State with a fresh per-token rate limiter built from `limits`.
    pub fn new(storage: Arc<dyn Storage>, projection: Kick, limits: Limits) -> AppState {
        let per_second = std::num::NonZeroU32::new(limits.requests_per_second.max(1))
            .unwrap_or(std::num::NonZeroU32::MIN);
        let burst =
            std::num::NonZeroU32::new(limits.burst.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        let quota = governor::Quota::per_second(per_second).allow_burst(burst);
        AppState {
            storage,
            projection,
            limits,
            limiter: Arc::new(governor::RateLimiter::keyed(quota)),
        }
    }
}

/// An error answer: a status and a message in JSON (`{"error": …}`).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NoSuchDevice(_) | StorageError::NoSuchChild(_) => {
                ApiError::new(StatusCode::NOT_FOUND, e.to_string())
            }
            StorageError::Refused(_) => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            _ => {
                tracing::error!(error = %e, "storage error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal storage error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// Runs a storage call on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "worker failed"))?
        .map_err(ApiError::from)
}

/// The authenticated caller.
pub struct Caller(pub Enrolment);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing token: send `Authorization: Bearer <token>`",
                )
            })?;
        let hash = crate::token::hash(token);
        let storage = state.storage.clone();
        let who = blocking(move || storage.authenticate(&hash)).await?;
        let who = who.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unknown token: ask the district admin for an enrolment",
            )
        })?;
        if who.person {
            let over =
                who.revoked_at_ms.is_some() || who.expires_at_ms.is_some_and(|at| at <= now_ms());
            if over {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "this session has ended (signed out, expired or the account disabled): sign in again at POST /v1/session",
                ));
            }
        }
        if let Some(at) = who.revoked_at_ms {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "this device was revoked on {}; what it synced before is kept. Ask the district admin for a new enrolment",
                    day(at)
                ),
            ));
        }
        if let Some(at) = who.expires_at_ms
            && at <= now_ms()
        {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "this device's token expired on {}; ask the district admin for a new one (`tumbuh-server device rotate`)",
                    day(at)
                ),
            ));
        }
        if state.limiter.check_key(&who.id).is_err() {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests from this device; wait a moment and retry",
            ));
        }
        Ok(Caller(who))
    }
}

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    let timeout = state.limits.request_timeout;
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/login", post(login))
        .route("/v1/session", post(sign_in).delete(sign_out))
        .route("/v1/sync", post(sync))
        .route("/v1/snapshot", post(snapshot))
        .route("/v1/repair", post(repair))
        .route("/v1/children", get(children))
        .route("/v1/children/{id}", get(child))
        .route("/v1/docs/{id}", get(document))
        .route("/v1/conflicts", get(conflicts))
        .route("/v1/export", get(export))
        .route("/v1/verval", get(verval_report))
        .route("/v1/verval/worklist", get(verval_worklist))
        .route("/v1/review", get(review_list))
        .route("/v1/review/{id}", get(review_show))
        .route("/v1/review/{id}/accept", post(review_accept))
        .route("/v1/review/{id}/reject", post(review_reject))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state)
}

/// The OpenAPI description of these routes (`server/api/openapi.json`; a
/// route added here must be added there: the API tests walk that file).
pub const OPENAPI: &str = include_str!("../api/openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "protocol": PROTOCOL_VERSION }))
}

#[derive(Debug, Deserialize)]
struct LoginRequest {
    /// The field device's id (its Automerge actor).
    device_id: String,
}

#[derive(Debug, Serialize)]
struct LoginResponse {
    enrolment: Enrolment,
    protocol: u8,
}

async fn login(
    State(state): State<AppState>,
    Caller(who): Caller,
    body: Bytes,
) -> Result<Json<LoginResponse>, ApiError> {
    require_device(&who)?;
    let req: LoginRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("login body: {e}")))?;
    let actor: DeviceId = req
        .device_id
        .parse()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("device_id: {e}")))?;
    let storage = state.storage.clone();
    let id = who.id;
    blocking(move || storage.bind_actor(id, actor)).await?;
    Ok(Json(LoginResponse {
        enrolment: Enrolment {
            actor: Some(actor.to_string()),
            ..who
        },
        protocol: PROTOCOL_VERSION,
    }))
}

fn decode_body<M: Message>(body: &[u8], limits: &Limits) -> Result<M, ApiError> {
    wire::decode(body, limits.max_message_bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
}

fn framed<M: Message>(message: &M) -> Result<Response, ApiError> {
    let bytes = wire::encode(message)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, SYNC_MEDIA_TYPE)], bytes).into_response())
}

fn page_bytes(requested: u32, limits: &Limits) -> usize {
    match requested {
        0 => wire::DEFAULT_PAGE_BYTES as usize,
        n => (n as usize).min(limits.max_page_bytes),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Records a by-name read in the audit log (ids and counts only).
async fn audit_read(
    state: &AppState,
    who: &Enrolment,
    action: &'static str,
    target: String,
    detail: String,
) -> Result<(), ApiError> {
    let storage = state.storage.clone();
    let who = who.id.to_string();
    blocking(move || storage.audit(now_ms(), &who, action, &target, &detail)).await
}

async fn sync(
    State(state): State<AppState>,
    Caller(who): Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_device(&who)?;
    let request: wire::SyncRequest = decode_body(&body, &state.limits)?;
    let changes: usize = request.upload.iter().map(|g| g.changes.len()).sum();
    if changes > state.limits.max_changes_per_request {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{changes} changes in one request; at most {} are accepted: send the outbox in parts",
                state.limits.max_changes_per_request
            ),
        ));
    }
    let page = page_bytes(request.max_page_bytes, &state.limits);
    let storage = state.storage.clone();
    let uploaded = !request.upload.is_empty();
    let response = blocking(move || storage.sync(&who, &request, page, now_ms())).await?;
    if uploaded {
        state.projection.kick();
    }
    framed(&response)
}

async fn snapshot(
    State(state): State<AppState>,
    Caller(who): Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_device(&who)?;
    let request: wire::SnapshotRequest = decode_body(&body, &state.limits)?;
    let page = page_bytes(request.max_page_bytes, &state.limits);
    let storage = state.storage.clone();
    let resumed = request.after.is_some();
    let caller = who.clone();
    let response = blocking(move || storage.snapshot(&caller, &request, page)).await?;
    // A snapshot is a bulk download of every record in the device's area,
    // unmasked: audited like a by-name read, with counts only. Every page
    // is, not only the first: a device may start a snapshot past the first
    // child (`after`), and a page is as much a read as the whole. A page
    // with no child read nothing (every new device of an empty area asks).
    if !response.children.is_empty() {
        audit_read(
            &state,
            &who,
            "snapshot.read",
            who.scope.to_text(),
            format!(
                "children={} of={} {}",
                response.children.len(),
                response.total_children,
                if resumed { "continued" } else { "first_page" }
            ),
        )
        .await?;
    }
    framed(&response)
}

async fn repair(
    State(state): State<AppState>,
    Caller(who): Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_device(&who)?;
    let request: wire::RepairRequest = decode_body(&body, &state.limits)?;
    let storage = state.storage.clone();
    let response = blocking(move || storage.repair(&who, &request)).await?;
    framed(&response)
}

#[derive(Debug, Deserialize)]
struct ChildrenQuery {
    area: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

async fn children(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q: ChildrenQuery = query(raw)?;
    let area = q
        .area
        .as_deref()
        .map(AreaCode::parse)
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("area: {e}")))?;
    if let Some(a) = &area
        && !overlaps(&who.scope, a)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("area {a} is outside your area ({})", who.scope.to_text()),
        ));
    }
    let limit = q.limit.unwrap_or(1000);
    if limit > 10_000 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "limit: at most 10000 children per page (use `after` for the next page)",
        ));
    }
    let limit = limit.max(1);
    let storage = state.storage.clone();
    let scope = who.scope.clone();
    let audited_area = area
        .as_ref()
        .map_or_else(|| who.scope.to_text(), ToString::to_string);
    let rows = blocking(move || storage.children(&scope, area.as_ref(), q.after.as_deref(), limit))
        .await?;
    audit_read(
        &state,
        &who,
        "children.list",
        audited_area,
        format!("rows={}", rows.len()),
    )
    .await?;
    let next = (rows.len() == limit).then(|| rows.last().map(|r| r.id.clone()));
    Ok(Json(serde_json::json!({ "children": rows, "next": next.flatten() })).into_response())
}

/// Whether `area` and the scope share any child: the area lies in the scope
/// or a scope area lies inside it.
fn overlaps(scope: &Scope, area: &AreaCode) -> bool {
    match scope {
        Scope::All => true,
        Scope::Areas(areas) => areas.iter().any(|s| area.within(s) || s.within(area)),
    }
}

/// Parses a query string, answering a malformed one with a JSON 400 (axum's
/// own extractor would answer in plain text).
fn query<T: serde::de::DeserializeOwned>(raw: Option<String>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("query: {e}")))
}

fn parse_child(id: &str) -> Result<ChildId, ApiError> {
    id.parse()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("child id: {e}")))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no child {id} in your area"))
}

#[derive(Debug, Deserialize)]
struct ChildQuery {
    /// `true` to see NIK, KK number and address unmasked (district and admin only; audited).
    #[serde(default)]
    reveal: bool,
}

async fn child(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let child_id = parse_child(&id)?;
    let q: ChildQuery = query(raw)?;
    if q.reveal && !matches!(who.role, Role::District | Role::Admin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only a district or admin role may see NIK and address unmasked",
        ));
    }
    let storage = state.storage.clone();
    let detail = blocking(move || storage.child(child_id)).await?;
    match detail {
        // Out of scope answers like absent: it does not reveal that the id exists.
        Some(mut d) if who.scope.contains(&d.summary.posyandu) => {
            if q.reveal {
                audit_read(
                    &state,
                    &who,
                    "child.reveal",
                    id,
                    "nik, no_kk, address".into(),
                )
                .await?;
            } else {
                audit_read(&state, &who, "child.read", id, String::new()).await?;
                // Privacy by default: identity numbers masked, address withheld.
                for n in [&mut d.nik, &mut d.no_kk, &mut d.mother_nik]
                    .into_iter()
                    .flatten()
                {
                    *n = crate::verval::mask_nik(n);
                }
                if d.address.is_some() {
                    d.address = Some("(masked)".into());
                }
            }
            Ok(Json(d).into_response())
        }
        _ => Err(not_found(&id)),
    }
}

/// `GET /v1/docs/{id}`: the raw Automerge document, NIK and address
/// unmasked. A device gets it for a child in its area (it receives the same
/// bytes by sync anyway); a person's session only in a district or admin
/// role, audited as a reveal, since the masked `GET /v1/children/{id}` is
/// what a session otherwise reads.
async fn document(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let child_id = parse_child(&id)?;
    // Decided on the role alone, before the lookup, so the refusal says
    // nothing about whether the child exists.
    if who.person && !matches!(who.role, Role::District | Role::Admin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a person's session reads a whole document (NIK and address unmasked) only in a district or admin role; use GET /v1/children/{id}",
        ));
    }
    let storage = state.storage.clone();
    let doc = blocking(move || storage.document(child_id)).await?;
    match doc {
        Some((area, bytes)) if who.scope.contains(&area) => {
            let (action, detail) = if who.person {
                ("document.reveal", "whole document: nik, no_kk, address")
            } else {
                ("document.read", "")
            };
            audit_read(&state, &who, action, id, detail.into()).await?;
            Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
        }
        _ => Err(not_found(&id)),
    }
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    /// `YYYY-MM`: each child's round measurement; absent: its latest.
    #[serde(default)]
    round: Option<String>,
    #[serde(default)]
    area: Option<String>,
    /// `csv` (default) or `xlsx`.
    #[serde(default)]
    format: Option<String>,
    /// `true` for whole NIKs and street addresses (audited).
    #[serde(default)]
    reveal: bool,
}

/// The media type of an xlsx workbook.
const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `GET /v1/export`: the register of an area in e-PPGBM's layout, the same
/// rows as `tumbuh-server export` (`verval::export::export_rows`). District
/// (an area inside its kabupaten) and admin only; audited, with counts.
async fn export(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if !matches!(who.role, Role::District | Role::Admin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the register export is for district and admin roles",
        ));
    }
    let q: ExportQuery = query(raw)?;
    let xlsx = match q.format.as_deref().unwrap_or("csv") {
        "csv" => false,
        "xlsx" => true,
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("format `{other}`: use csv or xlsx"),
            ));
        }
    };
    let area = report_area(q.area.as_deref(), &who.scope, true)?;
    let scope = match &area {
        Some(a) => {
            Scope::Areas(vec![AreaCode::parse(a).map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, format!("area: {e}"))
            })?])
        }
        None => Scope::All,
    };
    let (round, reveal, storage) = (q.round.clone(), q.reveal, state.storage.clone());
    let (body, rows) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let bad =
            |e: crate::verval::VervalError| ApiError::new(StatusCode::BAD_REQUEST, e.to_string());
        // A bad round is the caller's error, found before the register is read.
        if let Some(r) = &round {
            crate::verval::Round::parse(r).map_err(bad)?;
        }
        let register = storage.register(&scope).map_err(ApiError::from)?;
        // Area names from the stored directory (`tumbuh-server areas
        // import`), as the CLI takes them; a directory that does not load
        // leaves the name columns empty rather than refusing the export.
        let directory = storage.areas().map_err(ApiError::from)?;
        let names = crate::import::AreaDirectory::from_entries(&directory).ok();
        let lookup = |code: &str| names.as_ref().and_then(|n| n.name(code).map(str::to_owned));
        let rows = crate::verval::export::export_rows(&register, round.as_deref(), reveal, &lookup)
            .map_err(bad)?;
        let written = if xlsx {
            crate::verval::export::ppgbm_xlsx_bytes(&rows)
        } else {
            let mut out = Vec::new();
            crate::verval::export::write_ppgbm_csv(&rows, &mut out).map(|()| out)
        };
        let body = written.map_err(|e| {
            tracing::error!(error = %e, "cannot write an export");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot write the export")
        })?;
        Ok((body, rows.len()))
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "worker failed"))??;
    let target = area.unwrap_or_else(|| "all".into());
    audit_read(
        &state,
        &who,
        "export",
        target.clone(),
        crate::verval::export::audit_detail(q.round.as_deref(), rows, q.reveal),
    )
    .await?;
    let (media_type, extension) = if xlsx {
        (XLSX_MEDIA_TYPE, "xlsx")
    } else {
        ("text/csv; charset=utf-8", "csv")
    };
    let disposition = format!(
        "attachment; filename=\"eppgbm-{target}-{}.{extension}\"",
        q.round.as_deref().unwrap_or("latest")
    );
    Ok((
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

async fn conflicts(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Response, ApiError> {
    let storage = state.storage.clone();
    let rows = blocking(move || storage.conflicts(&who.scope)).await?;
    Ok(Json(serde_json::json!({ "conflicts": rows })).into_response())
}

/// Sync is for field devices: a person's session has no Automerge actor.
fn require_device(who: &Enrolment) -> Result<(), ApiError> {
    if who.person {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a person's session cannot sync: field devices use their enrolment token",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct SignIn {
    name: String,
    password: String,
}

/// `POST /v1/session`: a person signs in with name and password and gets a
/// session token (see `crate::people`). Wrong name and wrong password answer
/// alike (401), after the same argon2 work; too many wrong passwords lock
/// the name for a while (429).
async fn sign_in(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: SignIn = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("sign-in body: {e} (expected {{\"name\": …, \"password\": …}})"),
        )
    })?;
    let storage = state.storage.clone();
    let now = now_ms();
    blocking(
        move || -> Result<Result<Response, ApiError>, StorageError> {
            let found = storage.user_credentials(req.name.trim())?;
            let stored = found
                .as_ref()
                .map_or(crate::people::decoy_hash(), |(_, h)| h.as_str());
            let matches = crate::people::verify_password(stored, &req.password);
            let refused = || {
                Ok(Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "wrong name or password",
                )))
            };
            let Some((user, _)) = found else {
                return refused();
            };
            if let Some(until) = user.locked_until_ms.filter(|u| *u > now) {
                return Ok(Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "too many wrong passwords: this name is locked until {} UTC",
                        chrono::DateTime::from_timestamp_millis(until)
                            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_default()
                    ),
                )));
            }
            if user.disabled_at_ms.is_some() {
                return refused();
            }
            if !matches {
                storage.record_signin(&user, None, now)?;
                return refused();
            }
            let token = crate::people::new_session_token();
            let expires = now + crate::people::SESSION_HOURS * 3_600_000;
            storage.record_signin(&user, Some((crate::token::hash(&token), expires)), now)?;
            Ok(Ok(Json(serde_json::json!({
                "token": token,
                "expires_at_ms": expires,
                "role": user.role.code(),
                "area": user.scope.to_text(),
            }))
            .into_response()))
        },
    )
    .await?
}

/// `DELETE /v1/session`: signs the caller's session out.
async fn sign_out(
    State(state): State<AppState>,
    Caller(who): Caller,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if !who.person {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only a person's session signs out; a device is revoked with `tumbuh-server device revoke`",
        ));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    let storage = state.storage.clone();
    let ended =
        blocking(move || storage.end_session(&crate::token::hash(&token), now_ms())).await?;
    Ok(Json(serde_json::json!({ "signed_out": ended })).into_response())
}

/// The review queue is the district's: district and admin roles only.
fn require_district(who: &Enrolment) -> Result<(), ApiError> {
    if matches!(who.role, Role::District | Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the review queue is for district and admin roles",
        ))
    }
}

/// Whether both children of a pair lie in the caller's scope.
fn pair_in_scope(
    storage: &dyn crate::Storage,
    scope: &Scope,
    item: &crate::storage::ReviewItem,
) -> Result<bool, StorageError> {
    for id in [&item.child_a, &item.child_b] {
        let Ok(child) = id.parse::<ChildId>() else {
            return Ok(false);
        };
        match storage.child(child)? {
            Some(d) if scope.contains(&d.summary.posyandu) => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// A review pair, if it exists and lies in `scope` (else it answers as absent).
fn review_in_scope(
    storage: &dyn crate::Storage,
    scope: &Scope,
    id: i64,
) -> Result<Option<crate::storage::ReviewItem>, StorageError> {
    match storage.review(id, review_today())? {
        Some(item) if pair_in_scope(storage, scope, &item)? => Ok(Some(item)),
        _ => Ok(None),
    }
}

#[derive(Debug, Deserialize)]
struct ReviewQuery {
    /// `open` (default), `accepted`, `rejected`, `stale` or `all`.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

async fn review_list(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    require_district(&who)?;
    let q: ReviewQuery = query(raw)?;
    let status = match q.status.as_deref().unwrap_or("open") {
        "all" => None,
        s @ ("open" | "accepted" | "rejected" | "stale") => Some(s.to_owned()),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("status `{other}`: use open, accepted, rejected, stale or all"),
            ));
        }
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let storage = state.storage.clone();
    let scope = who.scope.clone();
    // The scope is applied by the query, before the limit: pairs outside
    // the caller's area do not take places on its page.
    let rows = blocking(move || {
        storage.reviews(&crate::storage::ReviewQuery {
            status: status.as_deref(),
            scope: &scope,
            today: review_today(),
            limit,
        })
    })
    .await?;
    Ok(Json(serde_json::json!({ "reviews": rows })).into_response())
}

/// The date review priorities are computed for: the server's local day
/// (it runs in the district it serves).
fn review_today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn parse_review(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not a review number"),
        )
    })
}

fn review_not_found(id: i64) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no review pair {id} in your area"),
    )
}

async fn review_show(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    require_district(&who)?;
    let id = parse_review(&id)?;
    let q: ChildQuery = query(raw)?;
    let storage = state.storage.clone();
    let scope = who.scope.clone();
    let view = blocking(move || {
        if review_in_scope(storage.as_ref(), &scope, id)?.is_none() {
            return Ok(None);
        }
        crate::review::view(storage.as_ref(), id, q.reveal, review_today())
    })
    .await?
    .ok_or_else(|| review_not_found(id))?;
    audit_read(
        &state,
        &who,
        "review.read",
        format!("{} {}", view.item.child_a, view.item.child_b),
        format!("review={id} reveal={}", q.reveal),
    )
    .await?;
    Ok(Json(view).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct AcceptBody {
    /// Which child survives (default: the one measured most recently).
    #[serde(default)]
    survivor: Option<String>,
}

async fn review_decide(
    state: AppState,
    who: Enrolment,
    id: String,
    accept: Option<Option<ChildId>>,
) -> Result<Response, ApiError> {
    require_district(&who)?;
    let id = parse_review(&id)?;
    let storage = state.storage.clone();
    let scope = who.scope.clone();
    let by = who.id.to_string();
    let outcome = blocking(move || {
        if review_in_scope(storage.as_ref(), &scope, id)?.is_none() {
            return Ok(None);
        }
        let now = now_ms();
        let done = match accept {
            Some(survivor) => crate::review::accept(storage.as_ref(), id, survivor, &by, now)?,
            None => storage.decide_review(id, None, &by, now)?,
        };
        Ok(Some(done))
    })
    .await?
    .ok_or_else(|| review_not_found(id))?;
    state.projection.kick();
    Ok(Json(serde_json::json!({ "review": outcome.0, "merge": outcome.1 })).into_response())
}

async fn review_accept(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body: AcceptBody = if body.is_empty() {
        AcceptBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("body: {e}")))?
    };
    let survivor = body.survivor.as_deref().map(parse_child).transpose()?;
    review_decide(state, who, id, Some(survivor)).await
}

async fn review_reject(
    State(state): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    review_decide(state, who, id, None).await
}

#[derive(Debug, Deserialize)]
struct VervalQuery {
    round: String,
    #[serde(default)]
    previous: Option<String>,
    #[serde(default)]
    area: Option<String>,
    /// `true` for whole NIKs and addresses in the lists (district and admin
    /// only, which this endpoint is; audited as a reveal).
    #[serde(default)]
    reveal: bool,
}

/// Runs a report over the whole register on a blocking thread (children
/// registered elsewhere may be measured in the area); a report's own errors
/// (a bad round) are the caller's (400).
async fn over_register<T: Send + 'static>(
    state: &AppState,
    reveal: bool,
    report: impl FnOnce(
        &[crate::storage::RegisterChild],
        crate::verval::NikDisplay,
    ) -> Result<T, crate::verval::VervalError>
    + Send
    + 'static,
) -> Result<T, ApiError> {
    let storage = state.storage.clone();
    tokio::task::spawn_blocking(move || {
        let register = storage.register(&Scope::All).map_err(ApiError::from)?;
        let display = crate::verval::NikDisplay::revealed_if(reveal);
        report(&register, display)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "worker failed"))?
}

/// The area a report is for: the one asked for, which must lie in the
/// caller's scope (403 otherwise); else the caller's own area. A scope of
/// several areas without `area` takes the first when `first_of_many`, else
/// asks for one (400).
fn report_area(
    asked: Option<&str>,
    scope: &Scope,
    first_of_many: bool,
) -> Result<Option<String>, ApiError> {
    match (asked, scope) {
        (Some(a), scope) => {
            let code = AreaCode::parse(a)
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("area: {e}")))?;
            if !matches!(scope, Scope::All) && !scope.contains(code.as_str()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("area {a} is outside your area"),
                ));
            }
            Ok(Some(code.to_string()))
        }
        (None, Scope::Areas(areas)) if areas.len() == 1 || first_of_many => {
            Ok(areas.first().map(|a| a.to_string()))
        }
        (None, Scope::Areas(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "your area has several parts: pass area=CODE for one of them",
        )),
        (None, Scope::All) => Ok(None),
    }
}

/// The verval report of a round as JSON (district and admin roles; a
/// district sees its own kabupaten).
async fn verval_report(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    require_district(&who)?;
    let q: VervalQuery = query(raw)?;
    let area = report_area(q.area.as_deref(), &who.scope, true)?;
    let (round, previous, area_for_report) = (q.round.clone(), q.previous.clone(), area.clone());
    let report = over_register(&state, q.reveal, move |register, display| {
        crate::verval::report(
            register,
            &round,
            previous.as_deref(),
            area_for_report.as_deref(),
            display,
            &|_| None,
        )
    })
    .await?;
    // A reveal is its own action (`verval.report.reveal`), so that
    // `audit --action verval.report` lists reads and reveals together and a
    // reveal can be looked for alone.
    audit_read(
        &state,
        &who,
        if q.reveal {
            "verval.report.reveal"
        } else {
            "verval.report"
        },
        area.unwrap_or_else(|| "all".into()),
        format!(
            "round={} stunted_listed={} reveal={}",
            q.round,
            report.stunted_list.len(),
            if q.reveal { "nik,address" } else { "no" }
        ),
    )
    .await?;
    Ok(Json(report).into_response())
}

#[derive(Debug, Deserialize)]
struct WorklistQuery {
    round: String,
    #[serde(default)]
    area: Option<String>,
    /// `true` for whole NIKs and addresses (district and admin only; audited
    /// as a reveal).
    #[serde(default)]
    reveal: bool,
}

/// The verification worklist of a round: bidan, puskesmas, district and
/// admin roles, for children measured in their area (`area` narrows it; a
/// scope of several areas must name one).
async fn verval_worklist(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if !matches!(
        who.role,
        Role::Bidan | Role::Puskesmas | Role::District | Role::Admin
    ) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the verification worklist is for bidan, puskesmas, district and admin roles",
        ));
    }
    let q: WorklistQuery = query(raw)?;
    if q.reveal && !matches!(who.role, Role::District | Role::Admin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only a district or admin role may see NIKs and addresses unmasked",
        ));
    }
    let area = report_area(q.area.as_deref(), &who.scope, false)?;
    let (round, area_for_list) = (q.round.clone(), area.clone());
    let list = over_register(&state, q.reveal, move |register, display| {
        crate::verval::worklist::worklist(
            register,
            &round,
            area_for_list.as_deref(),
            display,
            &|_| None,
        )
    })
    .await?;
    audit_read(
        &state,
        &who,
        if q.reveal {
            "verval.worklist.reveal"
        } else {
            "verval.worklist"
        },
        area.unwrap_or_else(|| "all".into()),
        format!(
            "round={} listed={} reveal={}",
            q.round,
            list.entries.len(),
            if q.reveal { "nik,address" } else { "no" }
        ),
    )
    .await?;
    Ok(Json(list).into_response())
}
