//! The sentences both clients show about what happened to a message or a request, written
//! once so that the window and the terminal say the same thing. Each front end adds only
//! its own instructions ("press Retry", "/retry sends it again") and its own decoration.

use std::time::Duration;

use crate::wire::{ClientMsg, ErrorCode, MAX_MESSAGE_CHARS};

/// Why messages still unanswered when the connection dropped are reported as not delivered.
pub const CONNECTION_DROPPED: &str = "the connection dropped";

/// Why a connection ended when this side ended it (the user quit, or the client gave up on
/// the attempt): the front ends show no reason for it.
pub const DISCONNECTED: &str = "Disconnected";

/// The answer to `/retry` when nothing failed.
pub const NOTHING_TO_RETRY: &str = "Nothing to send again: no message failed to arrive";

/// A chat message as the user typed it, to show it again when it was not delivered: `/me`
/// and `/msg` included, so that sending the text again does the same thing.
pub fn unsent_text(msg: &ClientMsg) -> Option<String> {
    match msg {
        ClientMsg::Broadcast { message, action } if *action => Some(format!("/me {message}")),
        ClientMsg::Broadcast { message, .. } => Some(message.clone()),
        ClientMsg::Private { to, message, .. } => Some(format!("/msg {to} {message}")),
        _ => None,
    }
}

/// "Not delivered (why): what was typed", for a message that did not reach the room.
pub fn not_delivered(msg: &ClientMsg, why: &str) -> Option<String> {
    unsent_text(msg).map(|text| format!("Not delivered ({why}): {text}"))
}

/// Why the server refused a message, short enough for the line under it.
pub fn refusal_reason(code: ErrorCode, message: &str) -> String {
    match code {
        ErrorCode::RateLimited => "sent too fast".into(),
        ErrorCode::MessageTooLong => format!("longer than {MAX_MESSAGE_CHARS} characters"),
        ErrorCode::MessageEmpty => "nothing to send".into(),
        ErrorCode::NoSuchUser => message.to_string(),
        ErrorCode::NotLoggedIn => "not logged in".into(),
        _ => format!("the server said: {message}"),
    }
}

/// One sentence for an `error` the server sent that no sent message explains; login errors
/// that need to know what the user typed are worded by the front end, which knows.
pub fn server_error(code: ErrorCode, message: &str, retry_after_ms: Option<u64>) -> String {
    match code {
        ErrorCode::RateLimited => {
            let secs = retry_after_ms.unwrap_or(1000).div_ceil(1000).max(1);
            format!("Slow down: your message was not delivered. Try again in {secs} s")
        }
        ErrorCode::MessageTooLong => format!(
            "Your message was not delivered: it is longer than {MAX_MESSAGE_CHARS} characters"
        ),
        ErrorCode::MessageEmpty => "An empty message was not sent".into(),
        ErrorCode::NoSuchUser => format!("Your private message was not delivered: {message}"),
        ErrorCode::ServerFull => format!("The room is full: {message}"),
        _ => format!("The server says: {message}"),
    }
}

/// A delay for people: `0.7 s`, `3.2 s`, `42 s`.
pub fn delay(delay: Duration) -> String {
    let secs = delay.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.1} s")
    } else {
        format!("{secs:.0} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsent_messages_read_as_typed() {
        let action = ClientMsg::Broadcast {
            message: "waves".into(),
            action: true,
        };
        assert_eq!(
            not_delivered(&action, CONNECTION_DROPPED).as_deref(),
            Some("Not delivered (the connection dropped): /me waves")
        );
        let private = ClientMsg::Private {
            to: "bob".into(),
            message: "hi".into(),
            action: false,
        };
        assert_eq!(unsent_text(&private).as_deref(), Some("/msg bob hi"));
        assert_eq!(unsent_text(&ClientMsg::Ping), None);
    }

    #[test]
    fn errors_say_what_happened() {
        assert_eq!(
            server_error(ErrorCode::RateLimited, "slow down", Some(1500)),
            "Slow down: your message was not delivered. Try again in 2 s"
        );
        assert_eq!(
            server_error(ErrorCode::Other, "odd", None),
            "The server says: odd"
        );
        assert_eq!(
            refusal_reason(ErrorCode::NoSuchUser, "no user called dora"),
            "no user called dora"
        );
    }

    #[test]
    fn delays_read_like_speech() {
        assert_eq!(delay(Duration::from_millis(700)), "0.7 s");
        assert_eq!(delay(Duration::from_millis(42_400)), "42 s");
    }
}
