//! Nothing said while a user was away is lost: resume tokens, replay after `last_seq`, ghost
//! nicknames, and history that survives `kill -9`.

mod common;

use std::time::{Duration, Instant};

use common::{assert_last_bye, Client, Server, TempDir};
use tlschat::wire::{ByeCode, ServerMsg, Welcome};

fn resume(client: &mut Client, welcome: &Welcome, last_seq: Option<u64>) -> Welcome {
    let mut msg = serde_json::json!({
        "type": "resume",
        "token": welcome.resume_token,
        "nickname": welcome.nickname,
    });
    if let Some(seq) = last_seq {
        msg["last_seq"] = seq.into();
    }
    client.send(&msg.to_string());
    match client.recv() {
        ServerMsg::Welcome(w) => w,
        other => panic!("expected welcome, got {other:?}"),
    }
}

#[test]
fn a_dropped_user_comes_back_without_churn_and_catches_up() {
    let server = Server::start(&[]);
    let (mut bob, _) = server.join("bob");
    let (alice, wa) = server.join("alice");
    bob.recv_until("alice joins", |m| matches!(m, ServerMsg::Join { .. }));
    bob.say("before");
    let before = bob.recv_message();
    drop(alice); // the network goes away, no quit
                 // Everything below is said after the server has made alice a ghost.
    server.wait_for_log(&format!("alice (#{}) dropped", wa.id));
    bob.say("while away 1");
    bob.send(r#"{"type":"private","to":"alice","message":"psst, while away"}"#);
    bob.say("while away 2");
    // Wait for the echoes, so all three happened before alice returns.
    bob.recv_until(
        "echo",
        |m| matches!(m, ServerMsg::Message(m) if m.message == "while away 2"),
    );
    let mut alice = Client::connect(server.port);
    let back = resume(&mut alice, &wa, Some(before.seq));
    assert!(back.resumed);
    assert_eq!((back.id, back.nickname.as_str()), (wa.id, "alice"));
    assert_eq!(back.replay, 2);
    assert_eq!(back.missed, None);
    assert_eq!(alice.recv_message().message, "while away 1");
    assert_eq!(alice.recv_message().message, "while away 2");
    match alice.recv() {
        ServerMsg::Private(p) => assert_eq!(p.message, "psst, while away"),
        other => panic!("expected the private message kept for alice, got {other:?}"),
    }
    // Bob saw no leave and no join for alice: his next event is alice's next message.
    alice.say("I'm back");
    let seen = bob.recv_until("alice's message", |m| {
        matches!(m, ServerMsg::Message(m) if m.sender_nickname == "alice")
            || matches!(m, ServerMsg::Leave { .. } | ServerMsg::Join { .. })
    });
    assert!(
        matches!(seen, ServerMsg::Message(ref m) if m.message == "I'm back"),
        "{seen:?}"
    );
}

#[test]
fn a_ghost_that_does_not_return_leaves_after_the_grace_period() {
    let server = Server::start(&["--resume-grace", "0.5"]);
    let (mut bob, _) = server.join("bob");
    let (alice, _) = server.join("alice");
    bob.recv_until("alice joins", |m| matches!(m, ServerMsg::Join { .. }));
    let dropped_at = Instant::now();
    drop(alice);
    match bob.recv_until("alice leaving", |m| matches!(m, ServerMsg::Leave { .. })) {
        ServerMsg::Leave {
            nickname, reason, ..
        } => {
            assert_eq!(
                (nickname.as_str(), reason.as_str()),
                ("alice", "connection lost")
            );
        }
        _ => unreachable!(),
    }
    // A lower bound only, which load cannot break: the leave waited for the grace period.
    assert!(dropped_at.elapsed() >= Duration::from_millis(400));
    // Meanwhile the nickname was reserved; now it is free.
    let (_alice2, w) = server.join("alice");
    assert!(!w.resumed);
}

#[test]
fn the_nickname_of_a_ghost_is_reserved_and_an_old_connection_is_replaced() {
    let server = Server::start(&[]);
    let (alice, wa) = server.join("alice");
    drop(alice);
    server.wait_for_log(&format!("alice (#{}) dropped", wa.id));
    let mut impostor = Client::connect(server.port);
    impostor.send(r#"{"type":"login","nickname":"alice"}"#);
    let (code, message) = impostor.recv_error();
    assert_eq!(code, tlschat::wire::ErrorCode::NicknameTaken);
    assert!(message.contains("reconnecting"), "{message}");

    let mut first = Client::connect(server.port);
    let w1 = resume(&mut first, &wa, None);
    assert!(w1.resumed);
    // Coming back while the old connection still looks alive replaces it.
    let mut second = Client::connect(server.port);
    let w2 = resume(&mut second, &wa, None);
    assert_eq!(w2.id, wa.id);
    let rest = first.recv_all_until_close();
    assert_last_bye(&rest, ByeCode::Replaced);
    second.say("still alice");
    assert_eq!(second.recv_message().sender_id, wa.id);
}

#[test]
fn history_survives_kill_9_and_seq_continues() {
    let data = TempDir::new("restart");
    let mut server = Server::start(&["--data-dir", data.path()]);
    let (mut alice, wa) = server.join("alice");
    let mut last = 0;
    for i in 0..5 {
        alice.say(&format!("before crash {i}"));
        last = alice.recv_message().seq;
    }
    alice.send(r#"{"type":"private","to":"alice","message":"note to self"}"#);
    let private_seq = match alice.recv() {
        ServerMsg::Private(p) => p.seq,
        other => panic!("{other:?}"),
    };
    // Alice is saved as in the room (the server does so a few times a second).
    common::wait_until("alice is saved", || {
        std::fs::read_to_string(data.0.join("state.json")).is_ok_and(|s| s.contains("alice"))
    });
    server.kill();
    let server = Server::start(&["--data-dir", data.path()]);
    server.wait_for_log("last seq");
    let (mut bob, wb) = server.join("bob");
    let texts: Vec<_> = wb.history.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(texts.len(), 5);
    assert_eq!(texts[4], "before crash 4");
    bob.say("after restart");
    let after = bob.recv_message();
    assert!(
        after.seq > private_seq && private_seq > last,
        "seq went backwards"
    );
    // Alice came back as a ghost: her token still works, and her place in the history too.
    let mut alice = Client::connect(server.port);
    let back = resume(&mut alice, &wa, Some(last));
    assert!(back.resumed);
    assert_eq!(back.id, wa.id);
    assert_eq!(back.replay, 1);
    assert_eq!(alice.recv_message().message, "after restart");
}

#[test]
fn a_client_too_far_behind_is_told_what_is_gone() {
    let server = Server::start(&[
        "--history-keep",
        "3",
        "--history",
        "3",
        "--no-flood-control",
    ]);
    let (mut alice, wa) = server.join("alice");
    let first = {
        alice.say("m0");
        alice.recv_message().seq
    };
    for i in 1..6 {
        alice.say(&format!("m{i}"));
        alice.recv_message();
    }
    let mut again = Client::connect(server.port);
    let w = resume(&mut again, &wa, Some(first));
    let missed = w.missed.expect("a missed range");
    assert_eq!(missed.from, first + 1);
    assert_eq!(w.replay, 3);
    assert_eq!(again.recv_message().seq, missed.to + 1);
}
