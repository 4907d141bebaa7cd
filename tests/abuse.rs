//! Bad input and bad peers: each gets a clear answer and costs the others nothing.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use common::{assert_first_error, assert_last_bye, Client, Server, PATIENCE};
use tlschat::wire::{ByeCode, ErrorCode, ServerMsg};

#[test]
fn a_line_split_byte_by_byte_and_many_lines_in_one_write() {
    let server = Server::start(&["--no-flood-control"]);
    let (mut alice, _) = server.join("alice");
    for b in b"{\"type\":\"broadcast\",\"message\":\"slowly\"}\n" {
        alice.send_raw(&[*b]);
    }
    assert_eq!(alice.recv_message().message, "slowly");
    let burst: String = (0..50)
        .map(|i| format!("{{\"type\":\"broadcast\",\"message\":\"n{i}\"}}\n"))
        .collect();
    alice.send_raw(burst.as_bytes());
    for i in 0..50 {
        assert_eq!(alice.recv_message().message, format!("n{i}"));
    }
}

#[test]
fn an_over_long_line_is_refused_and_closes_only_that_connection() {
    let server = Server::start(&[]);
    let (mut alice, _) = server.join("alice");
    let (mut bob, _) = server.join("bob");
    let exactly = format!(
        "{{\"type\":\"broadcast\",\"message\":\"{}\"}}",
        "a".repeat(3900)
    );
    alice.send(&exactly);
    alice.recv_message();
    let mut long = vec![b'x'; tlschat::wire::MAX_LINE + 1];
    long.push(b'\n');
    alice.send_raw(&long);
    let rest = alice.recv_all_until_close();
    assert_first_error(&rest, ErrorCode::LineTooLong);
    assert!(matches!(
        rest.last(),
        Some(ServerMsg::Bye {
            code: ByeCode::ProtocolError,
            ..
        })
    ));
    bob.say("still here");
    bob.recv_until(
        "bob's message",
        |m| matches!(m, ServerMsg::Message(m) if m.message == "still here"),
    );
}

#[test]
fn malformed_lines_get_error_codes_and_the_connection_stays() {
    let server = Server::start(&[]);
    let (mut alice, _) = server.join("alice");
    let cases: [(&[u8], ErrorCode); 6] = [
        (b"this is not json\n", ErrorCode::BadJson),
        (b"[\"an\",\"array\"]\n", ErrorCode::BadJson),
        (b"{\"message\":\"no type\"}\n", ErrorCode::BadMessage),
        (b"{\"type\":\"dance\"}\n", ErrorCode::UnknownType),
        (
            b"{\"type\":\"broadcast\",\"message\":42}\n",
            ErrorCode::BadMessage,
        ),
        (
            b"{\"type\":\"broadcast\",\"message\":\"\xff\xfe\"}\n",
            ErrorCode::InvalidUtf8,
        ),
    ];
    for (line, code) in cases {
        alice.send_raw(line);
        assert_eq!(
            alice.recv_error().0,
            code,
            "{}",
            String::from_utf8_lossy(line)
        );
    }
    alice.say("fine");
    assert_eq!(alice.recv_message().message, "fine");
}

#[test]
fn a_plaintext_client_gets_a_hint_and_is_logged() {
    let server = Server::start(&[]);
    let mut plain = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    plain.set_read_timeout(Some(PATIENCE)).unwrap();
    plain
        .write_all(b"{\"type\":\"login\",\"nickname\":\"plain\"}\n")
        .unwrap();
    let mut answer = String::new();
    plain.read_to_string(&mut answer).unwrap();
    let msg = tlschat::wire::decode_server(answer.trim_end().as_bytes()).unwrap();
    assert!(
        matches!(
            msg,
            ServerMsg::Error {
                code: ErrorCode::TlsRequired,
                ..
            }
        ),
        "{answer}"
    );
    server.wait_for_log("plaintext client");
    let (mut alice, _) = server.join("alice");
    alice.say("unaffected");
    alice.recv_message();
}

#[test]
fn a_stalled_handshake_does_not_delay_other_logins() {
    let server = Server::start(&["--handshake-timeout", "5"]);
    // Connects and sends half a TLS record header, then nothing.
    let mut stalled = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stalled.write_all(&[0x16, 0x03]).unwrap();
    let silent = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let (mut alice, _) = server.join("alice");
    alice.say("fast");
    alice.recv_message();
    // Served while the stalled peers were still waiting for their deadline, not after it.
    let log = server.log();
    assert!(
        !log.iter().any(|l| l.contains("handshake timed out")),
        "a login waited for a stalled peer: {log:#?}"
    );
    // The stalled connections are dropped at the deadline.
    stalled.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = [0u8; 64];
    assert!(matches!(stalled.read(&mut buf), Ok(0) | Err(_)));
    drop(silent);
    server.wait_for_log("handshake");
}

#[test]
fn a_client_that_stops_reading_is_dropped_while_others_get_everything() {
    let server = Server::start(&["--no-flood-control", "--send-budget", "262144"]);
    let (mut reader, _) = server.join("reader");
    let (sleeper, _) = server.join("sleeper");
    let (mut talker, _) = server.join("talker");
    reader.recv_until("talker join", |m| matches!(m, ServerMsg::Join { .. }));
    const COUNT: usize = 4000;
    let text = "x".repeat(3900);
    let (progress_tx, progress_rx) = std::sync::mpsc::channel();
    let reader_thread = thread::spawn(move || {
        let mut seqs = Vec::new();
        let mut saw_leave = false;
        while seqs.len() < COUNT {
            match reader.recv() {
                ServerMsg::Message(m) => {
                    seqs.push(m.seq);
                    let _ = progress_tx.send(seqs.len());
                }
                ServerMsg::Leave {
                    nickname, reason, ..
                } if nickname == "sleeper" => {
                    assert_eq!(reason, "too slow");
                    saw_leave = true;
                }
                _ => {}
            }
        }
        (seqs, saw_leave)
    });
    // ~16 MB in all: far beyond the sleeper's budget plus its socket buffers. The talker
    // reads its own echoes and stays within 20 messages of the reader, so only the sleeper,
    // who reads nothing, falls behind.
    let writer = thread::spawn(move || {
        let mut read_by_reader = 0;
        for batch in 0..COUNT / 10 {
            for _ in 0..10 {
                talker.say(&text);
            }
            for _ in 0..10 {
                talker.recv_message();
            }
            while read_by_reader + 20 < (batch + 1) * 10 {
                match progress_rx.recv_timeout(PATIENCE) {
                    Ok(n) => read_by_reader = n,
                    Err(_) => return talker,
                }
            }
        }
        talker
    });
    let (seqs, saw_leave) = reader_thread
        .join()
        .unwrap_or_else(|_| panic!("reader failed; server log: {:#?}", server.log()));
    assert!(saw_leave, "the room was not told the sleeper left");
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicates"
    );
    server.wait_for_log("too slow");
    drop(writer.join().unwrap());
    drop(sleeper);
}

#[test]
fn flood_control_answers_rate_limited_with_retry_after() {
    let server = Server::start(&["--rate", "2", "--burst", "3"]);
    let (mut alice, _) = server.join("alice");
    for i in 0..4 {
        alice.say(&format!("m{i}"));
    }
    for i in 0..3 {
        assert_eq!(alice.recv_message().message, format!("m{i}"));
    }
    match alice.recv() {
        ServerMsg::Error {
            code,
            retry_after_ms,
            message,
        } => {
            assert_eq!(code, ErrorCode::RateLimited);
            let ms = retry_after_ms.expect("retry_after_ms");
            assert!((1..=500).contains(&ms), "{ms}");
            assert!(message.contains("not sent"), "{message}");
            thread::sleep(Duration::from_millis(ms + 10));
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    alice.say("after waiting");
    assert_eq!(alice.recv_message().message, "after waiting");
}

#[test]
fn a_flooder_of_rejected_lines_is_disconnected() {
    let server = Server::start(&[]);
    let (mut flooder, _) = server.join("flooder");
    let (mut bob, _) = server.join("bob");
    let junk = "nope\n".repeat(60);
    flooder.send_raw(junk.as_bytes());
    let rest = flooder.recv_all_until_close();
    assert!(
        matches!(
            rest.last(),
            Some(ServerMsg::Bye {
                code: ByeCode::Flooding,
                ..
            })
        ),
        "{:?}",
        rest.last()
    );
    bob.say("calm");
    assert_eq!(bob.recv_message().message, "calm");
}

#[test]
fn a_password_makes_the_room_private() {
    let dir = std::env::temp_dir().join(format!("tlschat-pw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("password");
    std::fs::write(&file, "open sesame\n").unwrap();
    let server = Server::start(&["--password-file", file.to_str().unwrap()]);
    for attempt in [
        r#"{"type":"login","nickname":"eve"}"#,
        r#"{"type":"login","nickname":"eve","password":"open"}"#,
    ] {
        let mut eve = Client::connect(server.port);
        eve.send(attempt);
        assert_eq!(eve.recv_error().0, ErrorCode::AuthFailed);
        let rest = eve.recv_all_until_close();
        assert!(matches!(
            rest.last(),
            Some(ServerMsg::Bye {
                code: ByeCode::Refused,
                ..
            })
        ));
    }
    let mut alice = Client::connect(server.port);
    alice.send(r#"{"type":"login","nickname":"alice","password":"open sesame"}"#);
    assert!(matches!(alice.recv(), ServerMsg::Welcome(_)));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_full_room_says_so() {
    let server = Server::start(&["--max-users", "2"]);
    let (_a, _) = server.join("a");
    let (_b, _) = server.join("b");
    let mut c = Client::connect(server.port);
    c.send(r#"{"type":"login","nickname":"c"}"#);
    let (code, message) = c.recv_error();
    assert_eq!(code, ErrorCode::ServerFull);
    assert!(message.contains('2'), "{message}");
}

#[test]
fn login_and_idle_deadlines() {
    let server = Server::start(&["--login-timeout", "0.5", "--idle-timeout", "1"]);
    let mut lurker = Client::connect(server.port);
    let rest = lurker.recv_all_until_close();
    assert_last_bye(&rest, ByeCode::LoginTimeout);
    let (mut quiet, _) = server.join("quiet");
    // Pinged at half the idle timeout; not answering gets a bye at the full timeout.
    assert_eq!(quiet.recv(), ServerMsg::Ping);
    let rest = quiet.recv_all_until_close();
    assert_last_bye(&rest, ByeCode::Idle);
    // Answering keeps the connection.
    let (mut lively, _) = server.join("lively");
    for _ in 0..3 {
        assert_eq!(lively.recv(), ServerMsg::Ping);
        lively.send(r#"{"type":"pong"}"#);
    }
    lively.say("still here");
    assert_eq!(lively.recv_message().message, "still here");
}

#[test]
fn sigterm_says_bye_to_everyone_and_exits_zero() {
    let mut server = Server::start(&[]);
    let (mut alice, _) = server.join("alice");
    let (mut bob, _) = server.join("bob");
    // Connected but not logged in yet: told too.
    let mut lurker = Client::connect(server.port);
    lurker.send(r#"{"type":"ping"}"#);
    assert_eq!(lurker.recv(), ServerMsg::Pong);
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    for client in [&mut alice, &mut bob, &mut lurker] {
        let rest = client.recv_all_until_close();
        assert!(
            matches!(
                rest.last(),
                Some(ServerMsg::Bye {
                    code: ByeCode::ShuttingDown,
                    ..
                })
            ),
            "{rest:?}"
        );
    }
}
