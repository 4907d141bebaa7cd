//! Property tests: whatever the server sends, the model neither panics nor describes a list
//! the view could not apply (issue 9, item 9). Kept in its own file, apart from the model's
//! other tests.

use tlschat_strategies as arbitrary;

use proptest::prelude::*;
use tlschat::wire::ServerMsg;

use super::room::Op;
use super::text::{colour_index, mentions, spans, Span};
use super::{Completer, Line, Room};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_conversation_keeps_the_list_consistent(
        conversation in arbitrary::conversation(),
        requested in arbitrary::text(),
        sent_password in any::<bool>(),
    ) {
        let mut room = Room::default();
        room.requested_nickname = requested;
        room.sent_password = sent_password;
        // The list as the view holds it, changed only by the model's operations.
        let mut list: Vec<Line> = Vec::new();
        for msg in conversation {
            if let ServerMsg::Error { code, message, retry_after_ms } = &msg {
                let _ = room.describe_error(*code, message, *retry_after_ms);
            }
            let update = room.apply(msg);
            for op in update.ops {
                match op {
                    Op::Insert(index, line) => {
                        prop_assert!(index <= list.len(), "insert at {} of {}", index, list.len());
                        list.insert(index, line);
                    }
                    Op::DropFront(n) => {
                        prop_assert!(n <= list.len());
                        list.drain(..n);
                    }
                    // Kinds of operation added since this test was written: give their
                    // index checks an arm here.
                    #[allow(unreachable_patterns)]
                    _ => {}
                }
            }
            let _ = (room.nicknames(), room.users());
        }
        for line in &list {
            let _ = line.plain();
            let _ = colour_index(&line.sender);
            let _ = mentions(&line.text, &line.sender);
            // Links and plain runs together are the text, in order.
            let joined: String = spans(&line.text)
                .into_iter()
                .map(|s| match s {
                    Span::Text(t) | Span::Link(t) => t,
                })
                .collect();
            prop_assert_eq!(joined, line.text.clone());
        }
        room.disconnected();
    }

    #[test]
    fn completion_takes_any_text_and_cursor(
        text in arbitrary::text(),
        cursor in any::<usize>(),
        names in proptest::collection::vec(arbitrary::text(), 0..6),
    ) {
        let mut completer = Completer::default();
        let mut state = Some((text, cursor % 64));
        for _ in 0..3 {
            let Some((text, cursor)) = state else { break };
            state = completer.complete(&text, cursor, &names);
            if let Some((text, cursor)) = &state {
                prop_assert!(text.is_char_boundary(*cursor));
            }
        }
    }
}
