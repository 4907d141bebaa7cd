//! Widget tests; they need a display (run under Xvfb). `#[gtk::test]` runs them all on one
//! thread, as GTK requires.

use std::time::{Duration, Instant, SystemTime};

use gtk::glib;
use gtk::prelude::*;
use tlschat::wire::User;

use super::message_list::MessageList;
use super::status_bar::{StatusBar, Tone};
use super::user_list::UserList;
use crate::model::room::Op;
use crate::model::{Kind, Line};

mod actions;
mod delivery;

fn chat(seq: u64, text: &str) -> Line {
    Line {
        seq: Some(seq),
        time: SystemTime::now(),
        kind: Kind::Chat { action: false },
        sender: "bob".into(),
        text: text.into(),
        own: false,
        mention: false,
        delivery: Default::default(),
    }
}

/// Runs the main loop for `for_` whatever happens: only to prove that something does not
/// happen (a wait for something that does is [`pump_until`]).
fn pump_for(for_: Duration) {
    let until = Instant::now() + for_;
    while Instant::now() < until {
        while glib::MainContext::default().iteration(false) {}
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs the main loop until `done` holds, for at most `limit`; returns whether it held.
pub(super) fn pump_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        while glib::MainContext::default().iteration(false) {}
        if done() {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether the last row drawn is the one showing `text`, wholly inside the viewport.
fn last_drawn_is(list: &MessageList, text: &str) -> bool {
    list.drawn_rows()
        .last()
        .is_some_and(|row| row.whole && row.text == text)
}

/// Waits (generously) for the newest row, showing `text`, to be drawn at the bottom.
pub(super) fn assert_newest_drawn(list: &MessageList, text: &str) {
    let drawn = pump_until(Duration::from_secs(5), || last_drawn_is(list, text));
    let adj = list.adjustment();
    assert!(
        drawn,
        "{text:?} is not drawn at the bottom; drawn: {:#?}; value {} page {} upper {}",
        list.drawn_rows(),
        adj.value(),
        adj.page_size(),
        adj.upper()
    );
}

pub(super) fn shown_list() -> (gtk::Window, MessageList) {
    let list = MessageList::new();
    let window = gtk::Window::builder()
        .default_width(500)
        .default_height(300)
        .build();
    window.set_child(Some(list.root()));
    window.present();
    let shown = pump_until(Duration::from_secs(5), || {
        list.root().is_mapped() && list.root().height() > 0
    });
    assert!(shown, "the test window was never shown");
    (window, list)
}

#[gtk::test]
fn message_list_appends_and_sticks_to_the_bottom() {
    let (window, list) = shown_list();
    let ops: Vec<Op> = (0..300)
        .map(|i| Op::Insert(i, chat(i as u64, &format!("hello {i}"))))
        .collect();
    list.apply(&ops);
    assert_eq!(list.len(), 300);
    assert_newest_drawn(&list, "hello 299");
    let adj = list.adjustment();
    let settled = pump_until(Duration::from_secs(5), || {
        super::message_list::at_bottom(adj.value(), adj.page_size(), adj.upper())
    });
    assert!(
        settled,
        "value {} page {} upper {}",
        adj.value(),
        adj.page_size(),
        adj.upper()
    );
    assert!(adj.upper() > adj.page_size(), "the list should overflow");
    assert!(list.is_sticky());
    assert_eq!(list.jump_label(), None);
    window.destroy();
}

#[gtk::test]
fn a_newcomer_sees_the_newest_history_line() {
    let (window, list) = shown_list();
    let ops: Vec<Op> = (0..60)
        .map(|i| Op::Insert(i, chat(i as u64, &format!("history line {i}"))))
        .collect();
    list.apply(&ops);
    assert_newest_drawn(&list, "history line 59");
    assert_eq!(list.jump_label(), None);
    window.destroy();
}

#[gtk::test]
fn live_messages_one_by_one_are_each_drawn() {
    let (window, list) = shown_list();
    for i in 0..30 {
        let text = format!("live message {i}");
        list.apply(&[Op::Insert(i, chat(i as u64, &text))]);
        assert_newest_drawn(&list, &text);
    }
    assert_eq!(list.jump_label(), None);
    window.destroy();
}

#[gtk::test]
fn a_short_message_after_a_tall_one_is_drawn() {
    let (window, list) = shown_list();
    let ops: Vec<Op> = (0..10)
        .map(|i| Op::Insert(i, chat(i as u64, &format!("before {i}"))))
        .collect();
    list.apply(&ops);
    assert_newest_drawn(&list, "before 9");
    let tall = "word ".repeat(600);
    list.apply(&[Op::Insert(10, chat(10, tall.trim_end()))]);
    list.apply(&[Op::Insert(11, chat(11, "short after tall"))]);
    assert_newest_drawn(&list, "short after tall");
    list.apply(&[Op::Insert(12, chat(12, "and one more"))]);
    assert_newest_drawn(&list, "and one more");
    window.destroy();
}

#[gtk::test]
fn reading_older_messages_is_not_interrupted() {
    let (window, list) = shown_list();
    let ops: Vec<Op> = (0..200)
        .map(|i| Op::Insert(i, chat(i as u64, "hi")))
        .collect();
    list.apply(&ops);
    let adj = list.adjustment();
    let laid_out = pump_until(Duration::from_secs(5), || {
        adj.upper() > adj.page_size()
            && super::message_list::at_bottom(adj.value(), adj.page_size(), adj.upper())
    });
    assert!(laid_out, "the list never overflowed and reached its end");
    adj.set_value(0.0);
    assert!(pump_until(Duration::from_secs(5), || !list.is_sticky()));
    list.apply(&[
        Op::Insert(200, chat(200, "new")),
        Op::Insert(201, chat(201, "newer")),
    ]);
    // Proving the reader is left alone takes a while: time for GTK to lay the new rows out
    // and for the list to scroll, were it going to.
    pump_for(Duration::from_millis(200));
    assert_eq!(adj.value(), 0.0, "the reader was yanked away");
    assert_eq!(list.unread(), 2);
    assert_eq!(list.jump_label().as_deref(), Some("2 new messages ↓"));
    let drawn = list.drawn_rows();
    assert_eq!(drawn.first().map(|r| r.text.as_str()), Some("hi"));
    assert!(drawn.iter().all(|r| r.text != "newer"), "{drawn:?}");
    list.click_jump();
    assert_newest_drawn(&list, "newer");
    assert!(list.is_sticky());
    assert_eq!(list.unread(), 0);
    assert!(super::message_list::at_bottom(
        adj.value(),
        adj.page_size(),
        adj.upper()
    ));
    window.destroy();
}

#[gtk::test]
fn old_rows_are_dropped_from_the_front() {
    let list = MessageList::new();
    let ops: Vec<Op> = (0..10)
        .map(|i| Op::Insert(i, chat(i as u64, "x")))
        .collect();
    list.apply(&ops);
    list.apply(&[Op::DropFront(4)]);
    assert_eq!(list.len(), 6);
}

#[gtk::test]
fn user_list_counts_and_marks_you() {
    let users = UserList::new();
    assert_eq!(users.heading(), "Not connected");
    let people = vec![
        User {
            id: 1,
            nickname: "bob".into(),
        },
        User {
            id: 2,
            nickname: "alice".into(),
        },
        User {
            id: 3,
            nickname: "Carol".into(),
        },
    ];
    users.set_users(&people, Some(2));
    assert_eq!(users.names(), ["alice", "bob", "Carol"], "sorted by name");
    assert_eq!(users.heading(), "Online — 3");
    users.set_users(&people[..1], Some(2));
    assert_eq!(users.names(), ["bob"]);
    assert_eq!(users.heading(), "Online — 1");
    let numbered: Vec<User> = ["user10", "user2", "User1"]
        .iter()
        .zip(10..)
        .map(|(n, id)| User {
            id,
            nickname: n.to_string(),
        })
        .collect();
    users.set_users(&numbered, Some(10));
    assert_eq!(users.names(), ["User1", "user2", "user10"]);
    users.set_users(&[], None);
    assert_eq!(users.heading(), "Not connected");
}

#[gtk::test]
fn status_bar_shows_state_and_fingerprint() {
    let bar = StatusBar::new();
    bar.set("Connected as alice to 127.0.0.1:8888", Tone::Online);
    assert_eq!(bar.text(), "Connected as alice to 127.0.0.1:8888");
    bar.set_connection(
        Some("127.0.0.1:8888"),
        Some("AB:CD:EF"),
        Some("tlschat 0.1"),
    );
    assert_eq!(bar.fingerprint(), "AB:CD:EF");
    assert!(bar
        .padlock_tooltip()
        .is_some_and(|t| t.contains("AB:CD:EF")));
    bar.set_connection(None, None, None);
    assert_eq!(bar.fingerprint(), "—");
    assert_eq!(bar.hint(), None);
    bar.set_untrusted("10.0.0.9:8888", "12:34:56");
    assert_eq!(
        bar.fingerprint(),
        "12:34:56",
        "what the server presented, not —"
    );
    let hint = bar.hint();
    assert!(
        hint.as_deref().is_some_and(|h| h.contains("--ca FILE")),
        "{hint:?}"
    );
    bar.set_connection(None, None, None);
    assert_eq!(bar.hint(), None);
}

#[gtk::test]
fn ten_thousand_messages_stay_quick() {
    let (window, list) = shown_list();
    let started = Instant::now();
    for i in 0..10_000 {
        let text = if i == 9_999 {
            "the last of ten thousand"
        } else {
            "a fairly ordinary line of chat"
        };
        list.apply(&[Op::Insert(i, chat(i as u64, text))]);
    }
    assert_eq!(list.len(), 10_000);
    assert_newest_drawn(&list, "the last of ten thousand");
    // A ListView only builds the visible rows; a TextView or ListBox would take far longer.
    // The bound is generous: it catches a list that builds every row, not a slow machine.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    window.destroy();
}
