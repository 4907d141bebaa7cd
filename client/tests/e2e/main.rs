//! End to end: the real server, the real `client` binary driven by xdotool under X, and a
//! protocol-level test client on the other side of the room.
//!
//! Needs DISPLAY and xdotool (run under `xvfb-run -a`); without them the tests fail and say why.

mod connecting;
mod delivery;
mod following;
mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use harness::*;
use tlschat::runtime::{self, ClientConfig, NetEvent};
use tlschat::wire::{ClientMsg, ServerMsg};

#[test]
fn gui_sends_and_receives_through_the_real_server() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(50);
    let mut reaper = Reaper(Vec::new());
    let server = start_server(&mut reaper);

    let (tester, rx) = tester(&server);
    wait_for(&rx, deadline, "the tester's welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });

    let log = std::env::temp_dir().join(format!("tlschat-e2e-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    launch_gui(&mut reaper, &server, &log);

    // The title names the nickname once logged in, so this also waits for the login.
    let title = format!("tlschat: gui @ {server}");
    let window = xdotool(&["search", "--sync", "--onlyvisible", "--name", &title]);
    let window = window
        .lines()
        .next()
        .expect("the client window")
        .trim()
        .to_string();
    wait_for(&rx, deadline, "gui to join", |e| match e {
        NetEvent::Server(ServerMsg::Join { nickname, .. }) => (nickname == "gui").then_some(()),
        _ => None,
    });

    // Key auto-repeat on a busy Xvfb can double letters while xdotool types; best effort.
    let _ = Command::new("xset").args(["r", "off"]).status();
    // The message entry has the focus after login; the window needs the keyboard.
    xdotool(&["windowfocus", "--sync", &window]);
    xdotool(&["type", "--delay", "15", "hello from the gui"]);
    xdotool(&["key", "Return"]);
    wait_for(&rx, deadline, "the gui's message", |e| match e {
        NetEvent::Server(ServerMsg::Message(m)) if m.sender_nickname == "gui" => {
            assert_eq!(m.message, "hello from the gui");
            Some(())
        }
        _ => None,
    });

    tester
        .send(&ClientMsg::Broadcast {
            message: "hello gui".into(),
            action: false,
        })
        .expect("the tester sends");
    let transcript = wait_for_transcript(&log, "<tester> hello gui", deadline);
    assert!(
        transcript.contains("<gui> hello from the gui"),
        "{transcript}"
    );
    tester.quit();
    let _ = std::fs::remove_file(&log);
}

#[test]
fn gui_fills_the_gap_after_the_server_is_killed_and_restarted() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(50);
    let data = std::env::temp_dir().join(format!("tlschat-e2e-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let data_arg = data.to_str().expect("UTF-8 temp path").to_string();
    let mut reaper = Reaper(Vec::new());
    let server = start_server_with(&mut reaper, "127.0.0.1:0", &["--data-dir", &data_arg]);

    let log = std::env::temp_dir().join(format!("tlschat-e2e-gap-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let gui_pid = launch_gui(&mut reaper, &server, &log);
    // The server keeps the place of whoever was online at the crash for the grace period,
    // so the tester comes back with its resume token, as the GUI does.
    let resume = runtime::Resume::new();
    let tester = |server: &str| {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut config = ClientConfig::new(
            server,
            tlschat::runtime::connect::BUNDLED_CA,
            "tester",
            None,
        );
        config.resume = Some(resume.clone());
        let handle = runtime::spawn(config, move |event| {
            let _ = tx.send(event);
        });
        (handle, rx)
    };
    let (first, rx) = tester(&server);
    wait_for(&rx, deadline, "the tester's welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });
    let say = |who: &runtime::ClientHandle, text: &str| {
        who.send(&ClientMsg::Broadcast {
            message: text.into(),
            action: false,
        })
        .expect("the tester sends")
    };
    say(&first, "before the crash");
    wait_for_transcript(&log, "<tester> before the crash", deadline);

    // Freeze the GUI, so what follows happens while it cannot look, then crash the server.
    signal(gui_pid, "STOP");
    let server_pid = reaper.0[0].id();
    signal(server_pid, "KILL");
    let _ = reaper.0[0].wait();
    let listen = server.clone();
    let restarted = loop {
        // The old process's port can take a moment to be free again.
        let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut r = Reaper(Vec::new());
            let addr = start_server_with(&mut r, &listen, &["--data-dir", &data_arg]);
            (addr, r)
        }));
        match attempt {
            Ok((addr, r)) => break (addr, r),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => std::panic::resume_unwind(e),
        }
    };
    let (_, mut restarted_reaper) = restarted;
    reaper.0.append(&mut restarted_reaper.0);
    let (second, rx) = tester(&server);
    wait_for(&rx, deadline, "the tester's second welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });
    say(&second, "while you were away");
    wait_for(&rx, deadline, "the echo", |e| match e {
        NetEvent::Server(ServerMsg::Message(m)) => {
            (m.message == "while you were away").then_some(())
        }
        _ => None,
    });

    // Thawed, the GUI finds its connection dead, reconnects by itself (reclaiming its place,
    // so the room sees no join) and catches up.
    signal(gui_pid, "CONT");
    wait_for_transcript(&log, "<tester> while you were away", deadline);
    say(&second, "after it came back");
    let transcript = wait_for_transcript(&log, "<tester> after it came back", deadline);
    for line in [
        "before the crash",
        "while you were away",
        "after it came back",
    ] {
        let count = transcript
            .lines()
            .filter(|l| l.ends_with(&format!("<tester> {line}")))
            .count();
        assert_eq!(count, 1, "{line:?} shown {count} times:\n{transcript}");
    }
    first.abort();
    second.quit();
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_dir_all(&data);
}
