//! How a connection ended: one value that the log line and the room's `leave` notice are
//! both made from, so that no reason is a string compared somewhere else.

use std::fmt;
use std::io;

use tlschat::wire::ByeCode;

use crate::handshake::HandshakeFailure;

/// Why a user's connection ended. Its [`Display`](fmt::Display) is the `reason` of the
/// room's `leave` notice, so the words are part of the protocol's contract with people
/// (PROTOCOL.md lists `quit`, `connection lost`, `too slow`).
#[derive(Debug)]
pub enum Ending {
    /// The user sent `quit`.
    Quit,
    /// No `login` before the login deadline.
    LoginTimeout,
    /// Silent through a `ping` and the idle timeout after it.
    Idle,
    /// A line longer than the protocol allows.
    LineTooLong,
    /// Too many rejected messages in a row.
    Flooding,
    /// The first `login` or `resume` was refused; the words the peer was given.
    Refused(String),
    /// Its queue passed the send budget.
    TooSlow,
    /// The server closed it from another thread: replaced by a `resume`, or shutting down.
    ClosedByServer,
    /// The connection was lost; how, when known.
    Lost(Option<Loss>),
    /// The peer closed the connection without `quit`.
    PeerClosed,
    /// TLS failed on an established connection.
    Tls(String),
}

/// How a connection was lost.
#[derive(Debug)]
pub enum Loss {
    /// Sending failed: the peer stopped taking bytes.
    StoppedReceiving,
    /// Reading or waiting failed.
    Io(io::Error),
}

impl Ending {
    /// The connection was lost rather than closed on purpose: the user may come back, so
    /// the room keeps its place for a while.
    pub fn dropped(&self) -> bool {
        matches!(
            self,
            Ending::Idle | Ending::Lost(_) | Ending::PeerClosed | Ending::Tls(_)
        )
    }

    /// The `bye` the server says before closing, when it closes on purpose.
    pub fn bye(&self) -> Option<ByeCode> {
        match self {
            Ending::Quit => Some(ByeCode::Quit),
            Ending::LoginTimeout => Some(ByeCode::LoginTimeout),
            Ending::Idle => Some(ByeCode::Idle),
            Ending::LineTooLong => Some(ByeCode::ProtocolError),
            Ending::Flooding => Some(ByeCode::Flooding),
            Ending::Refused(_) => Some(ByeCode::Refused),
            Ending::TooSlow
            | Ending::ClosedByServer
            | Ending::Lost(_)
            | Ending::PeerClosed
            | Ending::Tls(_) => None,
        }
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Quit => f.write_str("quit"),
            Ending::LoginTimeout => f.write_str("no login in time"),
            Ending::Idle => f.write_str("idle for too long"),
            Ending::LineTooLong => f.write_str("line too long"),
            Ending::Flooding => f.write_str("too many rejected messages"),
            Ending::Refused(message) => f.write_str(message),
            Ending::TooSlow => f.write_str("too slow"),
            Ending::ClosedByServer => f.write_str("closed by the server"),
            Ending::Lost(None) => f.write_str("connection lost"),
            Ending::Lost(Some(Loss::StoppedReceiving)) => {
                f.write_str("connection lost (the peer stopped receiving)")
            }
            Ending::Lost(Some(Loss::Io(e))) => {
                write!(
                    f,
                    "connection lost ({})",
                    tlschat::describe::io_error(e, "client")
                )
            }
            Ending::PeerClosed => f.write_str("connection closed"),
            Ending::Tls(detail) => write!(f, "TLS error ({detail})"),
        }
    }
}

/// What became of one connection, for its last log line.
#[derive(Debug)]
pub enum Outcome {
    /// It never completed the TLS handshake.
    NoHandshake(HandshakeFailure),
    /// It arrived while the server was shutting down.
    TurnedAway,
    /// It ended before a successful `login` or `resume`.
    BeforeLogin(Ending),
    /// A user's connection ended (they left, or dropped and may come back).
    Ended {
        id: u64,
        nickname: String,
        ending: Ending,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::NoHandshake(failure) => failure.fmt(f),
            Outcome::TurnedAway => f.write_str("turned away: shutting down"),
            Outcome::BeforeLogin(ending) => write!(f, "closed before login: {ending}"),
            Outcome::Ended {
                id,
                nickname,
                ending,
            } => {
                let how = if ending.dropped() { "dropped" } else { "left" };
                write!(f, "{nickname} (#{id}) {how}: {ending}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_before() {
        // These words reach people in `leave` notices; clients and tests match some of them.
        assert_eq!(Ending::TooSlow.to_string(), "too slow");
        assert_eq!(Ending::Lost(None).to_string(), "connection lost");
        assert_eq!(Ending::Quit.to_string(), "quit");
        assert_eq!(
            Ending::Lost(Some(Loss::StoppedReceiving)).to_string(),
            "connection lost (the peer stopped receiving)"
        );
        let user = |ending| Outcome::Ended {
            id: 7,
            nickname: "alice".into(),
            ending,
        };
        assert_eq!(user(Ending::Quit).to_string(), "alice (#7) left: quit");
        assert_eq!(
            user(Ending::Idle).to_string(),
            "alice (#7) dropped: idle for too long"
        );
        assert_eq!(
            Outcome::BeforeLogin(Ending::LoginTimeout).to_string(),
            "closed before login: no login in time"
        );
    }

    #[test]
    fn only_purposeful_endings_say_bye() {
        assert_eq!(Ending::Flooding.bye(), Some(ByeCode::Flooding));
        assert_eq!(Ending::LineTooLong.bye(), Some(ByeCode::ProtocolError));
        assert!(Ending::PeerClosed.bye().is_none());
        assert!(Ending::PeerClosed.dropped() && !Ending::Quit.dropped());
    }
}
