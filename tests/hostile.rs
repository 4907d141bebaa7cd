//! Hostile clients: look-alike and invisible nicknames, malformed requests, a full room.

mod common;

use common::{assert_first_error, assert_last_bye, Client, Server};
use tlschat::wire::{ByeCode, ErrorCode, ServerMsg};

#[test]
fn look_alike_invisible_and_command_like_nicknames_are_refused() {
    let server = Server::start(&[]);
    let (mut alice, _) = server.join("alice");
    let (ghost, _) = server.join("carol");
    drop(ghost); // carol's place is kept for her while she reconnects
    let cases = [
        ("\u{430}lice", ErrorCode::NicknameTaken),
        ("alic\u{435}", ErrorCode::NicknameTaken),
        ("ALICE", ErrorCode::NicknameTaken),
        ("c\u{430}rol", ErrorCode::NicknameTaken),
        ("ali\u{200b}ce", ErrorCode::NicknameInvalid),
        ("alice\u{feff}", ErrorCode::NicknameInvalid),
        ("\u{202e}ecila", ErrorCode::NicknameInvalid),
        ("\u{200b}", ErrorCode::NicknameInvalid),
        ("\u{3164}", ErrorCode::NicknameInvalid),
        ("\u{2800}", ErrorCode::NicknameInvalid),
        ("a\u{2028}b", ErrorCode::NicknameInvalid),
        ("*** alice has left the room", ErrorCode::NicknameInvalid),
        ("bob smith", ErrorCode::NicknameInvalid),
        ("/msg", ErrorCode::NicknameInvalid),
    ];
    for (nickname, expected) in cases {
        let mut c = Client::connect(server.port);
        c.send(&serde_json::json!({"type": "login", "nickname": nickname}).to_string());
        let rest = c.recv_all_until_close();
        assert!(
            matches!(rest.first(), Some(ServerMsg::Error { code, .. }) if *code == expected),
            "{nickname:?}: {rest:?}"
        );
        assert!(
            matches!(
                rest.last(),
                Some(ServerMsg::Bye {
                    code: ByeCode::Refused,
                    ..
                })
            ),
            "{nickname:?}: {rest:?}"
        );
    }
    // Renaming into a look-alike is refused the same way, and says why.
    let (mut bob, _) = server.join("bob");
    bob.send(r#"{"type":"login","nickname":"alic\u0435"}"#);
    let (code, message) = bob.recv_error();
    assert_eq!(code, ErrorCode::NicknameTaken);
    assert!(message.contains("looks too much like 'alice'"), "{message}");
    // A private message finds its recipient by the same rule.
    bob.send(r#"{"type":"private","to":"\u0430lice","message":"hi"}"#);
    match alice.recv_until("bob's private message", |m| {
        matches!(m, ServerMsg::Private(_))
    }) {
        ServerMsg::Private(p) => assert_eq!(p.to_nickname, "alice"),
        _ => unreachable!(),
    }
    // A decomposed spelling is stored composed.
    let (_zoe, w) = server.join("Zoe\u{308}");
    assert_eq!(w.nickname, "Zo\u{eb}");
    alice.say("still here");
    assert_eq!(alice.recv_message().message, "still here");
}

#[test]
fn a_malformed_resume_is_a_bad_message() {
    let server = Server::start(&[]);
    let mut c = Client::connect(server.port);
    c.send(r#"{"type":"resume","token":42}"#);
    let (code, message) = c.recv_error();
    assert_eq!(code, ErrorCode::BadMessage, "{message}");
    c.send(r#"{"type":"resume","nickname":"x"}"#);
    assert_eq!(c.recv_error().0, ErrorCode::BadMessage);
}

#[test]
fn a_first_login_to_a_full_room_is_told_why() {
    let server = Server::start(&["--max-users", "1"]);
    let (_alice, _) = server.join("alice");
    let mut bob = Client::connect(server.port);
    bob.send(r#"{"type":"login","nickname":"bob"}"#);
    let rest = bob.recv_all_until_close();
    assert_first_error(&rest, ErrorCode::ServerFull);
    assert_last_bye(&rest, ByeCode::Refused);
}

#[test]
fn a_refused_login_with_more_input_behind_it_is_still_told_why() {
    let server = Server::start(&["--max-users", "1"]);
    let (_alice, _) = server.join("alice");
    let mut bob = Client::connect(server.port);
    let mut lines = String::from("{\"type\":\"login\",\"nickname\":\"bob\"}\n");
    for i in 0..3000 {
        lines.push_str(&format!(
            "{{\"type\":\"broadcast\",\"message\":\"{i} padding padding\"}}\n"
        ));
    }
    // The server may close before it has read all of this; the write may then fail.
    let _ = std::io::Write::write_all(&mut bob.tls, lines.as_bytes());
    let rest = bob.recv_all_until_close();
    assert_first_error(&rest, ErrorCode::ServerFull);
}
