//! The terminal client against a hostile server: a TLS server of our own (the real
//! certificate, on an ephemeral loopback port) that answers the login with hundreds of
//! generated messages of every type, with hostile text and numbers in every field, and with
//! lines that are not messages at all. The real `chat` binary, through the real client
//! runtime, must keep going, print nothing a terminal would obey, and quit cleanly.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use native_tls::{Identity, TlsAcceptor};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use tlschat::wire::{encode, ServerMsg, User};

use common::chat::Chat;
use tlschat_strategies as arbitrary;

/// How many generated messages the server sends.
const MESSAGES: usize = 400;

fn acceptor() -> TlsAcceptor {
    let dir = env!("CARGO_MANIFEST_DIR");
    let cert = std::fs::read(format!("{dir}/certs/server.crt")).expect("the bundled certificate");
    let key = std::fs::read(format!("{dir}/certs/server.key")).expect("the bundled key");
    TlsAcceptor::new(Identity::from_pkcs8(&cert, &key).expect("a usable identity"))
        .expect("a TLS acceptor")
}

/// Everything the server will say after the login, in order.
fn script() -> Vec<Vec<u8>> {
    let mut welcome = arbitrary::bare_welcome();
    welcome.id = 1;
    welcome.nickname = "victim".into();
    welcome.users = vec![User {
        id: 1,
        nickname: "victim".into(),
    }];
    welcome.server = "hostile \u{1b}]0;PWNED\u{7}".into();
    welcome.resume_token = "t".into();
    let welcome = ServerMsg::Welcome(welcome);
    let mut lines = vec![encode(&welcome)];
    // Deterministic, so that a failure can be reproduced.
    let mut runner = TestRunner::deterministic();
    let strategy = arbitrary::server_msg();
    for _ in 0..MESSAGES {
        let msg = strategy
            .new_tree(&mut runner)
            .expect("a generated message")
            .current();
        lines.push(encode(&msg));
    }
    for garbage in [
        &b"not json at all\n"[..],
        b"\xff\xfe invalid UTF-8\n",
        b"{\"type\":\"message\",\"seq\":\"\x1b]0;PWNED\x07\"}\n",
        b"{\"type\":\"\x1b[2J\"}\n",
        b"{\"type\":\"join\",\"time\":\"2026-11-27T09:15:02+0\xc3\xa900\",\"id\":9,\"nickname\":\"t\"}\n",
        b"[1,2,3]\n",
        b"\n",
    ] {
        lines.push(garbage.to_vec());
    }
    let end = ServerMsg::Join {
        time: "2026-11-27T09:15:02Z".into(),
        id: 2,
        nickname: "the-end".into(),
    };
    lines.push(encode(&end));
    lines
}

#[test]
fn chat_survives_a_hostile_server_and_prints_only_inert_lines() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port");
    let port = listener.local_addr().expect("its address").port();
    let acceptor = acceptor();
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().expect("chat connects");
        socket
            .set_read_timeout(Some(common::PATIENCE))
            .expect("a read timeout");
        let mut tls = acceptor.accept(socket).expect("the TLS handshake");
        let mut login = [0u8; 4096];
        let _ = tls.read(&mut login).expect("the login");
        for line in script() {
            tls.write_all(&line).expect("chat keeps reading");
        }
        tls.flush().expect("flush");
        // Until chat says goodbye (or the timeout): then close, as a server does.
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest);
        String::from_utf8_lossy(&rest).into_owned()
    });

    let addr = format!("127.0.0.1:{port}");
    let mut chat = Chat::start(&["--server", &addr, "--nickname", "victim", "--no-reconnect"]);
    chat.expect("-- the-end joined");
    let (status, stderr) = chat.finish();
    assert!(status.success(), "exit {status:?}, stderr {stderr}");
    let said = server.join().expect("the server thread");
    assert!(said.contains(r#""type":"quit""#), "{said}");
    let lines = chat.everything();
    assert!(lines.len() > MESSAGES / 2, "{} lines", lines.len());
    for line in lines.iter().map(String::as_str).chain(stderr.lines()) {
        assert!(inert(line), "{line:?}");
    }
}

/// Nothing in `line` that a terminal would obey or that hides or reorders text.
fn inert(line: &str) -> bool {
    !line.chars().any(|c| {
        c.is_control()
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
            || c == '\u{200b}'
            || c == '\u{feff}'
    })
}
