//! The HTTP transport: framed messages over `POST`, bearer-token auth,
//! rustls for `https://` (no system TLS library).

use std::time::Duration;

use serde::Deserialize;

use super::{Endpoint, Transport, TransportError};

/// The media type of framed sync messages.
pub const SYNC_MEDIA_TYPE: &str = "application/vnd.tumbuh.sync";

/// A connection to a Tumbuh server.
pub struct HttpTransport {
    client: reqwest::blocking::Client,
    base: String,
    token: String,
}

/// What the server says about an enrolment at sign-in.
#[derive(Debug, Clone, Deserialize)]
pub struct LoginInfo {
    pub enrolment: EnrolmentInfo,
    pub protocol: u8,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnrolmentInfo {
    pub id: uuid::Uuid,
    pub name: String,
    pub role: String,
    pub scope: String,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
}

impl HttpTransport {
    /// A client for the server at `base` (e.g. `http://10.0.0.5:8080`).
    pub fn new(
        base: &str,
        token: &str,
        timeout: Duration,
    ) -> Result<HttpTransport, TransportError> {
        Self::with_ca(base, token, timeout, None)
    }

    /// [`HttpTransport::new`], also trusting the CA certificate(s) in `ca_pem`
    /// (for a district server with its own certificate authority).
    pub fn with_ca(
        base: &str,
        token: &str,
        timeout: Duration,
        ca_pem: Option<&[u8]>,
    ) -> Result<HttpTransport, TransportError> {
        // reqwest uses the process-wide rustls provider; ring builds from
        // source with no system library. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::blocking::Client::builder();
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                TransportError::Refused {
                    status: 0,
                    message: format!("the CA certificate file is not PEM: {e}"),
                }
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .connect_timeout(Duration::from_secs(15))
            .timeout(timeout)
            .user_agent(concat!("tumbuh/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Refused {
                status: 0,
                message: format!("cannot set up HTTP: {e}"),
            })?;
        Ok(HttpTransport {
            client,
            base: base.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
        })
    }

    fn check(response: reqwest::blocking::Response) -> Result<Vec<u8>, TransportError> {
        let status = response.status();
        let bytes = response.bytes().map_err(|e| {
            TransportError::Retryable(format!("connection lost while receiving: {e}"))
        })?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let message = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(TransportError::Retryable(format!(
                "server error {status}: {message}"
            )))
        } else {
            Err(TransportError::Refused {
                status: status.as_u16(),
                message,
            })
        }
    }

    fn network(e: reqwest::Error) -> TransportError {
        // reqwest's own message hides the cause (refused, reset, timed out).
        let mut message = format!("network error: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        TransportError::Retryable(message)
    }

    /// Signs in: tells the server this device's id and learns its enrolment.
    pub fn login(&self, device_id: &str) -> Result<LoginInfo, TransportError> {
        let response = self
            .client
            .post(format!("{}/v1/login", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({ "device_id": device_id }).to_string())
            .send()
            .map_err(Self::network)?;
        let bytes = Self::check(response)?;
        serde_json::from_slice(&bytes).map_err(|e| TransportError::Refused {
            status: 200,
            message: format!("unexpected answer to sign-in: {e}"),
        })
    }
}

impl Transport for HttpTransport {
    fn exchange(&mut self, endpoint: Endpoint, body: &[u8]) -> Result<Vec<u8>, TransportError> {
        let response = self
            .client
            .post(format!("{}{}", self.base, endpoint.path()))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, SYNC_MEDIA_TYPE)
            .body(body.to_vec())
            .send()
            .map_err(Self::network)?;
        Self::check(response)
    }
}
