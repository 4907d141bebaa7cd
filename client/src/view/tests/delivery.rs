//! Our own messages as drawn (pending, not delivered with Retry) and the compose counter.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use gtk::prelude::*;

use super::{assert_newest_drawn, pump_until, shown_list};
use crate::model::room::Op;
use crate::model::{Delivery, Kind, Line};
use crate::view::compose::Compose;

fn own(text: &str, delivery: Delivery) -> Line {
    Line {
        seq: None,
        time: SystemTime::now(),
        kind: Kind::Chat { action: false },
        sender: "alice".into(),
        text: text.into(),
        own: true,
        mention: false,
        delivery,
    }
}

#[gtk::test]
fn a_failed_message_is_drawn_with_its_reason_and_a_retry_that_works() {
    let (window, list) = shown_list();
    let retried = Rc::new(Cell::new(None));
    let seen = Rc::clone(&retried);
    list.connect_retry(move |id| seen.set(Some(id)));
    list.apply(&[Op::Insert(0, own("hello", Delivery::Pending { id: 7 }))]);
    assert_newest_drawn(&list, "hello");
    let note = list.drawn_rows().last().and_then(|r| r.note.clone());
    assert_eq!(note.as_deref(), Some("Sending…"));
    let failed = Delivery::Failed {
        id: 7,
        reason: "sent too fast".into(),
    };
    list.apply(&[Op::Replace(0, own("hello", failed))]);
    let drawn = pump_until(Duration::from_secs(5), || {
        list.drawn_rows()
            .last()
            .and_then(|r| r.note.clone())
            .as_deref()
            == Some("Not delivered: sent too fast")
    });
    assert!(drawn, "{:?}", list.drawn_rows());
    let retry = find_button(&list.root().clone().upcast(), "Retry").expect("a Retry button");
    assert!(retry.is_mapped() && retry.is_sensitive());
    retry.emit_clicked();
    assert!(pump_until(Duration::from_secs(5), || retried.get() == Some(7)));
    list.apply(&[Op::Remove(0)]);
    assert!(pump_until(Duration::from_secs(5), || list
        .drawn_rows()
        .is_empty()));
    window.destroy();
}

fn find_button(widget: &gtk::Widget, label: &str) -> Option<gtk::Button> {
    if let Some(button) = widget.downcast_ref::<gtk::Button>() {
        if button.label().as_deref() == Some(label) && button.is_visible() {
            return Some(button.clone());
        }
    }
    let mut child = widget.first_child();
    while let Some(c) = child {
        if let Some(found) = find_button(&c, label) {
            return Some(found);
        }
        child = c.next_sibling();
    }
    None
}

#[gtk::test]
fn the_counter_appears_near_the_limit_and_send_says_why_it_is_off() {
    let compose = Compose::new();
    compose.type_text("short");
    assert_eq!(compose.counter(), None);
    assert_eq!(compose.send_state(), (true, None));
    compose.type_text(&"x".repeat(3800));
    assert_eq!(compose.counter().as_deref(), Some("3800 / 4000"));
    assert_eq!(compose.send_state(), (true, None));
    let long = "y".repeat(5000);
    compose.type_text(&long);
    assert_eq!(compose.text().chars().count(), 5000, "nothing is cut");
    assert_eq!(compose.counter().as_deref(), Some("5000 / 4000"));
    let why = "Too long to send: 5000 characters, and the limit is 4000. Shorten it by 1000.";
    assert_eq!(compose.send_state(), (false, Some(why.to_string())));
    compose.type_text("/me is fine again");
    assert_eq!(compose.send_state(), (true, None));
}

#[gtk::test]
fn the_server_field_says_what_is_wrong_and_the_button_follows_the_phase() {
    use crate::model::connection::Button;
    use crate::view::connect_bar::ConnectBar;
    let bar = ConnectBar::new("127.0.0.1:abc", "alice");
    let why = tlschat::runtime::address::parse_server(&bar.fields().server)
        .err()
        .map(|e| e.to_string());
    bar.show_server_problem(why.as_deref());
    assert_eq!(
        bar.server_problem().as_deref(),
        Some("'abc' is not a port number: use digits, such as 127.0.0.1:8888")
    );
    assert_eq!(bar.fields().server, "127.0.0.1:abc", "what was typed stays");
    bar.show_server_problem(None);
    assert_eq!(bar.server_problem(), None);
    bar.set_button(Button::Disconnect);
    assert_eq!(bar.button_label(), "Disconnect");
    assert!(!bar.button_suggested());
    bar.set_button(Button::ReconnectNow);
    assert_eq!(bar.button_label(), "Reconnect now");
    assert!(bar.button_suggested());
}

#[gtk::test]
fn a_narrow_window_folds_the_user_list_behind_a_button() {
    let app = gtk::Application::new(None::<&str>, gtk::gio::ApplicationFlags::NON_UNIQUE);
    let view = crate::view::View::new(&app, "127.0.0.1:8888", "alice");
    // (users shown, toggle shown); the window is never shown here.
    assert_eq!(view.users_and_toggle_shown(), (true, false));
    view.resize(600, 500);
    assert_eq!(view.users_and_toggle_shown(), (false, true), "folded away");
    view.toggle_users(true);
    assert_eq!(
        view.users_and_toggle_shown(),
        (true, true),
        "shown on demand"
    );
    view.resize(1000, 680);
    assert_eq!(view.users_and_toggle_shown(), (true, false));
}

#[gtk::test]
fn history_that_spans_days_has_a_heading_for_each_day() {
    let (window, list) = shown_list();
    let day = Duration::from_secs(24 * 3600);
    let now = SystemTime::now();
    let at = |time: SystemTime, text: &str| Line {
        time,
        ..own(text, Delivery::Shown)
    };
    list.apply(&[
        Op::Insert(0, at(now - day, "yesterday one")),
        Op::Insert(1, at(now - day, "yesterday two")),
        Op::Insert(2, at(now, "today one")),
    ]);
    assert_newest_drawn(&list, "today one");
    let days: Vec<(String, Option<String>)> = list
        .drawn_rows()
        .into_iter()
        .map(|r| (r.text, r.day))
        .collect();
    assert_eq!(
        days,
        vec![
            ("yesterday one".to_string(), Some("Yesterday".to_string())),
            ("yesterday two".to_string(), None),
            ("today one".to_string(), Some("Today".to_string())),
        ]
    );
    // A row slotted in before today's first keeps one heading per day.
    list.apply(&[Op::Insert(2, at(now, "today zero"))]);
    let ok = pump_until(Duration::from_secs(5), || {
        let rows = list.drawn_rows();
        rows.len() == 4 && rows[2].day.as_deref() == Some("Today") && rows[3].day.is_none()
    });
    assert!(ok, "{:?}", list.drawn_rows());
    window.destroy();
}
