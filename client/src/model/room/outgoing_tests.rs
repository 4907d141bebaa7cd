//! Our own messages from Enter to the echo: pending, delivered in the room's order, or
//! marked not delivered with a Retry.

use super::tests::{msg, welcomed};
use super::*;
use crate::model::{Delivery, Kind};
use tlschat::runtime::MessageId;
use tlschat::wire::ClientMsg;

fn say(text: &str) -> ClientMsg {
    ClientMsg::Broadcast {
        message: text.into(),
        action: false,
    }
}

#[test]
fn a_sent_message_is_pending_until_its_echo_takes_its_place() {
    // Welcomed as alice (id 3) with two rows already shown (the welcome notice, bob's m1).
    let mut room = welcomed(vec![]);
    let mut up = Update::default();
    let sent = MessageId::next();
    let id = room
        .sending(&mut up, sent, say("hello "))
        .expect("a chat message");
    let Some(Op::Insert(at, line)) = up.ops.first() else {
        panic!("no pending line: {:?}", up.ops)
    };
    assert_eq!(line.delivery, Delivery::Pending { id });
    assert_eq!((line.text.as_str(), line.own), ("hello", true));
    let pending_at = *at;
    assert_eq!(room.pending(), 1);
    // Someone else's message is numbered before ours: it goes after the pending row for
    // now, and our echo then lands after it, where the room's order puts it.
    let up = room.apply(msg(7, 1, "bob", "meanwhile"));
    assert!(matches!(up.ops.as_slice(), [Op::Insert(i, _)] if *i == pending_at + 1));
    // The runtime reports the echo, then that it was the echo of this message.
    let up = room.apply(msg(8, 3, "alice", "hello"));
    match up.ops.as_slice() {
        [Op::Insert(i, echo)] => {
            assert_eq!(*i, pending_at + 2);
            assert_eq!(echo.delivery, Delivery::Shown);
        }
        ops => panic!("{ops:?}"),
    }
    let mut up = Update::default();
    room.delivered(&mut up, sent);
    assert_eq!(up.ops, vec![Op::Remove(pending_at)]);
    assert!(up.delivered);
    assert_eq!(room.pending(), 0);
}

#[test]
fn a_refused_message_keeps_its_text_and_can_be_retried() {
    let mut room = welcomed(vec![]);
    let mut up = Update::default();
    room.sending(&mut up, MessageId::next(), say("one"));
    let sent_two = MessageId::next();
    let two = room.sending(&mut up, sent_two, say("two")).expect("an id");
    let mut up = Update::default();
    assert!(room.failed(&mut up, sent_two, "sent too fast"));
    let Some(Op::Replace(_, line)) = up.ops.first() else {
        panic!("not marked: {:?}", up.ops)
    };
    assert_eq!(line.text, "two");
    assert_eq!(
        line.delivery,
        Delivery::Failed {
            id: two,
            reason: "sent too fast".into()
        }
    );
    assert_eq!(
        line.plain(),
        "!! Not delivered (sent too fast): <alice> two"
    );
    assert!(
        !room.failed(&mut Update::default(), MessageId::next(), "x"),
        "never sent"
    );
    let mut up = Update::default();
    assert_eq!(room.retry(&mut up, two), Some(say("two")));
    assert!(matches!(up.ops.as_slice(), [Op::Remove(_)]));
    assert_eq!(room.retry(&mut Update::default(), two), None, "only once");
    assert_eq!(room.pending(), 1, "one is still on its way");
}

#[test]
fn the_new_messages_line_marks_where_you_left_off_once() {
    let mut room = welcomed(vec![]);
    let mut up = Update::default();
    room.mark_unread(&mut up);
    room.mark_unread(&mut up);
    let marks: Vec<usize> = up
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Insert(i, line) if line.kind == Kind::Marker => Some(*i),
            _ => None,
        })
        .collect();
    assert_eq!(marks.len(), 1, "one line, where you left off");
    let up = room.apply(msg(9, 1, "bob", "while you were away"));
    assert!(matches!(up.ops.as_slice(), [Op::Insert(i, _)] if *i == marks[0] + 1));
    let mut up = Update::default();
    room.clear_unread(&mut up);
    assert_eq!(up.ops, vec![Op::Remove(marks[0])]);
    let mut up = Update::default();
    room.clear_unread(&mut up);
    assert!(up.ops.is_empty());
}
