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
use tlschat::runtime::{self, NetEvent};
use tlschat::wire::{ClientMsg, ServerMsg};

#[test]
fn gui_sends_and_receives_through_the_real_server() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(50);
    let mut room = TestRoom::with_args("sends", &["--no-persist"]);
    let (tester, rx) = joined_tester(&room.server, deadline);
    // The title names the nickname once logged in, so this also waits for the login.
    let window = room.launch_gui(deadline, &rx);
    assert!(!window.is_empty(), "the client window");

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
    let transcript = wait_for_transcript(&room.log, "<tester> hello gui", deadline);
    assert!(
        transcript.contains("<gui> hello from the gui"),
        "{transcript}"
    );
    tester.quit();
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
    let (first, rx) = resuming_tester(&server, &resume);
    wait_for(&rx, deadline, "the tester's welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });
    say(&first, &rx, "before the crash", deadline);
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
    let (second, rx) = resuming_tester(&server, &resume);
    wait_for(&rx, deadline, "the tester's second welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });
    say(&second, &rx, "while you were away", deadline);

    // Thawed, the GUI finds its connection dead, reconnects by itself (reclaiming its place,
    // so the room sees no join) and catches up.
    signal(gui_pid, "CONT");
    wait_for_transcript(&log, "<tester> while you were away", deadline);
    say(&second, &rx, "after it came back", deadline);
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
    let _ = std::fs::remove_file(drawn_file(&log));
    let _ = std::fs::remove_dir_all(&data);
}
