//! What a client sends (PROTOCOL.md, "Client → server" and its "Rules").

use serde::{Deserialize, Serialize};

use super::codes::ErrorCode;
use super::MAX_MESSAGE_CHARS;

/// One message from a client to the server.
///
/// Fields a client adds beyond these (such as the `sender_id` the original Python client
/// sent) are ignored: identity always comes from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Join the room, or on a live connection change nickname.
    Login {
        nickname: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
    /// Come back after a dropped connection: reclaim the nickname and id that `token` (from
    /// `welcome`) stands for, and receive every retained message after `last_seq`. If the
    /// token has expired this works as a `login` with `nickname` (and `password`).
    Resume {
        token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<u64>,
        nickname: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password: Option<String>,
    },
    /// A message to everyone in the room. `action` marks an IRC-style `/me` action.
    Broadcast {
        message: String,
        #[serde(default, skip_serializing_if = "is_false")]
        action: bool,
    },
    /// A message to one user, by nickname.
    Private {
        to: String,
        message: String,
        #[serde(default, skip_serializing_if = "is_false")]
        action: bool,
    },
    /// Leave the room; the server answers `bye` and closes.
    Quit {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Keep-alive; the server answers `pong`.
    Ping,
    /// Answer to a server `ping`.
    Pong,
}

/// Checks message text and returns it trimmed.
pub fn validate_message(text: &str) -> Result<&str, (ErrorCode, String)> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err((ErrorCode::MessageEmpty, "the message is empty".into()));
    }
    if trimmed.chars().count() > MAX_MESSAGE_CHARS {
        return Err((
            ErrorCode::MessageTooLong,
            format!("a message is at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(trimmed)
}

pub(super) fn is_false(b: &bool) -> bool {
    !*b
}
