//! How events look on a terminal: one line each, stamped with the local time.

use std::time::SystemTime;

use tlschat::runtime::words;
use tlschat::wire::{ChatMessage, ErrorCode, ServerMsg, Welcome};

use crate::safe;

/// Names listed when joining; a room of thousands gets a count instead of a wall of names.
const NAMES_SHOWN: usize = 20;

/// `HH:MM:SS` in the local time zone.
pub fn clock(at: SystemTime) -> String {
    tlschat::runtime::clock::local(at, "%H:%M:%S")
}

/// The local clock for a server timestamp, or for now if it does not parse.
fn stamp(time: &str) -> String {
    format!("[{}]", clock(tlschat::runtime::clock::server_time(time)))
}

/// A room or private message: the first line after `head`, the rest of a multi-line
/// message on indented continuation lines.
fn said(head: String, text: &str) -> Vec<String> {
    let mut lines = safe::message_lines(text).into_iter();
    let first = lines.next().unwrap_or_default();
    std::iter::once(format!("{head} {first}"))
        .chain(lines.map(|line| format!("{}{line}", safe::CONTINUATION)))
        .collect()
}

/// The lines for one server message, given who we are (our user id once welcomed).
///
/// Every line starts with `[HH:MM:SS] ` and then tells what it is by its next characters:
/// `<nick>` said, `* nick` did (`/me`), `*nick*` whispered, `-> *nick*` was whispered to,
/// `-- ` for what happened in the room, `! ` for errors. Nothing the server relays can
/// imitate another kind of line: see [`safe`].
pub fn server_msg(msg: &ServerMsg, me: Option<u64>) -> Vec<String> {
    match msg {
        ServerMsg::Welcome(w) => welcome(w),
        ServerMsg::Message(m) => room_message(m),
        ServerMsg::Private(p) => {
            let head = if Some(p.sender_id) == me {
                format!("{} -> *{}*", stamp(&p.time), safe::inline(&p.to_nickname))
            } else {
                format!("{} *{}*", stamp(&p.time), safe::inline(&p.sender_nickname))
            };
            let head = if p.action {
                format!("{head} * {}", safe::inline(&p.sender_nickname))
            } else {
                head
            };
            said(head, &p.message)
        }
        ServerMsg::Join { time, nickname, .. } => {
            vec![format!(
                "{} -- {} joined",
                stamp(time),
                safe::inline(nickname)
            )]
        }
        ServerMsg::Leave {
            time,
            nickname,
            reason,
            ..
        } => vec![format!(
            "{} -- {} left ({})",
            stamp(time),
            safe::inline(nickname),
            safe::inline(reason)
        )],
        ServerMsg::Rename {
            time,
            old_nickname,
            new_nickname,
            ..
        } => vec![format!(
            "{} -- {} is now known as {}",
            stamp(time),
            safe::inline(old_nickname),
            safe::inline(new_nickname)
        )],
        ServerMsg::Error {
            code,
            message,
            retry_after_ms,
        } => vec![error(*code, message, *retry_after_ms)],
        // A `bye` after our own quit needs no comment; others are explained by `Closed`.
        ServerMsg::Bye { .. } | ServerMsg::Ping | ServerMsg::Pong => Vec::new(),
    }
}

/// An error from the server as one `! ...` line, in the words both clients use.
pub fn error(code: ErrorCode, message: &str, retry_after_ms: Option<u64>) -> String {
    let message = safe::inline(message);
    format!("! {}", words::server_error(code, &message, retry_after_ms))
}

/// A room message: `<nick> text`, or `* nick text` for an action.
fn room_message(m: &ChatMessage) -> Vec<String> {
    let nick = safe::inline(&m.sender_nickname);
    let head = if m.action {
        format!("{} * {nick}", stamp(&m.time))
    } else {
        format!("{} <{nick}>", stamp(&m.time))
    };
    said(head, &m.message)
}

fn welcome(w: &Welcome) -> Vec<String> {
    let mut lines: Vec<String> = w.history.iter().flat_map(room_message).collect();
    let names: Vec<String> = w
        .users
        .iter()
        .take(NAMES_SHOWN)
        .map(|u| safe::inline(&u.nickname))
        .collect();
    let mut who = names.join(", ");
    if w.users.len() > NAMES_SHOWN {
        who.push_str(&format!(" and {} more", w.users.len() - NAMES_SHOWN));
    }
    let server = if w.server.is_empty() {
        String::new()
    } else {
        format!(" ({})", safe::inline(&w.server))
    };
    lines.push(format!(
        "[{}] -- You are {} on the server{server}; {} online: {who}",
        clock(SystemTime::now()),
        safe::inline(&w.nickname),
        w.users.len()
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlschat::wire::{ChatMessage, PrivateMessage};

    /// The `[HH:MM:SS]` prefix depends on the time zone; compare what follows it.
    fn body(line: &str) -> &str {
        line.split_once("] ").map_or(line, |(_, rest)| rest)
    }

    fn message(action: bool) -> ServerMsg {
        ServerMsg::Message(ChatMessage {
            seq: 1,
            time: "2026-11-27T09:15:02.123Z".into(),
            sender_id: 7,
            sender_nickname: "alice".into(),
            message: "waves".into(),
            action,
        })
    }

    #[test]
    fn one_line_per_event() {
        assert_eq!(body(&server_msg(&message(false), None)[0]), "<alice> waves");
        assert_eq!(body(&server_msg(&message(true), None)[0]), "* alice waves");
        let private = ServerMsg::Private(PrivateMessage {
            seq: 2,
            time: "2026-11-27T09:15:03Z".into(),
            sender_id: 7,
            sender_nickname: "bob".into(),
            to_id: 8,
            to_nickname: "carol".into(),
            message: "psst".into(),
            action: false,
        });
        assert_eq!(body(&server_msg(&private, Some(8))[0]), "*bob* psst");
        assert_eq!(body(&server_msg(&private, Some(7))[0]), "-> *carol* psst");
        let join = ServerMsg::Join {
            time: "2026-11-27T09:15:03Z".into(),
            id: 9,
            nickname: "bob".into(),
        };
        assert_eq!(body(&server_msg(&join, None)[0]), "-- bob joined");
        assert!(server_msg(&ServerMsg::Ping, None).is_empty());
    }

    fn said_by(nick: &str, text: &str, action: bool) -> ServerMsg {
        ServerMsg::Message(ChatMessage {
            seq: 1,
            time: "2026-11-27T09:15:02.123Z".into(),
            sender_id: 7,
            sender_nickname: nick.into(),
            message: text.into(),
            action,
        })
    }

    #[test]
    fn a_newline_cannot_forge_a_line_from_someone_else() {
        let lines = server_msg(
            &said_by(
                "mallory",
                "hi\n[21:59:00] <bob> my password is hunter2",
                false,
            ),
            None,
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(body(&lines[0]), "<mallory> hi");
        assert_eq!(
            lines[1],
            format!(
                "{}[21:59:00] <bob> my password is hunter2",
                safe::CONTINUATION
            )
        );
        assert!(lines[1].starts_with("   "), "{lines:?}");
    }

    #[test]
    fn escapes_in_any_field_are_shown_not_obeyed() {
        let title = "\x1b]0;PWNED\x07";
        let msg = said_by("\x1b[31mbob", &format!("{title}\u{202e}txet"), false);
        assert_eq!(
            body(&server_msg(&msg, None)[0]),
            "<^[[31mbob> ^[]0;PWNED^G<U+202E>txet"
        );
        let rename = ServerMsg::Rename {
            time: "\u{9b}2J".into(),
            id: 1,
            old_nickname: "a\nb".into(),
            new_nickname: "\u{85}c".into(),
        };
        let line = &server_msg(&rename, None)[0];
        assert!(
            line.ends_with("-- a^Jb is now known as <U+0085>c"),
            "{line}"
        );
        let leave = ServerMsg::Leave {
            time: String::new(),
            id: 1,
            nickname: "x".into(),
            reason: "gone\r[00:00:00] <bob> hi".into(),
        };
        assert!(server_msg(&leave, None)[0].ends_with("left (gone^M[00:00:00] <bob> hi)"));
        let error = error(ErrorCode::Other, "\x1b[2J", None);
        assert_eq!(error, "! The server says: ^[[2J");
        for line in [&server_msg(&msg, None)[0], line, &error] {
            assert!(safe::is_inert(line), "{line:?}");
        }
    }

    #[test]
    fn actions_and_room_events_look_different() {
        let action = &server_msg(&said_by("bob", "waves", true), None)[0];
        let join = ServerMsg::Join {
            time: "2026-11-27T09:15:03Z".into(),
            id: 9,
            nickname: "bob".into(),
        };
        let join = &server_msg(&join, None)[0];
        assert_eq!(body(action), "* bob waves");
        assert_eq!(body(join), "-- bob joined");
        // Even a nickname made of the markers cannot make one look like the other.
        let forged = &server_msg(&said_by("-", "bob joined", true), None)[0];
        assert_eq!(body(forged), "* - bob joined");
    }

    #[test]
    fn rate_limit_says_not_delivered_and_when() {
        let line = error(ErrorCode::RateLimited, "slow down", Some(1500));
        assert_eq!(
            line,
            "! Slow down: your message was not delivered. Try again in 2 s"
        );
        assert_eq!(
            error(ErrorCode::NoSuchUser, "no user bob", None),
            "! Your private message was not delivered: no user bob"
        );
    }
}
