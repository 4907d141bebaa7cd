//! What each error and bye code means (PROTOCOL.md, "Error codes" and "Bye codes").

use serde::{Deserialize, Serialize};

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
    /// Only `login`, `resume`, `ping`, `pong` and `quit` are allowed before logging in.
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

impl ErrorCode {
    /// Whether this error refuses a `login` (PROTOCOL.md, "Error codes"): before a first
    /// login succeeds, the server follows it with `bye` `refused`.
    pub fn refuses_login(self) -> bool {
        matches!(
            self,
            ErrorCode::NicknameInvalid
                | ErrorCode::NicknameTaken
                | ErrorCode::AuthFailed
                | ErrorCode::ServerFull
                | ErrorCode::TooManyConnections
        )
    }

    /// Whether the server sends this instead of delivering a chat message, which then
    /// reached nobody: every chat message is answered by its echo or by one of these.
    pub fn refuses_message(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited
                | ErrorCode::MessageEmpty
                | ErrorCode::MessageTooLong
                | ErrorCode::NoSuchUser
                | ErrorCode::NotLoggedIn
                | ErrorCode::ServerError
        )
    }
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
