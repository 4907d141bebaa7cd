//! Faults on the server's side: a full disk, damaged history lines, compaction, a second
//! server on the same data, and who is who after a crash or a restart.

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{wait_until, Client, Server, TempDir, PATIENCE};
use tlschat::wire::{ErrorCode, ServerMsg, Welcome};

fn resume(client: &mut Client, welcome: &Welcome) -> Welcome {
    client.send(
        &serde_json::json!({
            "type": "resume",
            "token": welcome.resume_token,
            "nickname": welcome.nickname,
        })
        .to_string(),
    );
    match client.recv() {
        ServerMsg::Welcome(w) => w,
        other => panic!("expected welcome, got {other:?}"),
    }
}

fn history_lines(dir: &Path) -> Vec<String> {
    let text = std::fs::read(dir.join("history.jsonl")).expect("read the history file");
    String::from_utf8(text)
        .expect("a UTF-8 history file")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Sets the server's file-size limit, as a full disk would stop its writes.
fn limit_file_size(pid: u32, bytes: libc::rlim_t) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit on our own child with a valid struct; nothing else is touched.
    let rc = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

#[test]
fn a_full_disk_refuses_messages_whole_and_the_server_restarts_with_every_one() {
    let data = TempDir::new("full-disk");
    let mut server = Server::start_with(
        "127.0.0.1:0",
        &["--no-flood-control"],
        Some(data.path()),
        |c| {
            // SAFETY: between fork and exec only async-signal-safe calls: setrlimit, signal.
            unsafe {
                c.pre_exec(|| {
                    let limit = libc::rlimit {
                        rlim_cur: 20_000,
                        rlim_max: libc::RLIM_INFINITY,
                    };
                    libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
                    // A write past the limit then fails with EFBIG, as ENOSPC would, instead of
                    // killing the process.
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    Ok(())
                });
            }
        },
    );
    let (mut alice, _) = server.join("alice");
    let text = |i: usize| format!("{i:04} {}", "x".repeat(995));
    let mut delivered = Vec::new();
    let mut i = 0;
    let refusal = loop {
        assert!(i < 100, "the file-size limit never stopped a write");
        alice.say(&text(i));
        match alice.recv() {
            ServerMsg::Message(m) => delivered.push(m.message),
            ServerMsg::Error { code, message, .. } => break (code, message),
            other => panic!("{other:?}"),
        }
        i += 1;
    };
    assert_eq!(refusal.0, ErrorCode::ServerError, "{}", refusal.1);
    assert!(refusal.1.contains("not sent"), "{}", refusal.1);
    // The room's trouble is not the sender's: sixty refusals are no flooding.
    for j in 0..60 {
        alice.say(&text(1000 + j));
        assert_eq!(alice.recv_error().0, ErrorCode::ServerError);
    }
    // The file holds whole lines only, even after the write that was cut short.
    assert!(history_lines(&data.0)
        .iter()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    // Space is back: appends go on.
    limit_file_size(server.pid(), libc::RLIM_INFINITY);
    for j in 0..3 {
        alice.say(&text(2000 + j));
        delivered.push(alice.recv_message().message);
    }
    server.kill();
    let server = Server::start(&["--data-dir", data.path()]);
    let (_bob, w) = server.join("bob");
    let replayed: Vec<String> = w.history.into_iter().map(|m| m.message).collect();
    assert_eq!(replayed, delivered);
    assert!(!data.0.join("history.jsonl.damaged").exists());
}

#[test]
fn damaged_and_invalid_utf8_history_lines_do_not_stop_the_server() {
    let data = TempDir::new("damaged");
    let line = |seq: u64, text: &[u8]| {
        let mut l = format!(
            "{{\"type\":\"message\",\"seq\":{seq},\"time\":\"2026-01-01T00:00:00Z\",\"sender_id\":1,\"sender_nickname\":\"old\",\"message\":\""
        )
        .into_bytes();
        l.extend_from_slice(text);
        l.extend_from_slice(b"\"}\n");
        l
    };
    let mut file = line(1, b"first");
    file.extend_from_slice(b"{\"type\":\"message\",\"seq\":2,\"ti\n"); // cut short, then more
    file.extend_from_slice(&line(3, b"caf\xe9 au lait"));
    file.extend_from_slice(&line(4, b"last"));
    std::fs::write(data.0.join("history.jsonl"), &file).unwrap();
    let server = Server::start(&["--data-dir", data.path()]);
    let note = server.wait_for_log("damaged line");
    assert!(
        note.contains("history.jsonl.damaged") && note.contains("line 2"),
        "{note}"
    );
    let (mut alice, w) = server.join("alice"); // the test client insists on UTF-8
    let texts: Vec<&str> = w.history.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(texts, ["first", "caf\u{fffd} au lait", "last"]);
    alice.say("new");
    assert!(alice.recv_message().seq > 4);
}

/// A server that compacts its history every few messages.
const COMPACTING: [&str; 5] = [
    "--history-keep",
    "10",
    "--history",
    "10",
    "--no-flood-control",
];

#[test]
fn a_failed_compaction_loses_nothing_and_waits_before_trying_again() {
    let data = TempDir::new("compaction-fails");
    // Compaction writes here first; a directory in the way makes every attempt fail.
    std::fs::create_dir(data.0.join("history.jsonl.tmp")).unwrap();
    let mut server = Server::start_at("127.0.0.1:0", &COMPACTING, Some(data.path()));
    let (mut alice, _) = server.join("alice");
    for round in 0..12 {
        for i in 0..100 {
            alice.say(&format!("m{}", round * 100 + i));
        }
        for i in 0..100 {
            match alice.recv() {
                ServerMsg::Message(m) => assert_eq!(m.message, format!("m{}", round * 100 + i)),
                other => panic!("message {} was answered {other:?}", round * 100 + i),
            }
        }
    }
    server.wait_for_log("compaction failed");
    let failures = server
        .log()
        .iter()
        .filter(|l| l.contains("compaction failed"))
        .count();
    assert_eq!(failures, 1, "{:#?}", server.log());
    server.kill();
    let server = Server::start_at("127.0.0.1:0", &COMPACTING, Some(data.path()));
    let (_bob, w) = server.join("bob");
    assert_eq!(w.history.last().map(|m| m.message.as_str()), Some("m1199"));
}

#[test]
fn compaction_keeps_every_message_across_kill_9() {
    let data = TempDir::new("compaction");
    let mut server = Server::start_at("127.0.0.1:0", &COMPACTING, Some(data.path()));
    let (mut alice, _) = server.join("alice");
    for round in 0..25 {
        for i in 0..100 {
            alice.say(&format!("m{}", round * 100 + i));
        }
        for _ in 0..100 {
            alice.recv_message();
        }
    }
    let lines = history_lines(&data.0).len();
    assert!(lines < 1200, "not compacted: {lines} lines");
    server.kill();
    let server = Server::start_at("127.0.0.1:0", &COMPACTING, Some(data.path()));
    let (_bob, w) = server.join("bob");
    let texts: Vec<String> = w.history.into_iter().map(|m| m.message).collect();
    let expected: Vec<String> = (2490..2500).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
}

#[test]
fn a_second_server_on_the_same_data_touches_nothing() {
    let data = TempDir::new("locked");
    let _first = Server::start(&["--data-dir", data.path()]);
    let tmp = data.0.join("history.jsonl.tmp");
    std::fs::write(&tmp, b"a compaction in progress").unwrap();
    let mut second = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir", data.path()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            panic!("the second server did not give up");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2));
    assert_eq!(std::fs::read(&tmp).unwrap(), b"a compaction in progress");
}

#[test]
fn after_a_crash_or_a_restart_only_the_token_holder_gets_the_nickname_back() {
    let data = TempDir::new("identity");
    let mut server = Server::start(&["--data-dir", data.path()]);
    let (_alice, wa) = server.join("alice");
    let (_bob, wb) = server.join("bob");
    let state = data.0.join("state.json");
    wait_until("alice and bob are saved", || {
        std::fs::read_to_string(&state).is_ok_and(|s| s.contains("alice") && s.contains("bob"))
    });
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(
        !saved.contains(&wa.resume_token),
        "a token is stored in the clear"
    );
    server.kill();

    let mut server = Server::start(&["--data-dir", data.path()]);
    let mut mallory = Client::connect(server.port);
    mallory.send(r#"{"type":"login","nickname":"alice"}"#);
    let (code, message) = mallory.recv_error();
    assert_eq!(code, ErrorCode::NicknameTaken, "{message}");
    let (mut mallory, wm) = server.join("mallory");
    assert!(wm.id > wb.id.max(wa.id), "id {} handed out again", wm.id);
    let mut alice = Client::connect(server.port);
    let back = resume(&mut alice, &wa);
    assert!(back.resumed);
    assert_eq!((back.id, back.nickname.as_str()), (wa.id, "alice"));
    mallory.send(r#"{"type":"private","to":"alice","message":"for alice only"}"#);
    match alice.recv_until("the private message", |m| {
        matches!(m, ServerMsg::Private(_))
    }) {
        ServerMsg::Private(p) => {
            assert_eq!((p.to_id, p.message.as_str()), (wa.id, "for alice only"))
        }
        _ => unreachable!(),
    }

    // A clean stop keeps everyone too, and numbering goes on without a gap.
    assert!(server.terminate().success());
    let server = Server::start(&["--data-dir", data.path()]);
    let mut bob = Client::connect(server.port);
    let back = resume(&mut bob, &wb);
    assert!(back.resumed && back.id == wb.id);
    let mut alice = Client::connect(server.port);
    assert!(resume(&mut alice, &wa).resumed);
    let (_carol, wc) = server.join("carol");
    assert_eq!(wc.id, wm.id + 1);
}
