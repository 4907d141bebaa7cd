//! Knowing which sent messages reached the room, so none is lost without a word.
//!
//! The server answers every `broadcast` and `private`, in order: with the message itself
//! (the echo) or with an `error`. A message still unanswered when the connection drops may or
//! may not have arrived. It is carried over to the next connection, whose catch-up replay
//! shows whether the room got it; whatever the replay does not show is reported as
//! [`crate::runtime::NetEvent::NotDelivered`], so the user can send it again.

use std::collections::VecDeque;

use crate::wire::{ClientMsg, ServerMsg};

/// Chat messages sent on a connection and not yet answered, oldest first.
#[derive(Debug, Default)]
pub struct Unconfirmed {
    sent: VecDeque<ClientMsg>,
}

impl Unconfirmed {
    /// Records a message as it is sent; only chat messages are tracked.
    pub fn sent(&mut self, msg: &ClientMsg) {
        if matches!(msg, ClientMsg::Broadcast { .. } | ClientMsg::Private { .. }) {
            self.sent.push_back(msg.clone());
        }
    }

    /// Takes the answer to a tracked message off the list: an echo from `my_id`, or an error
    /// that refuses a chat message. Returns the refused message: the server answers in
    /// order, so it is the oldest one still unanswered.
    pub fn observe(&mut self, msg: &ServerMsg, my_id: Option<u64>) -> Option<ClientMsg> {
        match msg {
            ServerMsg::Message(m) if Some(m.sender_id) == my_id => {
                self.remove_first(|sent| is_echo(sent, &m.message, m.action, None))
            }
            ServerMsg::Private(p) if Some(p.sender_id) == my_id => {
                self.remove_first(|sent| is_echo(sent, &p.message, p.action, Some(&p.to_nickname)))
            }
            ServerMsg::Error { code, .. } if code.refuses_message() => {
                return self.sent.pop_front()
            }
            _ => {}
        }
        None
    }

    /// Everything still unanswered, oldest first.
    pub fn take(&mut self) -> Vec<ClientMsg> {
        self.sent.drain(..).collect()
    }

    fn remove_first(&mut self, matches: impl Fn(&ClientMsg) -> bool) {
        if let Some(i) = self.sent.iter().position(matches) {
            self.sent.remove(i);
        }
    }
}

/// Messages carried over from a dropped connection, checked against the next one's catch-up.
#[derive(Debug, Default)]
pub struct Reconcile {
    carried: Vec<ClientMsg>,
    /// The ids the carried messages may have been sent under (the old one, the new one).
    ids: Vec<u64>,
    /// Replayed messages still expected after `welcome`; `None` before it arrives.
    replay_left: Option<u64>,
}

impl Reconcile {
    pub fn new(carried: Vec<ClientMsg>, old_id: Option<u64>) -> Reconcile {
        Reconcile {
            carried,
            ids: old_id.into_iter().collect(),
            replay_left: None,
        }
    }

    /// Whether there is nothing left to check.
    pub fn is_done(&self) -> bool {
        self.carried.is_empty()
    }

    /// Looks at one server message; returns the messages now known not to have arrived.
    pub fn observe(&mut self, msg: &ServerMsg) -> Option<Vec<ClientMsg>> {
        if self.carried.is_empty() {
            return None;
        }
        match msg {
            ServerMsg::Welcome(w) => {
                self.ids.push(w.id);
                for m in &w.history {
                    self.confirm(m.sender_id, &m.message, m.action);
                }
                self.replay_left = Some(w.replay);
            }
            ServerMsg::Message(m) => {
                let left = self.replay_left.as_mut()?;
                if *left > 0 {
                    *left -= 1;
                    self.confirm(m.sender_id, &m.message, m.action);
                }
            }
            _ => return None,
        }
        if self.replay_left == Some(0) {
            Some(std::mem::take(&mut self.carried)).filter(|lost| !lost.is_empty())
        } else {
            None
        }
    }

    /// What is still unchecked, when the connection ends before the catch-up does.
    pub fn take(&mut self) -> Vec<ClientMsg> {
        std::mem::take(&mut self.carried)
    }

    fn confirm(&mut self, sender_id: u64, text: &str, action: bool) {
        if !self.ids.contains(&sender_id) {
            return;
        }
        if let Some(i) = self
            .carried
            .iter()
            .position(|sent| is_echo(sent, text, action, None))
        {
            self.carried.remove(i);
        }
    }
}

/// Whether `echo` (a `message` or `private` from the server) is `sent` coming back; the
/// caller checks that its sender is this user.
pub fn answers(sent: &ClientMsg, echo: &ServerMsg) -> bool {
    match echo {
        ServerMsg::Message(m) => is_echo(sent, &m.message, m.action, None),
        ServerMsg::Private(p) => is_echo(sent, &p.message, p.action, Some(&p.to_nickname)),
        _ => false,
    }
}

/// Whether `sent` is the message the server echoed as `text` (the server trims text).
fn is_echo(sent: &ClientMsg, text: &str, action: bool, to: Option<&str>) -> bool {
    match (sent, to) {
        (ClientMsg::Broadcast { message, action: a }, None) => {
            message.trim() == text && *a == action
        }
        (
            ClientMsg::Private {
                to: sent_to,
                message,
                action: a,
            },
            Some(to),
        ) => {
            message.trim() == text
                && *a == action
                && crate::wire::nickname_skeleton(sent_to) == crate::wire::nickname_skeleton(to)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ChatMessage, ErrorCode, Welcome};

    fn say(text: &str) -> ClientMsg {
        ClientMsg::Broadcast {
            message: text.into(),
            action: false,
        }
    }

    fn echo(seq: u64, sender_id: u64, text: &str) -> ServerMsg {
        ServerMsg::Message(ChatMessage {
            seq,
            time: String::new(),
            sender_id,
            sender_nickname: "me".into(),
            message: text.into(),
            action: false,
        })
    }

    fn welcome(id: u64, replay: u64) -> ServerMsg {
        ServerMsg::Welcome(Welcome {
            id,
            nickname: "me".into(),
            users: vec![],
            history: vec![],
            protocol: 1,
            server: String::new(),
            resume_token: String::new(),
            resumed: false,
            replay,
            missed: None,
            rate: None,
            burst: None,
        })
    }

    #[test]
    fn echoes_and_refusals_answer_sent_messages() {
        let mut u = Unconfirmed::default();
        for text in ["one ", "two", "three"] {
            u.sent(&say(text));
        }
        u.sent(&ClientMsg::Ping);
        assert_eq!(u.observe(&echo(1, 9, "one"), Some(9)), None);
        assert_eq!(u.observe(&echo(2, 8, "two"), Some(9)), None); // someone else's
        let refused = u.observe(
            &ServerMsg::error(ErrorCode::RateLimited, "slow down"),
            Some(9),
        );
        assert_eq!(
            refused,
            Some(say("two")),
            "the refusal names what it refused"
        );
        assert_eq!(u.take(), vec![say("three")]);
        assert!(answers(&say(" hi "), &echo(3, 9, "hi")));
        assert!(!answers(&say("hi"), &echo(3, 9, "ho")));
    }

    #[test]
    fn the_replay_decides_what_arrived() {
        let mut r = Reconcile::new(vec![say("made it"), say("lost")], Some(4));
        assert_eq!(r.observe(&welcome(7, 2)), None);
        assert_eq!(r.observe(&echo(10, 5, "lost")), None); // same text, someone else
        assert_eq!(r.observe(&echo(11, 4, "made it")), Some(vec![say("lost")]));
        assert!(r.is_done());
    }

    #[test]
    fn with_nothing_to_replay_everything_carried_is_reported() {
        let mut r = Reconcile::new(vec![say("x")], Some(4));
        assert_eq!(r.observe(&welcome(4, 0)), Some(vec![say("x")]));
    }
}
