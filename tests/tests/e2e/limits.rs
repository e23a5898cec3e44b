//! Limits: too many changes per request, request body size, decompression
//! bombs, per-token rate limits and stalled clients each get a clear 4xx and
//! change nothing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use field_client::store::Store;
use field_client::sync::http::HttpTransport;
use field_client::sync::{SyncError, SyncOptions, TransportError, sync};
use serde_bytes::ByteBuf;
use sync_protocol::ChildId;
use sync_protocol::wire::{self, ChildChanges, SyncRequest};
use tumbuh_server::{Limits, Role, Storage};
use tumbuh_tests::{Device, InProcessServer, POSYANDU, http_get};

fn limits() -> Limits {
    Limits {
        max_body_bytes: 64 << 10,
        max_message_bytes: 1 << 20,
        max_changes_per_request: 3,
        request_timeout: Duration::from_secs(1),
        requests_per_second: 1,
        burst: 5,
        ..Limits::default()
    }
}

fn addr(server: &InProcessServer) -> SocketAddr {
    server
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("address")
}

/// Sends raw bytes and returns the HTTP status of the answer.
fn status_of(addr: SocketAddr, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text}"))
}

fn post(addr: SocketAddr, token: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/vnd.tumbuh.sync\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

#[test]
fn too_many_changes_in_one_request_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcessServer::start_with(&dir.path().join("s.db"), limits());
    let token = server.enrol(Role::Kader, POSYANDU);
    let device = Device::new();
    device.login(&server.url, &token);
    for i in 0..2 {
        let id = device.add_child(
            &format!("Anak {i}"),
            "L",
            &format!("2023-01-0{}", i + 1),
            "Ibu",
        );
        device.measure(&id, "2024-08-05", "9.8", &[]);
    }
    drop(device.conn());
    let mut store = Store::open(device.db(), &tumbuh_tests::pin()).expect("store");
    let mut transport =
        HttpTransport::new(&server.url, &token, Duration::from_secs(10)).expect("http");
    let err = sync(&mut store, &mut transport, &SyncOptions::default()).expect_err("refused");
    match err {
        SyncError::Refused(TransportError::Refused { status, message }) => {
            assert_eq!(status, 413);
            assert!(message.contains("at most 3"), "{message}");
        }
        other => panic!("expected a 413, got {other}"),
    }
    assert_eq!(server.storage.stats().expect("stats").changes, 0);
    assert_eq!(device.outbox().len(), 4, "the device keeps everything");
}

#[test]
fn oversized_bodies_and_decompression_bombs_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcessServer::start_with(&dir.path().join("s.db"), limits());
    let token = server.enrol(Role::Kader, POSYANDU);
    let a = addr(&server);
    // 100 KB on the wire, over the 64 KB body limit.
    assert_eq!(status_of(a, &post(a, &token, &vec![7u8; 100 << 10])), 413);
    // 2 MB of zeros compress to a few hundred bytes but expand past the 1 MB cap.
    let bomb = wire::encode(&SyncRequest {
        batch: uuid::Uuid::now_v7(),
        cursor: 0,
        upload: vec![ChildChanges {
            child: ChildId::new(),
            changes: vec![ByteBuf::from(vec![0u8; 2 << 20])],
        }],
        max_page_bytes: 0,
    })
    .expect("encode");
    assert!(bomb.len() < 4096);
    assert_eq!(status_of(a, &post(a, &token, &bomb)), 400);
    assert_eq!(server.storage.stats().expect("stats").changes, 0);
}

#[test]
fn a_token_over_its_rate_gets_429_and_others_are_not_affected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcessServer::start_with(&dir.path().join("s.db"), limits());
    let busy = server.enrol(Role::Kader, POSYANDU);
    let other = server.enrol(Role::Kader, POSYANDU);
    let a = addr(&server);
    let statuses: Vec<u16> = (0..8)
        .map(|_| http_get(a, "/v1/conflicts", &busy).status)
        .collect();
    assert_eq!(&statuses[..5], &[200; 5], "the burst passes: {statuses:?}");
    assert!(statuses[5..].contains(&429), "{statuses:?}");
    assert_eq!(http_get(a, "/v1/conflicts", &other).status, 200);
}

#[test]
fn a_client_that_stalls_mid_body_is_cut_off_with_408() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcessServer::start_with(&dir.path().join("s.db"), limits());
    let token = server.enrol(Role::Kader, POSYANDU);
    let a = addr(&server);
    let mut stream = TcpStream::connect(a).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: {a}\r\nAuthorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\npartial"
    );
    stream.write_all(head.as_bytes()).expect("send");
    let started = Instant::now();
    let mut answer = [0u8; 64];
    let n = stream.read(&mut answer).expect("an answer, not a hang");
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
