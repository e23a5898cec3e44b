//! HTTPS: `tumbuh-server serve --tls-cert --tls-key` serves sync over TLS
//! (rustls), and a device that trusts the district's CA (`--ca-cert`) syncs
//! through it; an untrusted certificate is refused.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tumbuh_tests::{Device, POSYANDU, server_bin};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_device_syncs_over_https_with_the_district_ca_and_refuses_other_certificates() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A district CA and the server's certificate for 127.0.0.1, signed by it.
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("server key");
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("server cert");
    let (ca_file, cert_file, key_file) = (
        dir.path().join("ca.pem"),
        dir.path().join("server.pem"),
        dir.path().join("server.key"),
    );
    std::fs::write(&ca_file, ca_cert.pem()).expect("write ca");
    std::fs::write(&cert_file, cert.pem()).expect("write cert");
    std::fs::write(&key_file, key.serialize_pem()).expect("write key");

    let db = dir.path().join("server.db");
    let mut child = Command::new(server_bin())
        .env_remove("TUMBUH_SERVER_DB")
        .arg("--db")
        .arg(&db)
        .args(["--json", "serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert_file)
        .arg("--tls-key")
        .arg(&key_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().expect("stdout");
    let _running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("hello");
    let hello: serde_json::Value = serde_json::from_str(&line).expect("hello JSON");
    let url = hello["listening"].as_str().expect("url").to_string();
    assert!(url.starts_with("https://"), "{url}");

    let enrol = Command::new(server_bin())
        .arg("--db")
        .arg(&db)
        .args([
            "--json", "device", "add", "--role", "kader", "--area", POSYANDU,
        ])
        .output()
        .expect("enrol");
    let token: serde_json::Value = serde_json::from_slice(&enrol.stdout).expect("token JSON");
    let token = token["token"].as_str().expect("token");

    // Without the CA the certificate is not trusted: refused, nothing stored.
    let stranger = Device::new();
    let out = stranger
        .cmd()
        .args(["--lang", "en", "login", "--server", &url, "--token", token])
        .output()
        .expect("login");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot reach the server"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let a = Device::new();
    let out = a
        .cmd()
        .args(["login", "--server", &url, "--token", token, "--ca-cert"])
        .arg(&ca_file)
        .output()
        .expect("login");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child_id = a.add_child("Siti Aisyah", "P", "2023-05-17", "Sri Wahyuni");
    a.measure(&child_id, "2024-08-05", "9.8", &[]);
    let summary = a.sync();
    assert_eq!(summary["sent"], 2, "{summary}");
    assert_eq!(summary["verified"], true);
    assert!(a.outbox().is_empty());
}
