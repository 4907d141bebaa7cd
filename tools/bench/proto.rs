//! What differs between the protocols bench speaks, behind one interface: the lines a
//! client sends, and what a line from the server means. The workloads, the accounting and
//! the report are the same for both.

use std::borrow::Cow;

use tlschat::wire::{decode_server, encode, ClientMsg, ServerMsg};

use crate::args::Protocol;
use crate::irc;

/// What a line from the server means to the benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// Logged in and in the room: tlschat's `welcome`; IRC's end of the channel's NAMES.
    InRoom,
    /// A chat message in the room, with its text.
    Message(Cow<'a, str>),
    /// The server refused something; the text says what.
    Refused(String),
    /// The server is closing the connection, for this reason.
    Closing(String),
    /// A line this client cannot read.
    Garbled,
}

/// One connection's protocol state.
#[derive(Debug)]
pub enum ProtocolState {
    Tlschat,
    Irc(irc::IrcState),
}

impl ProtocolState {
    pub fn new(protocol: Protocol) -> ProtocolState {
        match protocol {
            Protocol::Tlschat => ProtocolState::Tlschat,
            Protocol::Irc => ProtocolState::Irc(irc::IrcState::new()),
        }
    }

    /// Handles one line from the server (without its line end); replies go to `out`.
    pub fn handle<'a>(&mut self, line: &'a [u8], out: &mut Vec<u8>) -> Option<Event<'a>> {
        match self {
            ProtocolState::Tlschat => tlschat_line(line, out),
            ProtocolState::Irc(irc) => irc.handle(line, out),
        }
    }
}

fn tlschat_line<'a>(line: &'a [u8], out: &mut Vec<u8>) -> Option<Event<'a>> {
    // Join notices are the bulk of a ramp's traffic: classify by prefix, decode only the
    // few lines that matter.
    if line.starts_with(br#"{"type":"join""#) {
        return None;
    }
    if line.starts_with(br#"{"type":"welcome""#) {
        return Some(Event::InRoom);
    }
    match decode_server(line) {
        Ok(ServerMsg::Message(m)) => Some(Event::Message(Cow::Owned(m.message))),
        Ok(ServerMsg::Ping) => {
            out.extend_from_slice(&encode(&ClientMsg::Pong));
            None
        }
        Ok(ServerMsg::Error { message, .. }) => Some(Event::Refused(message)),
        Ok(ServerMsg::Bye { reason, .. }) => Some(Event::Closing(reason)),
        Ok(_) => None,
        Err(_) => Some(Event::Garbled),
    }
}

impl Protocol {
    /// The first lines a client sends.
    pub fn login(self, nick: &str) -> Vec<u8> {
        match self {
            Protocol::Tlschat => encode(&ClientMsg::Login {
                nickname: nick.into(),
                password: None,
            }),
            Protocol::Irc => irc::register(nick),
        }
    }

    /// A chat message to the room.
    pub fn chat(self, text: &str) -> Vec<u8> {
        match self {
            Protocol::Tlschat => encode(&ClientMsg::Broadcast {
                message: text.into(),
                action: false,
            }),
            Protocol::Irc => irc::privmsg(text),
        }
    }

    /// A keep-alive.
    pub fn ping(self) -> Vec<u8> {
        match self {
            Protocol::Tlschat => encode(&ClientMsg::Ping),
            Protocol::Irc => b"PING :bench\r\n".to_vec(),
        }
    }

    /// The last words before closing.
    pub fn quit(self) -> Vec<u8> {
        match self {
            Protocol::Tlschat => encode(&ClientMsg::Quit { reason: None }),
            Protocol::Irc => b"QUIT :bench done\r\n".to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlschat_lines_mean_the_same_events() {
        let mut s = ProtocolState::new(Protocol::Tlschat);
        let mut out = Vec::new();
        let ping = encode(&ServerMsg::Ping);
        assert_eq!(s.handle(ping.trim_ascii_end(), &mut out), None);
        assert_eq!(out, encode(&ClientMsg::Pong));
        assert_eq!(s.handle(b"not json", &mut out), Some(Event::Garbled));
        assert_eq!(
            s.handle(br#"{"type":"join","id":3,"nickname":"x"}"#, &mut out),
            None
        );
    }

    #[test]
    fn tlschat_server_encodings_match_the_shortcuts() {
        // The join and welcome shortcuts read the start of the line: check it against what
        // the server's encoder writes.
        let mut s = ProtocolState::new(Protocol::Tlschat);
        let mut out = Vec::new();
        let join = encode(&ServerMsg::Join {
            time: "t".into(),
            id: 3,
            nickname: "x".into(),
        });
        assert!(join.starts_with(br#"{"type":"join""#));
        let message = encode(&ServerMsg::Message(tlschat::wire::ChatMessage {
            seq: 1,
            time: "t".into(),
            sender_id: 2,
            sender_nickname: "b2".into(),
            message: "b 2 0 77 x".into(),
            action: false,
        }));
        assert_eq!(
            s.handle(message.trim_ascii_end(), &mut out),
            Some(Event::Message(Cow::Borrowed("b 2 0 77 x")))
        );
        let bye = encode(&ServerMsg::Bye {
            code: tlschat::wire::ByeCode::TooSlow,
            reason: "too slow".into(),
        });
        assert_eq!(
            s.handle(bye.trim_ascii_end(), &mut out),
            Some(Event::Closing("too slow".into()))
        );
        assert!(out.is_empty());
    }

    #[test]
    fn both_protocols_build_their_lines() {
        assert!(Protocol::Irc.login("b1").starts_with(b"NICK b1\r\n"));
        assert_eq!(Protocol::Irc.chat("hi"), b"PRIVMSG #bench :hi\r\n");
        let chat = String::from_utf8(Protocol::Tlschat.chat("hi")).unwrap();
        assert!(chat.contains(r#""message":"hi""#) && chat.ends_with('\n'));
        assert!(Protocol::Irc.ping().ends_with(b"\r\n"));
        assert!(Protocol::Tlschat.quit().ends_with(b"\n"));
    }
}
