//! Nothing typed is lost: lines typed faster than the server's flood control allows are
//! paced by the client and all reach the room, in order.

use std::process::Command;
use std::time::{Duration, Instant};

use super::harness::*;
use tlschat::runtime::NetEvent;
use tlschat::wire::ServerMsg;

#[test]
fn thirty_lines_typed_quickly_all_reach_the_room_in_order() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(120);
    // Strict enough that typing 30 lines is well over the limit: 4 at once, 2 a second.
    let mut room = TestRoom::with_args("typing", &["--no-persist", "--rate", "2", "--burst", "4"]);
    let (tester, rx) = joined_tester(&room.server, deadline);
    let window = room.launch_gui(deadline, &rx);
    let _ = Command::new("xset").args(["r", "off"]).status();
    xdotool(&["windowfocus", "--sync", &window]);
    let typed: Vec<String> = (1..=30).map(|i| format!("typed {i}")).collect();
    for line in &typed {
        xdotool(&["type", "--delay", "10", line]);
        xdotool(&["key", "Return"]);
    }
    let mut arrived = Vec::new();
    while arrived.len() < typed.len() {
        wait_for(&rx, deadline, "the typed lines", |e| match e {
            NetEvent::Server(ServerMsg::Message(m)) if m.sender_nickname == "gui" => {
                arrived.push(m.message.clone());
                Some(())
            }
            _ => None,
        });
    }
    assert_eq!(arrived, typed);
    wait_drawn(
        &room.log,
        deadline,
        "the last typed line, delivered",
        |rows| {
            rows.last()
                .is_some_and(|r| r.whole && r.text == "typed 30" && r.note.is_none())
        },
    );
    let transcript = wait_for_transcript(&room.log, "<gui> typed 30", deadline);
    assert!(!transcript.contains("Not delivered"), "{transcript}");
    tester.quit();
}

#[test]
fn a_new_messages_line_marks_where_you_left_off() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut room = TestRoom::new("marker");
    let (tester, rx) = joined_tester(&room.server, deadline);
    let window = room.launch_gui(deadline, &rx);
    say(&tester, &rx, "seen before leaving", deadline);
    wait_drawn_last(&room.log, "seen before leaving", deadline);
    // Another window takes the focus, so the chat window is in the background.
    let other = Command::new(env!("CARGO_BIN_EXE_client"))
        .args(["--nickname", "elsewhere"])
        .spawn()
        .expect("start a second window");
    room.reaper.0.push(other);
    let found = xdotool(&["search", "--sync", "--onlyvisible", "--name", "^tlschat$"]);
    let other_window = found.lines().next().unwrap_or_default().trim().to_string();
    xdotool(&["windowfocus", "--sync", &other_window]);
    say(&tester, &rx, "said while you were away", deadline);
    wait_drawn(&room.log, deadline, "the New messages line", |rows| {
        let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        texts.ends_with(&["New messages", "said while you were away"])
    });
    let transcript = wait_for_transcript(&room.log, "<tester> said while you were away", deadline);
    assert!(!transcript.contains("New messages"), "{transcript}");
    // Back, and writing: the line has done its job.
    xdotool(&["windowfocus", "--sync", &window]);
    xdotool(&["type", "--delay", "10", "back"]);
    xdotool(&["key", "Return"]);
    wait_drawn(&room.log, deadline, "no New messages line", |rows| {
        rows.last()
            .is_some_and(|r| r.text == "back" && r.note.is_none())
            && rows.iter().all(|r| r.text != "New messages")
    });
    tester.quit();
}
