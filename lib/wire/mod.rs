//! The tlschat wire protocol: the contract with every client, ours and others'.
//!
//! Inside TLS, each side sends one JSON object per line (UTF-8, `\n`-terminated, at most
//! [`MAX_LINE`] bytes). Every object has a `type` field. The modules follow PROTOCOL.md
//! section by section:
//!
//! | PROTOCOL.md | here |
//! |---|---|
//! | Transport | the constants below, [`framing`] (lines), [`codec`] (JSON per line) |
//! | Client → server, Rules | [`client_msg`], [`nickname`] |
//! | Server → client | [`server_msg`], [`time`] (the `time` fields) |
//! | Error codes, Bye codes | [`codes`] |
//!
//! The types are the documentation of the format; PROTOCOL.md explains it for people writing
//! other clients.

pub mod client_msg;
pub mod codec;
pub mod codes;
pub mod framing;
pub mod nickname;
pub mod server_msg;
pub mod time;

pub use client_msg::{validate_message, ClientMsg};
pub use codec::{decode_client, decode_server, encode, DecodeError};
pub use codes::{ByeCode, ErrorCode};
pub use framing::Frame;
pub use nickname::{
    nickname_key, nickname_skeleton, normalize_nickname, validate_nickname, NicknameError,
};
pub use server_msg::{ChatMessage, PrivateMessage, SeqRange, ServerMsg, User, Welcome};

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

#[cfg(test)]
mod tests;
