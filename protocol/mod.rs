//! The tlschat wire protocol, shared by the server, the GTK client and every tool.
//!
//! Inside TLS, each side sends one JSON object per line (UTF-8, `\n`-terminated, at most
//! [`MAX_LINE`] bytes). Every object has a `type` field. [`ClientMsg`] is what a client sends,
//! [`ServerMsg`] what the server sends; together they are the documentation of the format, and
//! PROTOCOL.md explains it for people writing other clients.
//!
//! Besides the wire types this crate holds what every side needs to speak it:
//! [`framing`] splits a byte stream into lines; [`pipe`] and [`mailbox`] let one thread own a
//! TLS stream while another reads its socket; [`connect`] opens a verified client connection,
//! [`client`] runs one, and [`reconnect`] brings it back; [`time`] and [`certs`] format the
//! server clock and certificate fingerprints.

pub mod address;
pub mod args;
pub mod certs;
pub mod client;
pub mod confirm;
pub mod connect;
pub mod framing;
pub mod limits;
pub mod mailbox;
pub mod nickname;
pub mod pacing;
pub mod pipe;
pub mod reconnect;
pub mod time;

use serde::{Deserialize, Serialize};

pub use nickname::{
    nickname_key, nickname_skeleton, normalize_nickname, validate_nickname, NicknameError,
};

/// Protocol version, sent in `welcome` so clients can adapt.
pub const PROTOCOL_VERSION: u32 = 1;
/// Default TCP port of the server.
pub const DEFAULT_PORT: u16 = 8888;
/// Longest line a client may send, in bytes, excluding the `\n`.
pub const MAX_LINE: usize = 16 * 1024;
/// Longest line a client must accept from the server: `welcome` carries the user list and
/// the recent history, so it can be far longer than any client line.
pub const MAX_SERVER_LINE: usize = 64 * 1024 * 1024;
/// Longest nickname, in characters.
pub const MAX_NICKNAME_CHARS: usize = 32;
/// Longest message text, in characters, after trimming.
pub const MAX_MESSAGE_CHARS: usize = 4000;

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

/// Stable machine-readable error codes. Clients must treat an unknown code like `other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The line is not a JSON object.
    BadJson,
    /// A JSON object with a known `type` but missing or mistyped fields.
    BadMessage,
    /// A `type` this server does not know.
    UnknownType,
    /// The line is longer than [`MAX_LINE`] bytes (the connection is then closed).
    LineTooLong,
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// Only `login`, `ping` and `quit` are allowed before logging in.
    NotLoggedIn,
    NicknameInvalid,
    NicknameTaken,
    /// Empty message text.
    MessageEmpty,
    MessageTooLong,
    /// Flood control: wait `retry_after_ms` before sending again. Nothing was delivered.
    RateLimited,
    NoSuchUser,
    AuthFailed,
    ServerFull,
    /// Too many users are already logged in from the client's address.
    TooManyConnections,
    /// The peer spoke plain text to the TLS port.
    TlsRequired,
    /// The server could not carry out a valid request (for example it could not save a
    /// message to disk); nothing was delivered.
    ServerError,
    /// Any code this build does not know.
    #[serde(other)]
    Other,
}

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ByeCode {
    /// The client sent `quit`.
    Quit,
    ShuttingDown,
    /// The client did not read fast enough and its queue overflowed.
    TooSlow,
    /// Nothing was received for too long.
    Idle,
    /// No `login` arrived in time.
    LoginTimeout,
    /// The client broke the protocol (for example an over-long line).
    ProtocolError,
    /// Too many rejected messages in a row (flooding).
    Flooding,
    /// The same user resumed on another connection.
    Replaced,
    /// Login was refused (wrong password, room full); the `error` before it says why.
    Refused,
    #[serde(other)]
    Other,
}

impl ByeCode {
    /// Whether a client should come back by itself after this goodbye (PROTOCOL.md, "Bye
    /// codes"): not when it left, was refused, moved elsewhere, or would only offend again.
    pub fn invites_reconnect(self) -> bool {
        !matches!(
            self,
            ByeCode::Quit
                | ByeCode::Refused
                | ByeCode::Replaced
                | ByeCode::Flooding
                | ByeCode::ProtocolError
        )
    }
}

fn is_false(b: &bool) -> bool {
    !*b
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

/// Serializes any wire message as one line, `\n` included.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail: they hold only strings, numbers and bools.
    let mut line = serde_json::to_vec(msg).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    line
}

/// Why a line could not be decoded, with the code to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub code: ErrorCode,
    pub detail: String,
}

/// Decodes one line (without its `\n`) sent by a client.
pub fn decode_client(line: &[u8]) -> Result<ClientMsg, DecodeError> {
    decode(
        line,
        &[
            "login",
            "resume",
            "broadcast",
            "private",
            "quit",
            "ping",
            "pong",
        ],
    )
}

/// Decodes one line (without its `\n`) sent by the server.
pub fn decode_server(line: &[u8]) -> Result<ServerMsg, DecodeError> {
    decode(
        line,
        &[
            "welcome", "message", "private", "join", "leave", "rename", "error", "bye", "pong",
            "ping",
        ],
    )
}

fn decode<T: serde::de::DeserializeOwned>(line: &[u8], known: &[&str]) -> Result<T, DecodeError> {
    let text = std::str::from_utf8(line).map_err(|e| DecodeError {
        code: ErrorCode::InvalidUtf8,
        detail: format!("the line is not valid UTF-8 ({e})"),
    })?;
    match serde_json::from_str::<T>(text) {
        Ok(msg) => Ok(msg),
        // Only on the error path do we look closer, to give the most useful code.
        Err(err) => Err(classify(text, known, err)),
    }
}

fn classify(text: &str, known: &[&str], err: serde_json::Error) -> DecodeError {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return DecodeError {
                code: ErrorCode::BadJson,
                detail: format!("the line is not valid JSON ({e})"),
            }
        }
    };
    let Some(object) = value.as_object() else {
        return DecodeError {
            code: ErrorCode::BadJson,
            detail: "expected a JSON object".into(),
        };
    };
    match object.get("type").and_then(|t| t.as_str()) {
        None => DecodeError {
            code: ErrorCode::BadMessage,
            detail: "the object has no \"type\" string".into(),
        },
        Some(t) if !known.contains(&t) => DecodeError {
            code: ErrorCode::UnknownType,
            detail: format!("unknown message type {t:?}"),
        },
        Some(t) => DecodeError {
            code: ErrorCode::BadMessage,
            detail: format!("bad {t:?} message: {err}"),
        },
    }
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

#[cfg(test)]
mod tests;
