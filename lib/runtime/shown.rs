//! Showing each message once (PROTOCOL.md, "Coming back": clients de-duplicate by `seq`).
//! Both clients pass every server message through [`Shown::fresh`] before drawing it.

use crate::wire::ServerMsg;

/// The highest message numbers already shown, so that a replay overlapping what was printed
/// before the connection dropped never shows a message twice.
///
/// Room messages and private messages are counted apart: after a `resume` the server sends
/// the missed room messages first and then the private messages it kept for us, whose
/// numbers may be lower than the last replayed room message although they are new.
#[derive(Debug, Default)]
pub struct Shown {
    room: Option<u64>,
    private: Option<u64>,
}

impl Shown {
    /// `msg` as it should be shown, or `None` when it was shown already. A `welcome` keeps
    /// only the part of its history not shown yet.
    pub fn fresh(&mut self, msg: ServerMsg) -> Option<ServerMsg> {
        match msg {
            ServerMsg::Message(m) => admit(&mut self.room, m.seq).then_some(ServerMsg::Message(m)),
            ServerMsg::Private(p) => {
                admit(&mut self.private, p.seq).then_some(ServerMsg::Private(p))
            }
            ServerMsg::Welcome(mut w) => {
                w.history.retain(|m| admit(&mut self.room, m.seq));
                Some(ServerMsg::Welcome(w))
            }
            other => Some(other),
        }
    }
}

/// True, and remembers `seq`, when it is past everything seen so far.
fn admit(last: &mut Option<u64>, seq: u64) -> bool {
    if last.is_some_and(|last| seq <= last) {
        return false;
    }
    *last = Some(seq);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ChatMessage, PrivateMessage, Welcome};

    fn message(seq: u64) -> ChatMessage {
        ChatMessage {
            seq,
            time: "2026-11-27T09:15:02.123Z".into(),
            sender_id: 7,
            sender_nickname: "alice".into(),
            message: format!("number {seq}"),
            action: false,
        }
    }

    fn private(seq: u64) -> ServerMsg {
        ServerMsg::Private(PrivateMessage {
            seq,
            time: "2026-11-27T09:15:02.123Z".into(),
            sender_id: 7,
            sender_nickname: "alice".into(),
            to_id: 8,
            to_nickname: "bob".into(),
            message: "psst".into(),
            action: false,
        })
    }

    fn welcome(history: &[u64]) -> ServerMsg {
        ServerMsg::Welcome(Welcome {
            id: 8,
            nickname: "bob".into(),
            users: Vec::new(),
            history: history.iter().map(|&s| message(s)).collect(),
            protocol: 1,
            server: String::new(),
            resume_token: "t".into(),
            resumed: false,
            replay: 0,
            missed: None,
            rate: None,
            burst: None,
        })
    }

    #[test]
    fn overlap_is_shown_once() {
        let mut shown = Shown::default();
        assert!(shown.fresh(welcome(&[1, 2, 3])).is_some());
        assert!(shown.fresh(ServerMsg::Message(message(4))).is_some());
        // A reconnect whose welcome repeats part of what we saw, then a replay overlapping it.
        match shown.fresh(welcome(&[3, 4, 5])) {
            Some(ServerMsg::Welcome(w)) => {
                let seqs: Vec<u64> = w.history.iter().map(|m| m.seq).collect();
                assert_eq!(seqs, vec![5]);
            }
            other => panic!("welcome expected, got {other:?}"),
        }
        assert!(shown.fresh(ServerMsg::Message(message(5))).is_none());
        assert!(shown.fresh(ServerMsg::Message(message(6))).is_some());
        assert!(shown.fresh(ServerMsg::Ping).is_some());
    }

    #[test]
    fn kept_private_messages_after_the_replay_are_new() {
        let mut shown = Shown::default();
        assert!(shown.fresh(ServerMsg::Message(message(10))).is_some());
        assert!(shown.fresh(ServerMsg::Message(message(12))).is_some());
        assert!(shown.fresh(private(11)).is_some());
        assert!(shown.fresh(private(11)).is_none());
        assert!(shown.fresh(private(13)).is_some());
    }
}
