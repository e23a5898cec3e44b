//! The TCP proxy on 127.0.0.1 between the simulated devices and the server,
//! shared by `sync` and `load`.
//!
//! It always counts every payload byte both ways (HTTP request/status lines
//! and headers included; TCP/IP headers, handshakes and ACKs are not
//! payload) and the TCP connections. Started with [`Faults`], it also reads
//! the HTTP/1.1 messages it forwards (one request, then its response, as
//! many times as the connection is kept alive), counts the requests, and
//! cuts a share of them mid-body with a seeded RNG: half of the cuts in the
//! request body (the server receives part of it, then both sides are
//! closed), half in the response body (the client receives the status,
//! headers and part of the body, then both sides are closed).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;

use crate::data::Rng;

/// Bytes that went through the proxy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Traffic {
    /// Client → server.
    pub up: u64,
    /// Server → client.
    pub down: u64,
    /// TCP connections opened.
    pub connections: u64,
}

impl Traffic {
    pub fn total(self) -> u64 {
        self.up + self.down
    }

    pub fn since(self, before: Traffic) -> Traffic {
        Traffic {
            up: self.up - before.up,
            down: self.down - before.down,
            connections: self.connections - before.connections,
        }
    }
}

/// Which requests the proxy cuts.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// Share of requests cut (0–1).
    pub rate: f64,
    /// Seed of the RNG that picks the requests and the cut points.
    pub seed: u64,
}

/// What a proxy with [`Faults`] did.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultCounts {
    /// HTTP requests whose headers reached the proxy.
    pub requests: u64,
    /// Requests cut in the middle of the request body.
    pub cut_in_request: u64,
    /// Requests cut in the middle of the response body.
    pub cut_in_response: u64,
}

impl FaultCounts {
    pub fn cut(self) -> u64 {
        self.cut_in_request + self.cut_in_response
    }
}

#[derive(Default)]
struct Counters {
    up: AtomicU64,
    down: AtomicU64,
    connections: AtomicU64,
    requests: AtomicU64,
    cut_in_request: AtomicU64,
    cut_in_response: AtomicU64,
}

/// A TCP proxy on 127.0.0.1 that counts every payload byte both ways and,
/// with [`Faults`], cuts requests.
pub struct Proxy {
    addr: SocketAddr,
    counters: Arc<Counters>,
    /// Faults on or off (a final uncut sync goes through the same proxy).
    cutting: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// A counting proxy that forwards bytes as they come.
    pub fn start(upstream: SocketAddr) -> anyhow::Result<Proxy> {
        Self::launch(upstream, None)
    }

    /// A proxy that follows the HTTP messages and cuts `faults.rate` of the requests.
    pub fn with_faults(upstream: SocketAddr, faults: Faults) -> anyhow::Result<Proxy> {
        Self::launch(upstream, Some(faults))
    }

    fn launch(upstream: SocketAddr, faults: Option<Faults>) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen for the proxy")?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let cutting = Arc::new(AtomicBool::new(faults.is_some()));
        let rng = Arc::new(Mutex::new(Rng::new(faults.map_or(0, |f| f.seed))));
        let rate = faults.map_or(0.0, |f| f.rate);
        let (c, s, on) = (counters.clone(), stop.clone(), cutting.clone());
        std::thread::Builder::new()
            .name("proxy".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if s.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(upstream) else {
                        continue;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    c.connections.fetch_add(1, Ordering::SeqCst);
                    if faults.is_some() {
                        let (c, rng, on) = (c.clone(), rng.clone(), on.clone());
                        std::thread::spawn(move || {
                            let cut = Cutter {
                                rate,
                                rng: &rng,
                                on: &on,
                            };
                            http_relay(client, server, &c, &cut);
                        });
                        continue;
                    }
                    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone())
                    else {
                        continue;
                    };
                    let (u, d) = (c.clone(), c.clone());
                    std::thread::spawn(move || pump(client, server, &u.up));
                    std::thread::spawn(move || pump(server2, client2, &d.down));
                }
            })
            .context("cannot start the proxy thread")?;
        Ok(Proxy {
            addr,
            counters,
            cutting,
            stop,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn counts(&self) -> Traffic {
        Traffic {
            up: self.counters.up.load(Ordering::SeqCst),
            down: self.counters.down.load(Ordering::SeqCst),
            connections: self.counters.connections.load(Ordering::SeqCst),
        }
    }

    pub fn faults(&self) -> FaultCounts {
        FaultCounts {
            requests: self.counters.requests.load(Ordering::SeqCst),
            cut_in_request: self.counters.cut_in_request.load(Ordering::SeqCst),
            cut_in_response: self.counters.cut_in_response.load(Ordering::SeqCst),
        }
    }

    /// Stops cutting (requests still counted).
    pub fn heal(&self) {
        self.cutting.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Copies `from` to `to`, counting each chunk when it is read (so the count
/// is complete by the time the other side has received it).
fn pump(mut from: TcpStream, mut to: TcpStream, counter: &AtomicU64) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                counter.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Decides which requests are cut, and where.
struct Cutter<'a> {
    rate: f64,
    rng: &'a Mutex<Rng>,
    on: &'a AtomicBool,
}

/// Where one request is cut: after this share of its request or its response body.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cut {
    None,
    Request(f64),
    Response(f64),
}

impl Cutter<'_> {
    fn decide(&self) -> Cut {
        if !self.on.load(Ordering::SeqCst) {
            return Cut::None;
        }
        let Ok(mut rng) = self.rng.lock() else {
            return Cut::None;
        };
        if !rng.chance(self.rate) {
            return Cut::None;
        }
        let at = rng.unit();
        if rng.chance(0.5) {
            Cut::Request(at)
        } else {
            Cut::Response(at)
        }
    }
}

/// Bytes `share` of the way into a body of `len` bytes, strictly inside it
/// when it has at least two bytes (some of it goes through, not all).
fn cut_point(len: usize, share: f64) -> usize {
    if len < 2 {
        return 0;
    }
    (1 + (share * (len - 1) as f64) as usize).min(len - 1)
}

/// One direction of a connection: the socket and bytes read but not yet forwarded.
struct Side {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl Side {
    /// Reads until a whole header block is buffered and takes it off;
    /// `None` at the end of the stream (or on an error) before one.
    fn head(&mut self, counter: &AtomicU64) -> Option<Vec<u8>> {
        let mut buf = [0u8; 16 << 10];
        loop {
            if let Some(end) = self.buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                let rest = self.buffered.split_off(end + 4);
                return Some(std::mem::replace(&mut self.buffered, rest));
            }
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => {
                    counter.fetch_add(n as u64, Ordering::SeqCst);
                    self.buffered.extend_from_slice(&buf[..n]);
                }
            }
        }
    }

    /// Forwards `n` body bytes to `to`; false if either side failed first.
    fn forward(&mut self, to: &mut impl Write, mut n: usize, counter: &AtomicU64) -> bool {
        let take = n.min(self.buffered.len());
        if take > 0 {
            if to.write_all(&self.buffered[..take]).is_err() {
                return false;
            }
            self.buffered.drain(..take);
            n -= take;
        }
        let mut buf = [0u8; 64 << 10];
        while n > 0 {
            let want = n.min(buf.len());
            match self.stream.read(&mut buf[..want]) {
                Ok(0) | Err(_) => return false,
                Ok(got) => {
                    counter.fetch_add(got as u64, Ordering::SeqCst);
                    if to.write_all(&buf[..got]).is_err() {
                        return false;
                    }
                    n -= got;
                }
            }
        }
        true
    }
}

/// The body length an HTTP/1.1 header block announces: `Some(n)` for a
/// `Content-Length`, `None` for a body this relay does not follow
/// (chunked, or until the connection closes).
fn body_length(head: &[u8], response: bool) -> Option<usize> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    if response {
        let status: u16 = first
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if (100..200).contains(&status) || status == 204 || status == 304 {
            return Some(0);
        }
    }
    let mut length = None;
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        let name = name.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return None;
        }
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok();
        }
    }
    match length {
        Some(n) => Some(n),
        // A request without a length has no body; a response reads to the end.
        None if !response => Some(0),
        None => None,
    }
}

fn close(a: &TcpStream, b: &TcpStream) {
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
}

/// Relays one keep-alive connection message by message, cutting where the
/// [`Cutter`] says. A message whose length it cannot follow ends the
/// message-by-message relay: the rest is copied as is (never cut).
fn http_relay(client: TcpStream, server: TcpStream, counters: &Counters, cutter: &Cutter<'_>) {
    let (Ok(mut to_client), Ok(mut to_server)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let mut from_client = Side {
        stream: client,
        buffered: Vec::new(),
    };
    let mut from_server = Side {
        stream: server,
        buffered: Vec::new(),
    };
    while let Some(head) = from_client.head(&counters.up) {
        counters.requests.fetch_add(1, Ordering::SeqCst);
        let cut = cutter.decide();
        let Some(len) = body_length(&head, false) else {
            // Unknown framing: copy the rest both ways uncut.
            let _ = to_server.write_all(&head);
            let _ = to_server.write_all(&from_client.buffered);
            let (c, s) = (from_client.stream, from_server.stream);
            let _ = to_server.write_all(&from_server.buffered);
            std::thread::scope(|scope| {
                scope.spawn(|| pump(c, to_server, &counters.up));
                scope.spawn(|| pump(s, to_client, &counters.down));
            });
            return;
        };
        if to_server.write_all(&head).is_err() {
            break;
        }
        if let Cut::Request(share) = cut {
            from_client.forward(&mut to_server, cut_point(len, share), &counters.up);
            counters.cut_in_request.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if !from_client.forward(&mut to_server, len, &counters.up) {
            break;
        }
        let Some(head) = from_server.head(&counters.down) else {
            break;
        };
        if to_client.write_all(&head).is_err() {
            break;
        }
        let Some(len) = body_length(&head, true) else {
            // A response read to the end of the connection: copy it all.
            let _ = to_client.write_all(&from_server.buffered);
            pump(from_server.stream, to_client, &counters.down);
            return;
        };
        if let Cut::Response(share) = cut {
            from_server.forward(&mut to_client, cut_point(len, share), &counters.down);
            counters.cut_in_response.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if !from_server.forward(&mut to_client, len, &counters.down) {
            break;
        }
    }
    close(&to_client, &to_server);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_difference() {
        let a = Traffic {
            up: 10,
            down: 20,
            connections: 1,
        };
        let b = Traffic {
            up: 15,
            down: 50,
            connections: 2,
        };
        let d = b.since(a);
        assert_eq!((d.up, d.down, d.connections, d.total()), (5, 30, 1, 35));
    }

    #[test]
    fn cut_points_fall_strictly_inside_the_body() {
        for len in 2..50 {
            for share in [0.0, 0.001, 0.5, 0.999, 1.0] {
                let at = cut_point(len, share);
                assert!((1..len).contains(&at), "{len} {share} → {at}");
            }
        }
        assert_eq!(cut_point(1, 0.5), 0);
        assert_eq!(cut_point(0, 0.5), 0);
    }

    #[test]
    fn body_lengths_from_headers() {
        let req = b"POST /v1/sync HTTP/1.1\r\nHost: x\r\ncontent-length: 42\r\n\r\n";
        assert_eq!(body_length(req, false), Some(42));
        assert_eq!(
            body_length(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", false),
            Some(0)
        );
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n";
        assert_eq!(body_length(resp, true), Some(7));
        assert_eq!(
            body_length(b"HTTP/1.1 204 No Content\r\n\r\n", true),
            Some(0)
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(body_length(chunked, true), None);
        assert_eq!(body_length(b"HTTP/1.1 200 OK\r\n\r\n", true), None);
    }

    /// A tiny HTTP/1.1 server: answers every request with its body reversed.
    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let _ = conn.set_nodelay(true);
                std::thread::spawn(move || {
                    let mut side = Side {
                        stream: conn.try_clone().expect("clone"),
                        buffered: Vec::new(),
                    };
                    let mut out = conn;
                    let sink = AtomicU64::new(0);
                    while let Some(head) = side.head(&sink) {
                        let len = body_length(&head, false).unwrap_or(0);
                        let mut body = Vec::new();
                        while side.buffered.len() < len {
                            let mut buf = [0u8; 4096];
                            match side.stream.read(&mut buf) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => side.buffered.extend_from_slice(&buf[..n]),
                            }
                        }
                        body.extend(side.buffered.drain(..len));
                        body.reverse();
                        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", len);
                        if out.write_all(answer.as_bytes()).is_err()
                            || out.write_all(&body).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Sends `n` requests on one keep-alive connection (a new one after a
    /// cut); counts the complete answers.
    fn exchange_many(addr: SocketAddr, n: usize) -> usize {
        let body = vec![b'x'; 1000];
        let mut complete = 0;
        let mut conn: Option<TcpStream> = None;
        for _ in 0..n {
            let stream = conn.get_or_insert_with(|| {
                let s = TcpStream::connect(addr).expect("connect");
                let _ = s.set_nodelay(true);
                s
            });
            let request = format!(
                "POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let sent =
                stream.write_all(request.as_bytes()).is_ok() && stream.write_all(&body).is_ok();
            let mut side = Side {
                stream: stream.try_clone().expect("clone"),
                buffered: Vec::new(),
            };
            let sink = AtomicU64::new(0);
            let ok = sent
                && side
                    .head(&sink)
                    .is_some_and(|h| body_length(&h, true) == Some(1000))
                && side.forward(&mut std::io::sink(), 1000, &sink);
            if ok {
                complete += 1;
            } else {
                conn = None;
            }
        }
        complete
    }

    #[test]
    fn a_proxy_without_faults_passes_every_request() {
        let proxy =
            Proxy::with_faults(echo_server(), Faults { rate: 0.0, seed: 1 }).expect("proxy");
        assert_eq!(exchange_many(proxy.addr, 50), 50);
        let f = proxy.faults();
        assert_eq!((f.requests, f.cut()), (50, 0));
        assert_eq!(proxy.counts().connections, 1, "one keep-alive connection");
    }

    #[test]
    fn a_cut_request_never_gets_a_whole_answer_and_the_others_do() {
        let proxy =
            Proxy::with_faults(echo_server(), Faults { rate: 0.3, seed: 7 }).expect("proxy");
        let complete = exchange_many(proxy.addr, 200);
        let f = proxy.faults();
        assert_eq!(f.requests, 200);
        assert!(f.cut_in_request > 0 && f.cut_in_response > 0, "{f:?}");
        assert_eq!(complete as u64, 200 - f.cut(), "{f:?}");
        proxy.heal();
        assert_eq!(exchange_many(proxy.addr, 20), 20, "healed: nothing cut");
    }
}
