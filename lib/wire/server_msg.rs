//! What the server sends (PROTOCOL.md, "Server → client").

use serde::{Deserialize, Serialize};

use super::client_msg::is_false;
use super::codec::encode;
use super::codes::{ByeCode, ErrorCode};

/// One user as listed in `welcome`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub nickname: String,
}

/// A room message as broadcast and as kept in history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Room-wide sequence number: strictly increasing, not necessarily contiguous.
    pub seq: u64,
    /// Server clock, RFC 3339 UTC.
    pub time: String,
    pub sender_id: u64,
    pub sender_nickname: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub action: bool,
}

/// A private message, delivered to its recipient and echoed to its sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateMessage {
    pub seq: u64,
    pub time: String,
    pub sender_id: u64,
    pub sender_nickname: String,
    pub to_id: u64,
    pub to_nickname: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub action: bool,
}

/// The answer to a successful first `login`. `H` is how the history is held: parsed
/// messages for clients; the server splices in its stored lines (see [`Welcome::encode`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome<H = ChatMessage> {
    pub id: u64,
    pub nickname: String,
    /// Everyone online, this user included, in order of arrival.
    pub users: Vec<User>,
    /// The room's most recent messages, oldest first.
    pub history: Vec<H>,
    #[serde(default)]
    pub protocol: u32,
    /// Server name and version, for display.
    #[serde(default)]
    pub server: String,
    /// Secret for `resume`: keep it to reclaim this identity after a dropped connection.
    #[serde(default)]
    pub resume_token: String,
    /// True when a `resume` reclaimed an earlier identity (the room saw no leave or join).
    #[serde(default, skip_serializing_if = "is_false")]
    pub resumed: bool,
    /// After a `resume`: how many missed messages follow this welcome, as `message` lines.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replay: u64,
    /// After a `resume`: messages in this range are no longer kept and cannot be replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<SeqRange>,
    /// Flood control: messages per second this user may send, after `burst` at once.
    /// Absent when the server has none (or predates the field): then nothing is paced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<f64>,
}

/// An inclusive range of sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqRange {
    pub from: u64,
    pub to: u64,
}

/// One message from the server to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    Welcome(Welcome),
    Message(ChatMessage),
    Private(PrivateMessage),
    /// Someone entered the room.
    Join {
        time: String,
        id: u64,
        nickname: String,
    },
    /// Someone left the room; `reason` is for people ("quit", "connection lost", ...).
    Leave {
        time: String,
        id: u64,
        nickname: String,
        reason: String,
    },
    /// Someone changed nickname (sent to the renamer too).
    Rename {
        time: String,
        id: u64,
        old_nickname: String,
        new_nickname: String,
    },
    /// A request could not be carried out; the connection stays open unless `bye` follows.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// The server is about to close this connection on purpose.
    Bye {
        code: ByeCode,
        reason: String,
    },
    /// Answer to a client `ping`.
    Pong,
    /// Keep-alive from the server; answer with `pong` (any line will do).
    Ping,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl<H: Serialize> Welcome<H> {
    /// The `welcome` line, `\n` included: the bytes [`encode`] gives for
    /// `ServerMsg::Welcome`, whatever form the history is in (the server's is
    /// `serde_json::value::RawValue`, its stored lines spliced in without parsing them).
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Line<'a, H> {
            Welcome(&'a Welcome<H>),
        }
        encode(&Line::Welcome(self))
    }
}

impl ServerMsg {
    /// Convenience constructor for an `error` message.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> ServerMsg {
        ServerMsg::Error {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }
}
