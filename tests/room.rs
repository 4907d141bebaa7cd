//! The room over real TLS: login, broadcast, notices, nicknames, private messages, history.

mod common;

use common::{Client, Server};
use tlschat::wire::{ErrorCode, ServerMsg};

#[test]
fn login_gets_welcome_with_users_and_identity() {
    let server = Server::start(&[]);
    let (_alice, welcome) = server.join("alice");
    assert_eq!(welcome.nickname, "alice");
    assert_eq!(welcome.protocol, tlschat::wire::PROTOCOL_VERSION);
    assert_eq!(welcome.users.len(), 1);
    let (_bob, welcome_bob) = server.join("bob");
    let names: Vec<_> = welcome_bob
        .users
        .iter()
        .map(|u| u.nickname.as_str())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_ne!(welcome.id, welcome_bob.id);
}

#[test]
fn broadcast_reaches_everyone_with_the_servers_identity() {
    let server = Server::start(&[]);
    let (mut alice, wa) = server.join("alice");
    let (mut bob, _) = server.join("bob");
    // A forged sender is ignored: identity comes from the connection.
    alice
        .send(r#"{"type":"broadcast","message":"hi all","sender_id":999,"sender_nickname":"bob"}"#);
    for client in [&mut alice, &mut bob] {
        let m = client.recv_message();
        assert_eq!((m.sender_id, m.sender_nickname.as_str()), (wa.id, "alice"));
        assert_eq!(m.message, "hi all");
        assert!(
            tlschat::wire::time::parse_rfc3339(&m.time).is_some(),
            "{}",
            m.time
        );
    }
    bob.say("  second  ");
    let first = alice.recv_message();
    assert_eq!(first.message, "second", "text is trimmed");
    alice.say("third");
    let third = alice.recv_message();
    assert!(third.seq > first.seq, "seq grows");
}

#[test]
fn join_leave_and_rename_notices() {
    // No grace period: a dropped connection leaves at once (tests/durability.rs covers ghosts).
    let server = Server::start(&["--resume-grace", "0"]);
    let (mut observer, _) = server.join("observer");
    let (mut alice, _) = server.join("alice");
    let (mut bob, wb) = server.join("bob");
    match alice.recv() {
        ServerMsg::Join { id, nickname, .. } => assert_eq!((id, nickname.as_str()), (wb.id, "bob")),
        other => panic!("expected join, got {other:?}"),
    }
    bob.send(r#"{"type":"login","nickname":"robert"}"#);
    for client in [&mut alice, &mut bob] {
        match client.recv() {
            ServerMsg::Rename {
                id,
                old_nickname,
                new_nickname,
                ..
            } => {
                assert_eq!(
                    (id, old_nickname.as_str(), new_nickname.as_str()),
                    (wb.id, "bob", "robert")
                )
            }
            other => panic!("expected rename, got {other:?}"),
        }
    }
    bob.say("now robert");
    assert_eq!(alice.recv_message().sender_nickname, "robert");
    bob.send(r#"{"type":"quit"}"#);
    let last = bob.recv_all_until_close();
    assert!(
        matches!(
            last.last(),
            Some(ServerMsg::Bye {
                code: tlschat::wire::ByeCode::Quit,
                ..
            })
        ),
        "{last:?}"
    );
    match alice.recv_until("leave", |m| matches!(m, ServerMsg::Leave { .. })) {
        ServerMsg::Leave {
            nickname, reason, ..
        } => {
            assert_eq!(nickname, "robert");
            assert_eq!(reason, "quit");
        }
        _ => unreachable!(),
    }
    // A dropped connection (no quit) is noticed too, and the nickname becomes free.
    drop(alice);
    match observer.recv_until(
        "alice leaving",
        |m| matches!(m, ServerMsg::Leave { nickname, .. } if nickname == "alice"),
    ) {
        ServerMsg::Leave { reason, .. } => assert_eq!(reason, "connection closed"),
        _ => unreachable!(),
    }
    let (_alice2, _) = server.join("alice");
}

#[test]
fn nicknames_follow_the_rules_and_are_unique_ignoring_case() {
    let server = Server::start(&[]);
    let (mut alice, _) = server.join("alice");
    let bad = ["", " alice", "alice ", "tab\there", &"x".repeat(33)];
    for nick in bad {
        let mut c = Client::connect(server.port);
        c.send(&serde_json::json!({"type":"login","nickname": nick}).to_string());
        assert_eq!(c.recv_error().0, ErrorCode::NicknameInvalid, "{nick:?}");
        let rest = c.recv_all_until_close();
        assert!(matches!(
            rest.last(),
            Some(ServerMsg::Bye {
                code: tlschat::wire::ByeCode::Refused,
                ..
            })
        ));
    }
    let mut c = Client::connect(server.port);
    c.send(r#"{"type":"login","nickname":"ALICE"}"#);
    let (code, message) = c.recv_error();
    assert_eq!(code, ErrorCode::NicknameTaken);
    assert!(message.contains("ALICE"), "{message}");
    // 32 characters, not bytes.
    let (_long, w) = server.join(&"é".repeat(32));
    assert_eq!(w.nickname.chars().count(), 32);
    // Renaming to a taken name keeps the connection and the old name.
    let (mut bob, _) = server.join("bob");
    bob.send(r#"{"type":"login","nickname":"Alice"}"#);
    assert_eq!(bob.recv_error().0, ErrorCode::NicknameTaken);
    // Changing only the case of one's own name is allowed.
    alice.send(r#"{"type":"login","nickname":"Alice"}"#);
    alice.recv_until(
        "rename",
        |m| matches!(m, ServerMsg::Rename { new_nickname, .. } if new_nickname == "Alice"),
    );
    bob.say("still bob");
    assert_eq!(bob.recv_message().sender_nickname, "bob");
}

#[test]
fn private_messages_reach_only_the_recipient_and_echo_to_sender() {
    let server = Server::start(&[]);
    let (mut alice, wa) = server.join("alice");
    let (mut bob, wb) = server.join("bob");
    let (mut carol, _) = server.join("carol");
    alice.send(r#"{"type":"private","to":"BOB","message":"psst"}"#);
    for client in [&mut bob, &mut alice] {
        match client.recv_until("private", |m| matches!(m, ServerMsg::Private(_))) {
            ServerMsg::Private(p) => {
                assert_eq!((p.sender_id, p.to_id), (wa.id, wb.id));
                assert_eq!(
                    (p.to_nickname.as_str(), p.message.as_str()),
                    ("bob", "psst")
                );
            }
            _ => unreachable!(),
        }
    }
    // Carol sees the next public message but never the private one.
    alice.say("public");
    let seen = carol.recv_until("message", |m| {
        matches!(m, ServerMsg::Message(_) | ServerMsg::Private(_))
    });
    assert!(
        matches!(seen, ServerMsg::Message(ref m) if m.message == "public"),
        "{seen:?}"
    );
    alice.send(r#"{"type":"private","to":"dave","message":"hello?"}"#);
    let (code, message) = alice.recv_error();
    assert_eq!(code, ErrorCode::NoSuchUser);
    assert!(message.contains("dave"));
}

#[test]
fn welcome_carries_recent_history_oldest_first() {
    let server = Server::start(&["--history", "3"]);
    let (mut alice, _) = server.join("alice");
    for i in 1..=5 {
        alice.say(&format!("m{i}"));
        alice.recv_message();
    }
    let (_bob, welcome) = server.join("bob");
    let texts: Vec<_> = welcome.history.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(texts, ["m3", "m4", "m5"]);
    assert!(welcome.history.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[test]
fn ping_pong_and_requests_before_login() {
    let server = Server::start(&[]);
    let mut c = Client::connect(server.port);
    c.send(r#"{"type":"ping"}"#);
    assert_eq!(c.recv(), ServerMsg::Pong);
    c.say("too early");
    assert_eq!(c.recv_error().0, ErrorCode::NotLoggedIn);
    c.login("late");
    c.send(r#"{"type":"ping"}"#);
    assert_eq!(c.recv(), ServerMsg::Pong);
}

#[test]
fn message_text_limits() {
    let server = Server::start(&[]);
    let (mut alice, _) = server.join("alice");
    alice.say("   ");
    assert_eq!(alice.recv_error().0, ErrorCode::MessageEmpty);
    alice.say(&"z".repeat(4001));
    assert_eq!(alice.recv_error().0, ErrorCode::MessageTooLong);
    let longest = "ü".repeat(4000);
    alice.say(&longest);
    assert_eq!(alice.recv_message().message, longest);
}

#[test]
fn a_message_sent_right_before_quit_is_echoed_before_bye() {
    let server = Server::start(&[]);
    let (mut alice, _) = server.join("alice");
    alice.send_raw(b"{\"type\":\"broadcast\",\"message\":\"bye all\"}\n{\"type\":\"quit\"}\n");
    let rest = alice.recv_all_until_close();
    assert!(
        matches!(rest.as_slice(), [ServerMsg::Message(m), ServerMsg::Bye { .. }] if m.message == "bye all"),
        "{rest:?}"
    );
}
