//! The OpenAPI document at `/v1/openapi.json` describes routes that exist:
//! every documented operation is served (without a token it answers 401, or
//! 200 for the public ones), and undocumented paths are not. The response
//! shapes are checked by schemathesis in `.ci/api-property-test`.

use std::io::{Read, Write};
use std::net::TcpStream;

use tumbuh_tests::{Server, http_get};

fn status(server: &Server, method: &str, path: &str) -> u16 {
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status")
}

#[test]
fn every_documented_operation_is_served_and_unknown_paths_are_not() {
    let server = Server::start();
    let doc = http_get(server.addr(), "/v1/openapi.json", "").json();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 9, "{paths:?}");
    for (path, ops) in paths {
        let concrete = path.replace("{id}", "01a20859-f53b-76af-a518-4fc153becbe9");
        for (method, op) in ops.as_object().expect("operations") {
            let public = op["security"].as_array().is_some_and(Vec::is_empty);
            let got = status(&server, &method.to_uppercase(), &concrete);
            if public && method == "post" {
                // A public operation that needs a body refuses an empty one.
                assert_eq!(got, 400, "{method} {path}");
            } else {
                assert_eq!(got, if public { 200 } else { 401 }, "{method} {path}");
            }
        }
    }
    assert_eq!(status(&server, "GET", "/v1/nothing-here"), 404);
    assert_eq!(status(&server, "DELETE", "/v1/conflicts"), 405);
}
