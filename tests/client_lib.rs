//! The shared client connection (`tlschat::runtime`) against the real server: what the GTK
//! client, the terminal client and the load generator all build on.

mod common;

use std::sync::mpsc;

use common::{Server, PATIENCE};
use tlschat::runtime::connect::BUNDLED_CA;
use tlschat::runtime::{self, ClientConfig, NetEvent};
use tlschat::wire::{ClientMsg, ServerMsg};

fn start(
    server: &str,
    ca: &[u8],
    nickname: &str,
) -> (runtime::ClientHandle, mpsc::Receiver<NetEvent>) {
    let (tx, rx) = mpsc::channel();
    let config = ClientConfig::new(server, ca, nickname, None);
    let handle = runtime::spawn(config, move |event| {
        let _ = tx.send(event);
    });
    (handle, rx)
}

fn next(rx: &mpsc::Receiver<NetEvent>) -> NetEvent {
    rx.recv_timeout(PATIENCE).expect("an event in time")
}

/// Bytes that arrived on the server's side of connections to `port` and that it has not read,
/// from the kernel's table of TCP sockets.
fn unread_by_server(port: u16) -> u64 {
    let mut unread = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            // sl local_address rem_address st tx_queue:rx_queue ...; numbers in hex.
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1).and_then(|a| a.rsplit(':').next());
            let established = fields.get(3) == Some(&"01");
            let rx_queue = fields.get(4).and_then(|q| q.split(':').nth(1));
            if let (Some(local), true, Some(rx)) = (local_port, established, rx_queue) {
                if u16::from_str_radix(local, 16) == Ok(port) {
                    unread += u64::from_str_radix(rx, 16).unwrap_or(0);
                }
            }
        }
    }
    unread
}

fn closed_reason(rx: &mpsc::Receiver<NetEvent>) -> (String, bool) {
    loop {
        if let NetEvent::Closed { reason, retry, .. } = next(rx) {
            return (reason, retry);
        }
    }
}

#[test]
fn connects_logs_in_sends_and_receives_a_large_welcome() {
    let server = Server::start(&["--no-flood-control"]);
    // Fill the history so that welcome is far longer than a client line may be.
    let (mut filler, _) = server.join("filler");
    for _ in 0..50 {
        filler.say(&"h".repeat(3000));
        filler.recv_message();
    }
    let (handle, rx) = start(&server.addr(), BUNDLED_CA, "lib");
    match next(&rx) {
        NetEvent::Connected { fingerprint, .. } => {
            let der =
                tlschat::certs::first_certificate_der(&std::fs::read("certs/server.crt").unwrap())
                    .unwrap();
            assert_eq!(fingerprint, tlschat::certs::fingerprint(&der));
        }
        other => panic!("expected Connected, got {other:?}"),
    }
    match next(&rx) {
        NetEvent::Server(ServerMsg::Welcome(w)) => assert_eq!(w.history.len(), 50),
        other => panic!("expected welcome, got {other:?}"),
    }
    handle
        .send(&ClientMsg::Broadcast {
            message: "from the library".into(),
            action: true,
        })
        .unwrap();
    let m = filler.recv_message();
    assert_eq!((m.message.as_str(), m.action), ("from the library", true));
    handle.quit();
    let (reason, retry) = closed_reason(&rx);
    assert!(!retry, "{reason}");
}

#[test]
fn quitting_still_delivers_the_echo_of_the_last_message() {
    let server = Server::start(&[]);
    let (handle, rx) = start(&server.addr(), BUNDLED_CA, "leaver");
    loop {
        if let NetEvent::Server(ServerMsg::Welcome(_)) = next(&rx) {
            break;
        }
    }
    handle
        .send(&ClientMsg::Broadcast {
            message: "last words".into(),
            action: false,
        })
        .unwrap();
    handle.quit();
    let mut echoed = false;
    loop {
        match next(&rx) {
            NetEvent::Server(ServerMsg::Message(m)) => echoed |= m.message == "last words",
            NetEvent::Closed { retry, .. } => {
                assert!(!retry);
                break;
            }
            _ => {}
        }
    }
    assert!(echoed, "the echo sent before quit was lost");
}

#[test]
fn a_refused_connection_reads_like_a_sentence() {
    // Bind and drop to find a port that is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let (_handle, rx) = start(&addr, BUNDLED_CA, "x");
    let (reason, retry) = closed_reason(&rx);
    assert_eq!(
        reason,
        format!("Could not connect to {addr}: connection refused")
    );
    assert!(retry);
}

#[test]
fn a_server_signed_by_another_ca_is_not_trusted() {
    let server = Server::start(&[]);
    let other_ca = include_bytes!("fixtures/other_ca.crt");
    let (_handle, rx) = start(&server.addr(), other_ca, "x");
    let (reason, retry, fingerprint) = loop {
        if let NetEvent::Closed {
            reason,
            retry,
            fingerprint,
            ..
        } = next(&rx)
        {
            break (reason, retry, fingerprint);
        }
    };
    assert_eq!(
        reason,
        format!("The certificate of {} is not trusted: it is not signed by your CA or not made for this address. If it is your server, start the client with --ca and the CA certificate that signed it", server.addr())
    );
    assert!(!retry, "an untrusted certificate will not fix itself");
    // The fingerprint the server presented, as the server itself logs it, for comparing.
    let logged = server.wait_for_log("certificate SHA-256 fingerprint: ");
    let presented = fingerprint.expect("the presented certificate's fingerprint");
    assert!(logged.ends_with(&presented), "{logged} vs {presented}");
}

#[test]
fn a_refused_login_and_a_shutdown_are_explained() {
    let mut server = Server::start(&[]);
    let (_alice, _) = server.join("alice");
    let (_h, rx) = start(&server.addr(), BUNDLED_CA, "alice");
    let mut saw_error = false;
    let (reason, retry) = loop {
        match next(&rx) {
            NetEvent::Server(ServerMsg::Error { code, .. }) => {
                assert_eq!(code, tlschat::wire::ErrorCode::NicknameTaken);
                saw_error = true;
            }
            NetEvent::Closed { reason, retry, .. } => break (reason, retry),
            _ => {}
        }
    };
    assert!(saw_error);
    assert!(reason.contains("is taken"), "{reason}");
    assert!(!retry);

    let (_bob, rx) = start(&server.addr(), BUNDLED_CA, "bob");
    assert!(matches!(next(&rx), NetEvent::Connected { .. }));
    assert!(matches!(next(&rx), NetEvent::Server(ServerMsg::Welcome(_))));
    server.terminate();
    let (reason, retry) = closed_reason(&rx);
    assert_eq!(
        reason,
        format!("Disconnected by {}: server shutting down", server.addr())
    );
    assert!(retry);
}

#[test]
fn a_message_lost_with_the_server_is_reported_after_reconnecting() {
    let data = common::TempDir::new("lost");
    let mut server = Server::start(&["--data-dir", data.path()]);
    let addr = server.addr();
    let resume = runtime::Resume::new();
    let connect = |resume: &runtime::Resume| {
        let (tx, rx) = mpsc::channel();
        let mut config = ClientConfig::new(&addr, BUNDLED_CA, "keeper", None);
        config.resume = Some(resume.clone());
        let handle = runtime::spawn(config, move |event| {
            let _ = tx.send(event);
        });
        (handle, rx)
    };
    let (handle, rx) = connect(&resume);
    loop {
        if let NetEvent::Server(ServerMsg::Welcome(_)) = next(&rx) {
            break;
        }
    }
    let said = |text: &str| ClientMsg::Broadcast {
        message: text.into(),
        action: false,
    };
    handle.send(&said("answered")).unwrap();
    loop {
        if let NetEvent::Server(ServerMsg::Message(m)) = next(&rx) {
            assert_eq!(m.message, "answered");
            break;
        }
    }
    // Freeze the server so the next message is never read, then crash it.
    let pid = server.pid().to_string();
    std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap();
    let swallowed = handle.send(&said("swallowed")).unwrap();
    // Sent means written: a message still queued in the client when the connection dies is
    // simply sent again, so wait until the frozen server has its bytes, unread.
    common::wait_until("the frozen server has the message unread", || {
        unread_by_server(server.port) > 0
    });
    server.kill();
    let (_, retry) = closed_reason(&rx);
    assert!(retry);
    let _server = Server::start_at(&addr, &["--data-dir", data.path()], None);
    let (_handle, rx) = connect(&resume);
    let lost = loop {
        match next(&rx) {
            NetEvent::NotDelivered(lost) => break lost,
            NetEvent::Closed { reason, .. } => panic!("closed: {reason}"),
            _ => {}
        }
    };
    assert_eq!(
        lost,
        vec![tlschat::runtime::SentMessage {
            id: swallowed,
            message: said("swallowed")
        }],
        "reported under the id it was sent with"
    );
}
