//! The message list follows the conversation: whatever arrives last is drawn at the bottom
//! of the window, read back from what the real client reports drawing (not its scrollbar).

use std::time::{Duration, Instant};

use super::harness::*;

#[test]
fn a_newcomer_sees_the_newest_of_sixty_history_lines() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut room = TestRoom::new("history");
    let (tester, rx) = joined_tester(&room.server, deadline);
    for i in 1..=60 {
        say(&tester, &rx, &format!("history line {i}"), deadline);
    }
    room.launch_gui(deadline, &rx);
    // The newest history line, and below it the welcome, the last row of all.
    wait_drawn(&room.log, deadline, "the newest history line", |rows| {
        let newest = rows.iter().any(|r| r.whole && r.text == "history line 60");
        let welcome = rows
            .last()
            .is_some_and(|r| r.whole && r.text.starts_with("Welcome, gui"));
        newest && welcome
    });
    tester.quit();
}

#[test]
fn thirty_live_messages_are_each_drawn_as_they_arrive() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut room = TestRoom::new("live");
    let (tester, rx) = joined_tester(&room.server, deadline);
    room.launch_gui(deadline, &rx);
    for i in 1..=30 {
        let text = format!("live message {i}");
        say(&tester, &rx, &text, deadline);
        wait_drawn_last(&room.log, &text, deadline);
    }
    tester.quit();
}

#[test]
fn a_short_message_after_a_very_long_one_is_drawn() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    require_display();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut room = TestRoom::new("tall");
    let (tester, rx) = joined_tester(&room.server, deadline);
    room.launch_gui(deadline, &rx);
    for i in 1..=5 {
        say(&tester, &rx, &format!("before {i}"), deadline);
    }
    wait_drawn_last(&room.log, "before 5", deadline);
    let long = "a long message ".repeat(200);
    assert_eq!(long.chars().count(), 3000);
    say(&tester, &rx, long.trim_end(), deadline);
    say(&tester, &rx, "short after long", deadline);
    wait_drawn_last(&room.log, "short after long", deadline);
    tester.quit();
}
