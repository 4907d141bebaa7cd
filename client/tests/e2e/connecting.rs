//! Connecting as a new user meets it: a first connection that fails says why and offers
//! Retry instead of retrying forever.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let status = loop {
        let (status, button) = status_and_button(&log);
        if status.starts_with(&why) && button == "Retry" {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "status {status:?}, button {button:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    wait_drawn_last(&log, &status, deadline);
    // A reconnect schedule would have tried again within a second or two; nobody does.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "it retried by itself");
    assert_eq!(status_and_button(&log).1, "Retry");
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(drawn_file(&log));
}
