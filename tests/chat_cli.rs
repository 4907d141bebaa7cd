//! The terminal client end to end: the real `chat` binary against the real server, on
//! ephemeral loopback ports, with another participant played by the shared test client.

mod common;

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use common::chat::Chat;
use common::{Server, TempDir, PATIENCE};
use tlschat::wire::ServerMsg;

/// The next room message not sent by bob himself (he gets his own echo first).
fn from_alice(bob: &mut common::Client) -> tlschat::wire::ChatMessage {
    loop {
        let m = bob.recv_message();
        if m.sender_nickname != "bob" {
            return m;
        }
    }
}

#[test]
fn talks_with_another_client_and_quits_cleanly() {
    let server = Server::start(&[]);
    let mut alice = Chat::join(&server, "alice");
    let (mut bob, _) = server.join("bob");
    alice.expect("-- bob joined");

    bob.say("hello from bob");
    assert!(alice.expect("<bob> hello from bob").starts_with('['));

    alice.type_line("hi bob");
    let m = from_alice(&mut bob);
    assert_eq!(
        (m.sender_nickname.as_str(), m.message.as_str()),
        ("alice", "hi bob")
    );

    alice.type_line("/me waves");
    let m = from_alice(&mut bob);
    assert!(m.action && m.message == "waves");
    alice.expect("* alice waves");

    alice.type_line("/msg bob psst");
    match bob.recv_until("a private message", |m| matches!(m, ServerMsg::Private(_))) {
        ServerMsg::Private(p) => assert_eq!(
            (p.to_nickname.as_str(), p.message.as_str()),
            ("bob", "psst")
        ),
        _ => unreachable!(),
    }
    alice.expect("-> *bob* psst");
    bob.send(r#"{"type":"private","to":"alice","message":"back"}"#);
    alice.expect("*bob* back");

    alice.type_line("/frob");
    alice.expect("! Unknown command /frob");
    alice.type_line("/msg nobody there");
    alice.expect("! ");

    alice.type_line("/nick alicia");
    alice.expect("-- alice is now known as alicia");
    bob.recv_until("the rename", |m| matches!(m, ServerMsg::Rename { .. }));

    alice.type_line("/quit");
    let (status, stderr) = alice.finish();
    assert!(status.success(), "exit {status:?}, stderr {stderr}");
    match bob.recv_until("alicia leaving", |m| matches!(m, ServerMsg::Leave { .. })) {
        ServerMsg::Leave { nickname, .. } => assert_eq!(nickname, "alicia"),
        _ => unreachable!(),
    }
}

#[test]
fn end_of_input_sends_what_was_piped_then_quits() {
    let server = Server::start(&[]);
    let (mut bob, _) = server.join("bob");
    let mut script = Chat::start(&["--server", &server.addr(), "--nickname", "script"]);
    script.type_line("one");
    script.type_line("two");
    let (status, stderr) = script.finish();
    assert!(status.success(), "exit {status:?}, stderr {stderr}");
    assert_eq!(bob.recv_message().message, "one");
    assert_eq!(bob.recv_message().message, "two");
}

#[test]
fn json_mode_prints_protocol_lines() {
    let server = Server::start(&[]);
    let mut bot = Chat::start(&["--server", &server.addr(), "--nickname", "bot", "--json"]);
    let welcome = bot.expect(r#""type":"welcome""#);
    assert!(matches!(
        tlschat::wire::decode_server(welcome.as_bytes()),
        Ok(ServerMsg::Welcome(_))
    ));
    let (mut bob, _) = server.join("bob");
    // What a terminal would obey is escaped the JSON way: the same text to a parser.
    bob.say("for scripts \u{9b}2J \u{202e}");
    let line = bot.expect("for scripts");
    assert!(line.contains(r"for scripts \u009b2J \u202e"), "{line}");
    match tlschat::wire::decode_server(line.as_bytes()) {
        Ok(ServerMsg::Message(m)) => {
            assert_eq!(m.sender_nickname, "bob");
            assert_eq!(m.message, "for scripts \u{9b}2J \u{202e}");
        }
        other => panic!("not a message line: {other:?}"),
    }
    let (status, _) = bot.finish();
    assert!(status.success());
}

#[test]
fn closed_port_fails_with_a_sentence() {
    // A port that was just free: bind, note it, release it.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("ephemeral port")
        .port();
    let server = format!("127.0.0.1:{port}");
    let mut chat = Chat::start(&["--server", &server, "--nickname", "x"]);
    let (status, stderr) = chat.finish();
    assert!(!status.success());
    assert!(
        stderr.contains(&format!(
            "Could not connect to {server}: connection refused"
        )),
        "{stderr}"
    );
}

#[test]
fn taken_nickname_fails_with_the_reason() {
    let server = Server::start(&[]);
    let (_bob, _) = server.join("bob");
    let mut chat = Chat::start(&["--server", &server.addr(), "--nickname", "BOB"]);
    let (status, stderr) = chat.finish();
    assert!(!status.success());
    assert!(
        stderr.contains("refused the login") && stderr.contains("taken"),
        "{stderr}"
    );
}

/// Starts a server again on `addr` with the history in `data`, once the killed one's port is
/// free (the kernel may take a moment to release it).
fn restart(addr: &str, data: &TempDir) -> Server {
    let deadline = Instant::now() + PATIENCE;
    while TcpListener::bind(addr).is_err() {
        assert!(Instant::now() < deadline, "{addr} stayed busy");
        thread::sleep(Duration::from_millis(50));
    }
    Server::start_at(addr, &[], Some(data.path()))
}

/// How many printed lines contain `needle`.
fn count(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

#[test]
fn catches_up_after_a_server_crash_showing_each_message_once() {
    let data = TempDir::new("chat-crash");
    let mut server = Server::start(&["--data-dir", data.path()]);
    let addr = server.addr();
    let mut term = Chat::join(&server, "term");
    let (mut tester, _) = server.join("tester");
    tester.say("before");
    term.expect("<tester> before");

    // Frozen, `chat` cannot notice the crash until the room has moved on without it.
    term.signal("STOP");
    server.kill();
    let server = restart(&addr, &data);
    let (mut tester, _) = server.join("tester");
    tester.say("while you were away");
    tester.recv_message();
    term.signal("CONT");

    term.expect("! Lost the connection to");
    term.expect("! Reconnected");
    term.expect("<tester> while you were away");
    tester.say("after restart");
    term.expect("<tester> after restart");
    term.type_line("/quit");
    let (status, stderr) = term.finish();
    assert!(status.success(), "exit {status:?}, stderr {stderr}");
    let lines = term.everything();
    for text in ["before", "while you were away", "after restart"] {
        assert_eq!(count(&lines, &format!("<tester> {text}")), 1, "{lines:#?}");
    }
}

#[test]
fn waits_for_a_restarting_server_and_refuses_to_send_meanwhile() {
    let data = TempDir::new("chat-down");
    let mut server = Server::start(&["--data-dir", data.path()]);
    let addr = server.addr();
    let mut term = Chat::join(&server, "term");
    // A graceful stop: the server says goodbye (`shutting_down`) before closing.
    server.terminate();
    let status = term.expect("! Disconnected by");
    assert!(
        status.contains("reconnecting in") && status.contains("(attempt 1)"),
        "{status}"
    );
    term.type_line("anyone there?");
    term.expect("! Not connected: not sent: anyone there?");

    let server = restart(&addr, &data);
    term.expect("! Reconnected");
    let (mut tester, _) = server.join("tester");
    term.type_line("back again");
    let m = tester.recv_message();
    assert_eq!(
        (m.sender_nickname.as_str(), m.message.as_str()),
        ("term", "back again")
    );
    let (status, stderr) = term.finish();
    assert!(status.success(), "exit {status:?}, stderr {stderr}");
}

#[test]
fn no_reconnect_exits_when_the_connection_drops() {
    let mut server = Server::start(&[]);
    let mut term = Chat::start(&[
        "--server",
        &server.addr(),
        "--nickname",
        "term",
        "--no-reconnect",
    ]);
    term.expect("You are term on the server");
    server.kill();
    let (status, stderr) = term.exit();
    assert!(!status.success());
    assert!(stderr.contains("Lost the connection to"), "{stderr}");
}

#[test]
fn a_refused_comeback_fails_with_the_reason() {
    let data = TempDir::new("chat-refused");
    let mut server = Server::start(&["--data-dir", data.path()]);
    let addr = server.addr();
    let mut term = Chat::join(&server, "term");
    term.signal("STOP");
    server.kill();
    // The restarted server does not know the resume token, and someone else took the name.
    let server = restart(&addr, &data);
    let (_imposter, _) = server.join("term");
    term.signal("CONT");
    let (status, stderr) = term.exit();
    assert!(!status.success());
    assert!(
        stderr.contains("refused the login") && stderr.contains("taken"),
        "{stderr}"
    );
}

#[test]
fn hostile_text_is_shown_not_obeyed() {
    let server = Server::start(&[]);
    let mut alice = Chat::join(&server, "alice");
    let (mut bob, _) = server.join("bob");
    alice.expect("-- bob joined");
    // A forged line on a second line, a window title, a colour and a bidi override.
    bob.send(concat!(
        r#"{"type":"broadcast","message":"hi\n[21:59:00] <carol> my password is hunter2"#,
        r#" \u001b]0;PWNED\u0007\u001b[31mred\r\u009b2J \u202eevil"}"#
    ));
    alice.expect("<bob> hi");
    let continuation = alice.next_line();
    assert_eq!(
        continuation,
        "             [21:59:00] <carol> my password is hunter2 ^[]0;PWNED^G^[[31mred^M<U+009B>2J <U+202E>evil"
    );
    bob.say("and a normal one");
    let line = alice.expect("<bob> and a normal one");
    assert!(line.starts_with('['), "{line}");
    let (status, _) = alice.finish();
    assert!(status.success());
    for line in alice.everything() {
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{line:?}"
        );
    }
}

#[test]
fn lines_typed_faster_than_the_flood_limit_wait_and_all_arrive_in_order() {
    let server = Server::start(&["--rate", "4", "--burst", "3", "--no-address-limits"]);
    let mut alice = Chat::join(&server, "alice");
    let (mut bob, _) = server.join("bob");
    alice.expect("-- bob joined");
    for i in 0..8 {
        alice.type_line(&format!("line {i}"));
    }
    alice.expect("waiting: sent as fast as the server's flood limit allows");
    for i in 0..8 {
        assert_eq!(from_alice(&mut bob).message, format!("line {i}"));
    }
    let (status, stderr) = alice.finish();
    assert!(status.success(), "{stderr}");
    let printed = alice.everything();
    assert!(
        !printed.iter().any(|l| l.contains("Not delivered")),
        "{printed:#?}"
    );
}
