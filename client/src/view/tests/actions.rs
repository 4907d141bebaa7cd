//! What the parts report as the user acts on them, and how those actions reach the channel.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::pump_until;
use crate::view::action::{Action, ActionSender};
use crate::view::compose::Compose;
use crate::view::connect_bar::{ConnectBar, LoginFields};

/// A sink that remembers every action, and the list it fills.
fn recorder() -> (impl Fn(Action) + Clone + 'static, Rc<RefCell<Vec<Action>>>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&seen);
    (move |action| sink.borrow_mut().push(action), seen)
}

#[gtk::test]
fn enter_and_send_carry_the_text_which_stays_until_it_is_sent() {
    let compose = Compose::new();
    let (sink, seen) = recorder();
    compose.connect_actions(sink);
    compose.type_text("hello room");
    compose.press_enter_then_send();
    let submitted = Action::Submit("hello room".into());
    assert_eq!(
        *seen.borrow(),
        [submitted, Action::Submit("hello room".into())]
    );
    assert_eq!(
        compose.text(),
        "hello room",
        "kept until the controller sends it"
    );
    compose.clear_sent("something else");
    assert_eq!(compose.text(), "hello room", "not what was sent: kept");
    compose.clear_sent("hello room");
    assert_eq!(compose.text(), "");
}

#[gtk::test]
fn the_cursor_after_a_completion_counts_characters_not_bytes() {
    let compose = Compose::new();
    let text = "zoë: héllo";
    let after_name = "zoë: ".len();
    compose.set_text_with_cursor(text, after_name);
    assert_eq!(compose.text(), text);
    assert_eq!(compose.cursor(), 5);
    compose.set_text("/msg zoë ");
    assert_eq!(compose.cursor(), 9, "at the end");
}

#[gtk::test]
fn login_and_the_button_carry_the_fields_as_typed() {
    let bar = ConnectBar::new("127.0.0.1:8888", "alice");
    let (sink, seen) = recorder();
    let button = sink.clone();
    bar.connect_login(
        move |f| button(Action::Button(f)),
        move |f| sink(Action::Login(f)),
    );
    let fields = LoginFields {
        server: "example.org:9999".into(),
        nickname: " bob ".into(),
        password: "sesame".into(),
    };
    bar.fill_and_press(&fields);
    assert_eq!(
        *seen.borrow(),
        [Action::Login(fields.clone()), Action::Button(fields)]
    );
}

#[gtk::test]
fn actions_wait_their_turn_in_order_when_the_channel_is_full() {
    let (tx, rx) = async_channel::bounded::<Action>(1);
    tx.try_send(Action::RecallNext).expect("room for one");
    let sender = ActionSender::new(tx);
    // The UI thread does not wait, and nothing is lost.
    sender.send(Action::Submit("one".into()));
    sender.send(Action::Submit("two".into()));
    let mut got = Vec::new();
    let all = pump_until(Duration::from_secs(5), || {
        while let Ok(action) = rx.try_recv() {
            got.push(action);
        }
        got.len() == 3
    });
    assert!(all, "{got:?}");
    assert_eq!(
        got,
        [
            Action::RecallNext,
            Action::Submit("one".into()),
            Action::Submit("two".into()),
        ]
    );
    // Once the backlog is fed in, actions go straight through again.
    sender.send(Action::Close);
    assert_eq!(rx.try_recv().ok(), Some(Action::Close));
}

#[test]
fn a_debug_print_of_the_fields_leaves_the_password_out() {
    let fields = LoginFields {
        server: "example.org:9999".into(),
        nickname: "bob".into(),
        password: "sesame".into(),
    };
    let printed = format!("{:?}", Action::Login(fields));
    assert!(
        printed.contains("bob") && !printed.contains("sesame"),
        "{printed}"
    );
}
