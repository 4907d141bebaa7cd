//! Knowing which sent messages reached the room, so none is lost without a word.
//!
//! The server answers every `broadcast` and `private`, in order: with the message itself
//! (the echo) or with an `error`. A message still unanswered when the connection drops may or
//! may not have arrived. It is carried over to the next connection, whose catch-up replay
//! shows whether the room got it; whatever the replay does not show is reported as
//! [`crate::runtime::NetEvent::NotDelivered`], so the user can send it again.
//!
//! This is the one tracker of delivery in both clients: every message handed to
//! [`crate::runtime::ClientHandle::send`] gets a [`MessageId`], and its fate comes back as
//! `Delivered`, `Refused` or `NotDelivered` with that id. The front ends only show it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::wire::{ClientMsg, ServerMsg};

/// Names one message handed to [`crate::runtime::ClientHandle::send`], unique in the process
/// (across connections, so a message carried over to the next one keeps its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(u64);

impl MessageId {
    /// A name no other message in this process has.
    pub fn next() -> MessageId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        MessageId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    #[cfg(test)]
    pub(crate) fn for_tests(n: u64) -> MessageId {
        MessageId(n)
    }
}

/// A message as it was sent, with its name.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub id: MessageId,
    pub message: ClientMsg,
}

/// What the server's answer says about one sent message.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Its echo: the room has it.
    Delivered(MessageId),
    /// An error refused it: nobody got it.
    Refused(SentMessage),
}

/// Chat messages sent on a connection and not yet answered, oldest first.
#[derive(Debug, Default)]
pub struct Unconfirmed {
    sent: VecDeque<SentMessage>,
}

impl Unconfirmed {
    /// Records a message as it is written; only chat messages are tracked.
    pub fn sent(&mut self, sent: SentMessage) {
        if is_chat(&sent.message) {
            self.sent.push_back(sent);
        }
    }

    /// Takes the answer to a tracked message off the list: an echo from `my_id`, or an error
    /// that refuses a chat message (the server answers in order, so it refuses the oldest
    /// one still unanswered).
    pub fn observe(&mut self, msg: &ServerMsg, my_id: Option<u64>) -> Option<Answer> {
        match msg {
            ServerMsg::Message(m) if Some(m.sender_id) == my_id => self
                .remove_first(|sent| is_echo(sent, &m.message, m.action, None))
                .map(Answer::Delivered),
            ServerMsg::Private(p) if Some(p.sender_id) == my_id => self
                .remove_first(|sent| is_echo(sent, &p.message, p.action, Some(&p.to_nickname)))
                .map(Answer::Delivered),
            ServerMsg::Error { code, .. } if code.refuses_message() => {
                self.sent.pop_front().map(Answer::Refused)
            }
            _ => None,
        }
    }

    /// Everything still unanswered, oldest first.
    pub fn take(&mut self) -> Vec<SentMessage> {
        self.sent.drain(..).collect()
    }

    fn remove_first(&mut self, matches: impl Fn(&ClientMsg) -> bool) -> Option<MessageId> {
        let i = self.sent.iter().position(|sent| matches(&sent.message))?;
        self.sent.remove(i).map(|sent| sent.id)
    }
}

/// What one server message told about the messages carried over from a dropped connection.
#[derive(Debug, Default, PartialEq)]
pub struct Reconciled {
    /// Shown by the catch-up: they arrived.
    pub delivered: Vec<MessageId>,
    /// Not in the catch-up, now over: most likely never delivered.
    pub lost: Vec<SentMessage>,
}

/// Messages carried over from a dropped connection, checked against the next one's catch-up.
#[derive(Debug, Default)]
pub struct Reconcile {
    carried: Vec<SentMessage>,
    /// The ids the carried messages may have been sent under (the old one, the new one).
    ids: Vec<u64>,
    /// Replayed messages still expected after `welcome`; `None` before it arrives.
    replay_left: Option<u64>,
}

impl Reconcile {
    pub fn new(carried: Vec<SentMessage>, old_id: Option<u64>) -> Reconcile {
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

    /// Looks at one server message: which carried messages it shows, and, once the
    /// catch-up is over, which it never showed.
    pub fn observe(&mut self, msg: &ServerMsg) -> Reconciled {
        let mut result = Reconciled::default();
        if self.carried.is_empty() {
            return result;
        }
        match msg {
            ServerMsg::Welcome(w) => {
                self.ids.push(w.id);
                for m in &w.history {
                    result
                        .delivered
                        .extend(self.confirm(m.sender_id, &m.message, m.action));
                }
                self.replay_left = Some(w.replay);
            }
            ServerMsg::Message(m) => match self.replay_left.as_mut() {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    result
                        .delivered
                        .extend(self.confirm(m.sender_id, &m.message, m.action));
                }
                _ => return result,
            },
            _ => return result,
        }
        if self.replay_left == Some(0) {
            result.lost = std::mem::take(&mut self.carried);
        }
        result
    }

    /// What is still unchecked, when the connection ends before the catch-up does.
    pub fn take(&mut self) -> Vec<SentMessage> {
        std::mem::take(&mut self.carried)
    }

    fn confirm(&mut self, sender_id: u64, text: &str, action: bool) -> Option<MessageId> {
        if !self.ids.contains(&sender_id) {
            return None;
        }
        let i = self
            .carried
            .iter()
            .position(|sent| is_echo(&sent.message, text, action, None))?;
        Some(self.carried.remove(i).id)
    }
}

fn is_chat(msg: &ClientMsg) -> bool {
    matches!(msg, ClientMsg::Broadcast { .. } | ClientMsg::Private { .. })
}

/// Whether `echo` (a `message` or `private` from the server) is `sent` coming back; the
/// caller checks that its sender is this user.
#[cfg(test)]
fn answers(sent: &ClientMsg, echo: &ServerMsg) -> bool {
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

    fn sent(text: &str) -> SentMessage {
        SentMessage {
            id: MessageId::next(),
            message: say(text),
        }
    }

    #[test]
    fn echoes_and_refusals_answer_sent_messages() {
        let mut u = Unconfirmed::default();
        let [one, two, three] = ["one ", "two", "three"].map(sent);
        for s in [&one, &two, &three] {
            u.sent(s.clone());
        }
        u.sent(SentMessage {
            id: MessageId::next(),
            message: ClientMsg::Ping,
        });
        assert_eq!(
            u.observe(&echo(1, 9, "one"), Some(9)),
            Some(Answer::Delivered(one.id))
        );
        assert_eq!(u.observe(&echo(2, 8, "two"), Some(9)), None); // someone else's
        let refused = u.observe(
            &ServerMsg::error(ErrorCode::RateLimited, "slow down"),
            Some(9),
        );
        assert_eq!(
            refused,
            Some(Answer::Refused(two)),
            "the refusal names what it refused"
        );
        assert_eq!(u.take(), vec![three]);
        assert!(answers(&say(" hi "), &echo(3, 9, "hi")));
        assert!(!answers(&say("hi"), &echo(3, 9, "ho")));
    }

    #[test]
    fn the_replay_decides_what_arrived() {
        let (made_it, lost) = (sent("made it"), sent("lost"));
        let mut r = Reconcile::new(vec![made_it.clone(), lost.clone()], Some(4));
        assert_eq!(r.observe(&welcome(7, 2)), Reconciled::default());
        // Same text, someone else.
        assert_eq!(r.observe(&echo(10, 5, "lost")), Reconciled::default());
        assert_eq!(
            r.observe(&echo(11, 4, "made it")),
            Reconciled {
                delivered: vec![made_it.id],
                lost: vec![lost]
            }
        );
        assert!(r.is_done());
    }

    #[test]
    fn with_nothing_to_replay_everything_carried_is_reported() {
        let x = sent("x");
        let mut r = Reconcile::new(vec![x.clone()], Some(4));
        assert_eq!(r.observe(&welcome(4, 0)).lost, vec![x]);
    }
}
