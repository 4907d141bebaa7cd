//! One JSON object per line (PROTOCOL.md, "Transport"): encoding, and decoding with the
//! error code a bad line deserves.

use serde::Serialize;

use super::client_msg::ClientMsg;
use super::codes::ErrorCode;
use super::server_msg::ServerMsg;

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
