//! The `welcome` line: who is here and what was said, within a bounded size.

use serde_json::value::RawValue;
use tlschat::wire::{SeqRange, User, Welcome, PROTOCOL_VERSION};

use super::{Catchup, Frame, Members};
use crate::history::HistoryStore;

impl<C> Members<C> {
    /// Sets the flood control that `welcome` announces.
    pub fn announce_flood(&mut self, flood: Option<(f64, f64)>) {
        self.flood = flood;
    }

    /// The `welcome` line for member `id`, followed by any replayed messages.
    pub fn welcome(
        &self,
        id: u64,
        nickname: &str,
        token: &str,
        resumed: bool,
        history: &HistoryStore,
        catchup: Catchup,
    ) -> Vec<Frame> {
        let mut users: Vec<User> = self
            .by_id
            .iter()
            .map(|(&id, m)| User {
                id,
                nickname: m.nickname.clone(),
            })
            .collect();
        if !self.by_id.contains_key(&id) {
            users.push(User {
                id,
                nickname: nickname.to_string(),
            });
        }
        let (inline, replay, missed) = match catchup {
            Catchup::Recent(n) => (recent_within(history, n), Vec::new(), None),
            Catchup::After(seq) => {
                let (after, gap) = history.after(seq);
                let replay: Vec<Frame> = after.map(|e| Frame::clone(&e.line)).collect();
                (
                    Vec::new(),
                    replay,
                    gap.map(|(from, to)| SeqRange { from, to }),
                )
            }
        };
        let welcome = Welcome {
            id,
            nickname: nickname.to_string(),
            users,
            history: inline,
            protocol: PROTOCOL_VERSION,
            server: SERVER.to_string(),
            resume_token: token.to_string(),
            resumed,
            replay: replay.len() as u64,
            missed,
            rate: self.flood.map(|(rate, _)| rate),
            burst: self.flood.map(|(_, burst)| burst),
        };
        std::iter::once(Frame::from(welcome.encode()))
            .chain(replay)
            .collect()
    }
}

const SERVER: &str = concat!("tlschat ", env!("CARGO_PKG_VERSION"));

/// Most bytes of history a `welcome` carries inline, so that a login costs the server a
/// bounded amount however long the recent messages are.
pub const WELCOME_HISTORY_BYTES: usize = 256 * 1024;

/// The last `n` messages, fewer if they would pass [`WELCOME_HISTORY_BYTES`]; oldest first.
/// History lines are kept serialized, so they go in as they are, borrowed: checking that
/// each is one JSON value costs a scan, where parsing it into a message again would
/// allocate every field.
fn recent_within(history: &HistoryStore, n: usize) -> Vec<&RawValue> {
    let mut bytes = 0;
    let recent: Vec<&Frame> = history.recent(n).map(|e| &e.line).collect();
    let mut lines: Vec<&RawValue> = recent
        .into_iter()
        .rev()
        .take_while(|line| {
            bytes += line.len();
            bytes <= WELCOME_HISTORY_BYTES
        })
        .filter_map(|line| stored_line(line))
        .collect();
    lines.reverse();
    lines
}

/// A stored line (`\n` included) as the JSON value it holds. The server wrote every one of
/// them, or checked it when loading the file, so a failure is a bug: logged, and the line
/// left out rather than a broken `welcome` sent.
fn stored_line(line: &[u8]) -> Option<&RawValue> {
    match serde_json::from_slice(line) {
        Ok(raw) => Some(raw),
        Err(e) => {
            crate::log!("a history line is not JSON ({e}); left out of a welcome");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlschat::wire::{encode, ChatMessage, ServerMsg};

    fn message(seq: u64, text: &str) -> ChatMessage {
        ChatMessage {
            seq,
            time: "2026-12-02T01:02:03.456Z".into(),
            sender_id: 1,
            sender_nickname: "alice".into(),
            message: text.into(),
            action: seq.is_multiple_of(2),
        }
    }

    fn store(messages: &[ChatMessage]) -> HistoryStore {
        let mut history = HistoryStore::in_memory(100);
        for m in messages {
            let line = encode(&ServerMsg::Message(m.clone()));
            history
                .append_message(m.seq, line.into())
                .expect("in memory");
        }
        history
    }

    /// The spliced welcome is byte for byte the library's `Welcome` holding the same
    /// messages as `message` lines (stored lines keep their `type`, which clients ignore
    /// here), and reads back as the library's welcome: one definition of the fields,
    /// optional ones left out alike.
    #[test]
    fn spliced_welcome_is_the_librarys_welcome() {
        let said = [
            message(1, "hi \"there\"\n"),
            message(2, "waves"),
            message(3, "é"),
        ];
        let history = store(&said);
        for (flood, resumed) in [(None, false), (Some((5.0, 10.0)), true)] {
            let mut members: Members<()> = Members::default();
            members.announce_flood(flood);
            let frames = members.welcome(4, "bob", "t0k", resumed, &history, Catchup::Recent(2));
            assert_eq!(frames.len(), 1);
            let expected = Welcome {
                id: 4,
                nickname: "bob".into(),
                users: vec![User {
                    id: 4,
                    nickname: "bob".into(),
                }],
                history: said[1..].iter().cloned().map(ServerMsg::Message).collect(),
                protocol: PROTOCOL_VERSION,
                server: SERVER.into(),
                resume_token: "t0k".into(),
                resumed,
                replay: 0,
                missed: None,
                rate: flood.map(|f| f.0),
                burst: flood.map(|f| f.1),
            };
            assert_eq!(
                String::from_utf8_lossy(&frames[0]),
                String::from_utf8_lossy(&expected.encode())
            );
            let Ok(ServerMsg::Welcome(read)) = serde_json::from_slice(&frames[0]) else {
                panic!("not a welcome");
            };
            assert_eq!(read.history, said[1..]);
            assert_eq!((read.resumed, read.rate), (resumed, flood.map(|f| f.0)));
        }
    }

    #[test]
    fn a_catch_up_replays_after_the_welcome() {
        let history = store(&[message(1, "a"), message(2, "b"), message(3, "c")]);
        let members: Members<()> = Members::default();
        let frames = members.welcome(4, "bob", "t", true, &history, Catchup::After(1));
        assert_eq!(frames.len(), 3);
        let Ok(ServerMsg::Welcome(w)) = serde_json::from_slice(&frames[0]) else {
            panic!("not a welcome: {:?}", String::from_utf8_lossy(&frames[0]));
        };
        assert_eq!((w.replay, w.history.len(), w.resumed), (2, 0, true));
        assert!(frames[1].starts_with(br#"{"type":"message","seq":2"#));
    }

    #[test]
    fn inline_history_stays_within_its_byte_cap() {
        let long = "x".repeat(3000);
        let said: Vec<ChatMessage> = (1..=100).map(|seq| message(seq, &long)).collect();
        let history = store(&said);
        let members: Members<()> = Members::default();
        let frames = members.welcome(1, "bob", "t", false, &history, Catchup::Recent(100));
        let Ok(ServerMsg::Welcome(w)) = serde_json::from_slice(&frames[0]) else {
            panic!("not a welcome");
        };
        let kept = w.history.len();
        assert!(kept > 0 && kept < 100, "kept {kept}");
        assert!(kept * long.len() <= WELCOME_HISTORY_BYTES);
        // The newest ones, oldest first.
        assert_eq!(w.history.last().map(|m| m.seq), Some(100));
        assert_eq!(w.history[0].seq, 101 - kept as u64);
    }
}
