//! What TLS the server speaks: 1.3 by default, 1.2 with forward-secret AEAD suites for older
//! clients, nothing weaker. Each case is a real handshake from an OpenSSL client.

mod common;

use std::net::TcpStream;

use common::{Server, PATIENCE};
use openssl::ssl::{SslConnector, SslMethod, SslVersion};

/// Connects with a client configured by `setup`; the negotiated version and cipher, or the
/// handshake error.
fn handshake(
    server: &Server,
    setup: impl FnOnce(&mut openssl::ssl::SslConnectorBuilder),
) -> Result<(String, String), String> {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).expect("client context");
    builder
        .set_ca_file(concat!(env!("CARGO_MANIFEST_DIR"), "/certs/ca.crt"))
        .expect("the development CA");
    setup(&mut builder);
    let connector = builder.build();
    let socket = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    socket.set_read_timeout(Some(PATIENCE)).expect("timeout");
    match connector.connect("localhost", socket) {
        Ok(stream) => Ok((
            stream.ssl().version_str().to_string(),
            stream
                .ssl()
                .current_cipher()
                .map(|c| c.name().to_string())
                .unwrap_or_default(),
        )),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn a_default_client_gets_tls_1_3() {
    let server = Server::start(&[]);
    let (version, _) = handshake(&server, |_| {}).expect("a TLS 1.3 handshake");
    assert_eq!(version, "TLSv1.3");
}

#[test]
fn tls_1_2_is_accepted_with_forward_secret_aead_suites_only() {
    let server = Server::start(&[]);
    let (version, cipher) = handshake(&server, |b| {
        b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    })
    .expect("a TLS 1.2 handshake");
    assert_eq!(version, "TLSv1.2");
    assert!(
        cipher.starts_with("ECDHE-") && (cipher.contains("GCM") || cipher.contains("CHACHA")),
        "{cipher}"
    );
    for weak in ["AES128-SHA", "AES256-SHA256", "AES128-GCM-SHA256"] {
        let refused = handshake(&server, |b| {
            b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
            b.set_cipher_list(weak).unwrap();
        });
        assert!(refused.is_err(), "{weak} (no forward secrecy) was accepted");
    }
    server.wait_for_log("TLS handshake failed");
}

#[test]
fn tls_1_1_is_refused() {
    let server = Server::start(&[]);
    let refused = handshake(&server, |b| {
        // Security level 0, or this client would not even offer TLS 1.1.
        b.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
        b.set_min_proto_version(Some(SslVersion::TLS1_1)).unwrap();
        b.set_max_proto_version(Some(SslVersion::TLS1_1)).unwrap();
    });
    assert!(refused.is_err(), "TLS 1.1 was accepted: {refused:?}");
    server.wait_for_log("TLS handshake failed");
}
