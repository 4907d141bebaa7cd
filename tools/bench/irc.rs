//! The little of IRC (RFC 1459/2812) that a benchmark client needs: register, join one
//! channel, send and receive PRIVMSG, answer PING.
//!
//! ```text
//!   client: NICK b7, USER b7 0 * :…  ──▶ server
//!   server: 001 (registered)          ──▶ client: JOIN #bench
//!   server: JOIN, 353 names…, 366     ──▶ client is in the room
//!   server: :b3!~b3@host PRIVMSG #bench :text ──▶ a delivery
//!   server: PING :token               ──▶ client: PONG :token
//! ```

use std::borrow::Cow;

use crate::proto::Event;

/// The one channel every bench client joins.
pub const CHANNEL: &str = "#bench";

/// One line from the server, split into its parts. Borrowed from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// Who sent it (`nick!user@host` or a server name), without the `:`.
    pub prefix: Option<&'a str>,
    /// A command word (`PRIVMSG`) or a three-digit numeric (`001`).
    pub command: &'a str,
    /// Parameters; the last one may be the text after ` :`, spaces included.
    pub params: Vec<&'a str>,
}

/// Splits a line (without its CR LF); `None` if it has no command.
pub fn parse(line: &str) -> Option<Line<'_>> {
    let mut rest = line;
    // IRCv3 message tags come first; bench asks for no capabilities, but a server may still
    // send them, and they say nothing bench needs.
    if rest.starts_with('@') {
        rest = rest.split_once(' ').map_or("", |(_, r)| r);
    }
    rest = rest.trim_start_matches(' ');
    let mut prefix = None;
    if let Some(after) = rest.strip_prefix(':') {
        let (p, r) = after.split_once(' ')?;
        prefix = Some(p);
        rest = r;
    }
    let mut params = Vec::new();
    let mut command = None;
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        if command.is_some() {
            if let Some(trailing) = rest.strip_prefix(':') {
                params.push(trailing);
                break;
            }
        }
        let (word, r) = rest.split_once(' ').unwrap_or((rest, ""));
        match command {
            None => command = Some(word),
            Some(_) => params.push(word),
        }
        rest = r;
    }
    Some(Line {
        prefix,
        command: command?,
        params,
    })
}

/// Where a client is in registering and joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// NICK and USER sent; waiting for 001.
    Registering,
    /// JOIN sent; waiting for the end of the channel's NAMES list.
    Joining,
    InRoom,
}

/// One client's side of the conversation.
#[derive(Debug)]
pub struct IrcState {
    state: State,
}

impl Default for IrcState {
    fn default() -> Self {
        IrcState::new()
    }
}

impl IrcState {
    pub fn new() -> IrcState {
        IrcState {
            state: State::Registering,
        }
    }

    /// Handles one line from the server; replies (JOIN, PONG) go to `out`.
    pub fn handle<'a>(&mut self, raw: &'a [u8], out: &mut Vec<u8>) -> Option<Event<'a>> {
        let Ok(text) = std::str::from_utf8(raw) else {
            return Some(Event::Garbled);
        };
        let Some(line) = parse(text) else {
            return Some(Event::Garbled);
        };
        let first = line.params.first().copied();
        match line.command {
            "PING" => {
                out.extend_from_slice(format!("PONG :{}\r\n", first.unwrap_or("")).as_bytes());
                None
            }
            "001" if self.state == State::Registering => {
                self.state = State::Joining;
                out.extend_from_slice(format!("JOIN {CHANNEL}\r\n").as_bytes());
                None
            }
            "366" if self.state == State::Joining && is_channel(line.params.get(1)) => {
                self.state = State::InRoom;
                Some(Event::InRoom)
            }
            "PRIVMSG" if is_channel(first.as_ref()) => line
                .params
                .get(1)
                .map(|text| Event::Message(Cow::Borrowed(*text))),
            "ERROR" => Some(Event::Closing(first.unwrap_or("").to_string())),
            numeric if is_error_numeric(numeric) => Some(Event::Refused(format!(
                "{numeric} {}",
                line.params.get(1..).unwrap_or_default().join(" ")
            ))),
            _ => None,
        }
    }
}

fn is_channel(name: Option<&&str>) -> bool {
    name.is_some_and(|n| n.eq_ignore_ascii_case(CHANNEL))
}

/// 400–599 are the error replies (ERR_NICKNAMEINUSE, ERR_CHANNELISFULL...).
fn is_error_numeric(command: &str) -> bool {
    command.len() == 3
        && command
            .parse::<u16>()
            .is_ok_and(|n| (400..600).contains(&n))
}

/// The first lines a client sends.
pub fn register(nick: &str) -> Vec<u8> {
    format!("NICK {nick}\r\nUSER {nick} 0 * :tlschat bench\r\n").into_bytes()
}

/// A message to the channel.
pub fn privmsg(text: &str) -> Vec<u8> {
    format!("PRIVMSG {CHANNEL} :{text}\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefix_command_and_trailing() {
        let line = parse(":b3!~b3@127.0.0.1 PRIVMSG #bench :b 3 5 77 xx").unwrap();
        assert_eq!(line.prefix, Some("b3!~b3@127.0.0.1"));
        assert_eq!(line.command, "PRIVMSG");
        assert_eq!(line.params, ["#bench", "b 3 5 77 xx"]);
        let line = parse("PING :irc.example").unwrap();
        assert_eq!((line.prefix, line.command), (None, "PING"));
        assert_eq!(line.params, ["irc.example"]);
        let line = parse(":srv 366 b1 #bench :End of NAMES list").unwrap();
        assert_eq!(line.params, ["b1", "#bench", "End of NAMES list"]);
        // Extra spaces, tags, a trailing parameter that is empty or holds a colon.
        let line = parse("@time=x :srv  005  b1  A=1 :are: supported").unwrap();
        assert_eq!(
            (line.command, line.params),
            ("005", vec!["b1", "A=1", "are: supported"])
        );
        assert_eq!(parse("PING :").unwrap().params, [""]);
        assert_eq!(parse("NOTICE").unwrap().params, Vec::<&str>::new());
    }

    #[test]
    fn rejects_lines_without_a_command() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("   "), None);
        assert_eq!(parse(":prefix-only"), None);
        assert_eq!(parse(":prefix "), None);
        assert_eq!(parse("@tags-only"), None);
    }

    #[test]
    fn registers_joins_and_enters_the_room() {
        let mut s = IrcState::new();
        let mut out = Vec::new();
        // A 366 before registering, or for another channel, is not the end of our join.
        assert_eq!(s.handle(b":srv 366 b1 #bench :End", &mut out), None);
        assert_eq!(s.handle(b":srv 001 b1 :Welcome", &mut out), None);
        assert_eq!(out, b"JOIN #bench\r\n");
        out.clear();
        assert_eq!(s.handle(b":srv 001 b1 :Welcome again", &mut out), None);
        assert!(out.is_empty(), "joins once");
        assert_eq!(s.handle(b":srv 366 b1 #other :End", &mut out), None);
        assert_eq!(s.handle(b":b1!~b1@h JOIN :#bench", &mut out), None);
        assert_eq!(s.handle(b":srv 353 b1 = #bench :@b0 b1", &mut out), None);
        assert_eq!(
            s.handle(b":srv 366 b1 #BENCH :End of NAMES list", &mut out),
            Some(Event::InRoom)
        );
        assert_eq!(s.handle(b":srv 366 b1 #bench :End", &mut out), None);
        assert!(out.is_empty());
    }

    #[test]
    fn answers_ping_with_its_token() {
        let mut s = IrcState::new();
        let mut out = Vec::new();
        assert_eq!(s.handle(b"PING :LAG123", &mut out), None);
        assert_eq!(s.handle(b":srv PING srv", &mut out), None);
        assert_eq!(out, b"PONG :LAG123\r\nPONG :srv\r\n");
    }

    #[test]
    fn channel_messages_are_deliveries_and_the_rest_is_not() {
        let mut s = IrcState::new();
        let mut out = Vec::new();
        let got = s.handle(b":b3!~b3@127.0.0.1 PRIVMSG #bench :b 3 5 77 xx", &mut out);
        assert_eq!(got, Some(Event::Message(Cow::Borrowed("b 3 5 77 xx"))));
        assert_eq!(s.handle(b":b3!~b3@h PRIVMSG b1 :private", &mut out), None);
        assert_eq!(s.handle(b":b3!~b3@h PRIVMSG #bench", &mut out), None);
        assert_eq!(s.handle(b":srv NOTICE b1 :hello", &mut out), None);
        assert_eq!(s.handle(b":b3!~b3@h QUIT :gone", &mut out), None);
        assert!(out.is_empty());
    }

    #[test]
    fn errors_and_garbage_are_reported() {
        let mut s = IrcState::new();
        let mut out = Vec::new();
        assert_eq!(
            s.handle(b":srv 433 * b1 :Nickname already in use", &mut out),
            Some(Event::Refused("433 b1 Nickname already in use".into()))
        );
        assert_eq!(
            s.handle(
                b"ERROR :Closing link: (b1@127.0.0.1) [Ping timeout]",
                &mut out
            ),
            Some(Event::Closing(
                "Closing link: (b1@127.0.0.1) [Ping timeout]".into()
            ))
        );
        assert_eq!(
            s.handle(b"\xff\xfe PRIVMSG", &mut out),
            Some(Event::Garbled)
        );
        assert_eq!(s.handle(b":only-a-prefix", &mut out), Some(Event::Garbled));
        assert_eq!(s.handle(b":srv 4x3 b1 :not numeric", &mut out), None);
        assert_eq!(s.handle(b":srv 372 b1 :- motd", &mut out), None);
    }

    #[test]
    fn builds_lines_with_crlf() {
        assert_eq!(register("b7"), b"NICK b7\r\nUSER b7 0 * :tlschat bench\r\n");
        assert_eq!(privmsg("b 1 2 3 x"), b"PRIVMSG #bench :b 1 2 3 x\r\n");
    }
}
