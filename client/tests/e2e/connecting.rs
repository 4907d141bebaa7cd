//! Connecting as a new user meets it: a first connection that fails says why and offers
//! Retry instead of retrying forever.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tlschat::runtime::Backoff;

use super::harness::*;

#[test]
fn a_first_connection_that_fails_says_why_and_offers_retry() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Something that accepts TCP and hangs up at once: not a tlschat server.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let server = listener.local_addr().expect("its address").to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            count.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let log = std::env::temp_dir().join(format!("tlschat-e2e-first-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let mut reaper = Reaper(Vec::new());
    launch_gui(&mut reaper, &server, &log);
    // The words after the colon depend on how the hang-up reached us (EOF or reset).
    let why = format!("Could not connect to {server}: ");
    wait_status(&log, deadline, |status, button| {
        status.starts_with(&why) && button == "Retry"
    });
    let status = status_and_button(&log).0;
    wait_drawn_last(&log, &status, deadline);
    // Proving that nothing happens takes a while: a reconnect schedule would try again
    // within its first delay (at most `Backoff::base`), so watch for twice that.
    let watch = Backoff::default().base * 2;
    let until = Instant::now() + watch;
    while Instant::now() < until {
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "it retried by itself");
        assert_eq!(status_and_button(&log).1, "Retry");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(drawn_file(&log));
}

/// Waits until the GUI's status and button satisfy `done`.
fn wait_status(log: &std::path::Path, deadline: Instant, done: impl Fn(&str, &str) -> bool) {
    loop {
        let (status, button) = status_and_button(log);
        if done(&status, &button) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "status {status:?}, button {button:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Clicks at `x, y` inside `window` (the 1000×680 window's own coordinates).
fn click(window: &str, x: u32, y: u32) {
    let (x, y) = (x.to_string(), y.to_string());
    xdotool(&["mousemove", "--window", window, &x, &y]);
    xdotool(&["click", "1"]);
}

#[test]
fn switching_servers_quits_the_old_room_and_disconnect_leaves_cleanly() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut first = TestRoom::new("switch");
    let (tester, rx) = joined_tester(&first.server, deadline);
    let window = first.launch_gui(deadline, &rx);
    wait_status(&first.log, deadline, |_, button| button == "Disconnect");
    let mut reaper = Reaper(Vec::new());
    let second = start_server_with(&mut reaper, "127.0.0.1:0", &["--no-persist"]);
    let (other, other_rx) = joined_tester(&second, deadline);
    let _ = std::process::Command::new("xset")
        .args(["r", "off"])
        .status();
    xdotool(&["windowfocus", "--sync", &window]);
    // The Server field, at the left of the connection row.
    click(&window, 160, 76);
    xdotool(&["key", "ctrl+a"]);
    xdotool(&["type", "--delay", "10", &second]);
    xdotool(&["key", "Return"]);
    // The old room is told at once that gui quit: no ghost waiting out its grace period.
    let reason = wait_left(&rx, deadline, "gui");
    assert_eq!(reason, "quit");
    wait_joined(&other_rx, deadline, "gui");
    let divider = format!("— connected to {second} —");
    wait_drawn(&first.log, deadline, "the divider", |rows| {
        rows.iter().any(|r| r.text == divider)
    });
    wait_status(&first.log, deadline, |status, button| {
        status == format!("Connected as gui to {second}") && button == "Disconnect"
    });
    // The button, at the right of the connection row, now disconnects.
    click(&window, 937, 76);
    let reason = wait_left(&other_rx, deadline, "gui");
    assert_eq!(reason, "quit");
    wait_status(&first.log, deadline, |_, button| button == "Login");
    tester.quit();
    other.quit();
}

#[test]
fn a_private_room_asks_for_its_password_and_says_nothing_else() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(60);
    let secret = std::env::temp_dir().join(format!("tlschat-e2e-pw-{}", std::process::id()));
    std::fs::write(&secret, "sesame\n").expect("write the password file");
    let secret_arg = secret.to_str().expect("UTF-8 temp path").to_string();
    let room = TestRoom::with_args("private", &["--no-persist", "--password-file", &secret_arg]);
    let mut reaper = Reaper(Vec::new());
    launch_gui(&mut reaper, &room.server, &room.log);
    let asked = "This room needs a password: type it in the Password box and press Login";
    wait_status(&room.log, deadline, |status, button| {
        status == asked && button == "Login"
    });
    wait_drawn_last(&room.log, &format!("⚠ {asked}"), deadline);
    // The connection's end that follows changes neither.
    let transcript = wait_for_transcript(&room.log, asked, deadline);
    assert!(!transcript.contains("wrong password"), "{transcript}");
    assert_eq!(status_and_button(&room.log).0, asked);
    let _ = std::fs::remove_file(&secret);
}
