//! Property tests: whatever the server sends, the terminal client neither panics nor prints
//! anything a terminal would obey, and no line can pass for another kind of line.

use tlschat_strategies as arbitrary;

use proptest::prelude::*;
use tlschat::wire::ServerMsg;

use crate::{editor, render, safe};

/// Lines start with the stamp `[HH:MM:SS] ` or `! `; a message's further lines with the
/// continuation indent, which neither of those does.
fn well_formed(line: &str) -> bool {
    let stamped = line.len() > 11
        && line.starts_with('[')
        && line.get(9..11) == Some("] ")
        && line
            .get(1..9)
            .is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit() || b == b':'));
    stamped || line.starts_with("! ") || line.starts_with(safe::CONTINUATION)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_conversation_renders_inert_and_unforgeable(
        conversation in arbitrary::conversation(),
        me in proptest::option::of(arbitrary::number()),
    ) {
        let mut shown = tlschat::runtime::shown::Shown::default();
        let names = editor::Names::default();
        for msg in conversation {
            let Some(msg) = shown.fresh(msg) else { continue };
            names.observe(&msg);
            let lines = render::server_msg(&msg, me);
            for line in &lines {
                prop_assert!(safe::is_inert(line), "{:?}", line);
                prop_assert!(well_formed(line), "{:?}", line);
            }
            let text = match &msg {
                ServerMsg::Message(m) => Some(&m.message),
                ServerMsg::Private(p) => Some(&p.message),
                _ => None,
            };
            if let Some(text) = text {
                prop_assert_eq!(lines.len(), safe::message_lines(text).len());
                prop_assert!(!lines[0].starts_with(safe::CONTINUATION));
            }
        }
        // What Tab offers comes from the room, whatever the room's names are.
        let room = names.list();
        let (start, candidates) = tlschat::runtime::completion::nickname_completions("a", 1, &room);
        prop_assert_eq!(start, 0);
        for candidate in candidates {
            let offered = room.iter().any(|n| candidate == format!("{n}: "));
            prop_assert!(offered, "{:?} is not in {:?}", candidate, room);
        }
    }

    #[test]
    fn text_is_made_inert(text in arbitrary::text()) {
        let inline = safe::inline(&text);
        prop_assert!(safe::is_inert(&inline));
        for line in safe::message_lines(&text) {
            prop_assert!(safe::is_inert(&line));
        }
    }

    #[test]
    fn completion_takes_any_line_and_cursor(
        line in arbitrary::text(),
        pos in any::<usize>(),
        names in proptest::collection::vec(arbitrary::text(), 0..6),
    ) {
        let (start, candidates) = tlschat::runtime::completion::nickname_completions(&line, pos % (line.len() + 2), &names);
        prop_assert!(start <= line.len());
        for candidate in candidates {
            prop_assert!(names.iter().any(|n| candidate.starts_with(n.as_str())));
        }
    }
}
