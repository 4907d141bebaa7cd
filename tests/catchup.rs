//! A catch-up costs the server what the peer reads, not what it asks for: the history is
//! streamed as the peer takes it, a peer that reads nothing holds nothing extra, and one that
//! reads slowly still gets all of it.

mod common;

use common::{Client, Server};
use serde_json::json;
use tlschat::wire::ServerMsg;

/// The server's resident memory, in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Fills the history with `count` messages of `size` characters, each acknowledged.
fn fill_history(server: &Server, count: usize, size: usize) {
    let (mut poster, _) = server.join("poster");
    let text = "h".repeat(size);
    for _ in 0..count {
        poster.say(&text);
        poster.recv_message();
    }
}

fn resume_from_start(client: &mut Client, nickname: &str) {
    client.send(
        &json!({"type": "resume", "token": "-", "last_seq": 0, "nickname": nickname}).to_string(),
    );
}

#[test]
fn ten_non_reading_resumers_cost_little_and_a_slow_reader_gets_everything() {
    let server = Server::start(&["--no-flood-control", "--history-keep", "2000"]);
    // 8 MB of history.
    fill_history(&server, 2000, 4000);
    let before = rss_kb(server.pid());
    let mut sleepers = Vec::new();
    for i in 0..10 {
        let mut client = Client::connect(server.port);
        resume_from_start(&mut client, &format!("sleeper{i}"));
        server.wait_for_log(&format!("joined as sleeper{i} "));
        sleepers.push(client);
    }
    let grown = rss_kb(server.pid()).saturating_sub(before);
    assert!(
        grown < 20_000,
        "ten catch-ups nobody reads grew the server by {grown} kB"
    );

    // Someone who does read, however slowly, gets all of it, in order.
    let mut reader = Client::connect(server.port);
    resume_from_start(&mut reader, "reader");
    let replay = match reader.recv() {
        ServerMsg::Welcome(w) => w.replay,
        other => panic!("expected welcome, got {other:?}"),
    };
    assert_eq!(replay, 2000);
    let mut last = 0;
    for _ in 0..replay {
        let m = reader.recv_message();
        assert!(m.seq > last, "in order");
        last = m.seq;
    }
    drop(sleepers);
}

#[test]
fn a_resumer_that_reads_nothing_is_dropped_as_too_slow_once_the_room_moves_on() {
    let server = Server::start(&["--no-flood-control", "--send-budget", "262144"]);
    fill_history(&server, 300, 4000);
    let mut sleeper = Client::connect(server.port);
    resume_from_start(&mut sleeper, "sleeper");
    server.wait_for_log("joined as sleeper ");
    // The live traffic after its catch-up is what it owes; past the budget it is cut off,
    // and the room is told.
    let (mut talker, _) = server.join("talker");
    let text = "t".repeat(4000);
    let leave = loop {
        talker.say(&text);
        match talker.recv_until("the echo or the sleeper's leave", |m| {
            matches!(m, ServerMsg::Message(_) | ServerMsg::Leave { .. })
        }) {
            ServerMsg::Leave {
                nickname, reason, ..
            } if nickname == "sleeper" => break reason,
            _ => {}
        }
    };
    assert_eq!(leave, "too slow");
    drop(sleeper);
}

/// Drops a connection the way a crashed network does: with a reset, so that whatever was
/// already written to it but not yet read is lost.
fn reset(client: Client) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid linger struct for a socket this test owns.
    let set = unsafe {
        libc::setsockopt(
            client.tls.get_ref().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::addr_of!(linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0, "SO_LINGER");
    drop(client);
}

#[test]
fn a_private_message_written_to_a_connection_that_then_died_comes_again_on_resume() {
    let server = Server::start(&[]);
    let (alice, wa) = server.join("alice");
    let (mut bob, _) = server.join("bob");
    // The server writes bob's message to alice's socket (bob's echo says so), but alice
    // never reads it: her connection is reset with it unread, as when a network drops.
    bob.send(&json!({"type": "private", "to": "alice", "message": "are you there?"}).to_string());
    bob.recv_until("the echo", |m| matches!(m, ServerMsg::Private(_)));
    reset(alice);
    server.wait_for_log("alice (#1) dropped");
    let mut again = Client::connect(server.port);
    again.send(
        &json!({"type": "resume", "token": wa.resume_token, "last_seq": 0, "nickname": "alice"})
            .to_string(),
    );
    let got = again.recv_until("the private message", |m| {
        matches!(m, ServerMsg::Private(_))
    });
    match got {
        ServerMsg::Private(p) => assert_eq!(p.message, "are you there?"),
        _ => unreachable!(),
    }
}
