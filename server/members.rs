//! Who is in the room, and how each is reached: the member table behind the room's lock.
//!
//! [`Members`] keeps the members in arrival order with two indexes (nickname, resume token)
//! and does the fan-out: the same bytes into every live member's mailbox, removing those too
//! slow to take them and telling the others.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use tlschat::pipe::{Frame, Mailbox, PushError};
use tlschat::{encode, nickname_key, ErrorCode, SeqRange, ServerMsg, User, PROTOCOL_VERSION};

use crate::history::History;
use crate::room::{refuse, Refusal};

/// How a member is reached.
pub enum Link {
    /// Connected: frames go into this mailbox.
    Live(Arc<Mailbox>),
    /// Dropped, place kept until `until`; private messages wait in `pending`.
    Ghost { until: Instant, pending: Vec<Frame> },
}

pub struct Member {
    pub nickname: String,
    pub token: String,
    pub link: Link,
}

/// What a `welcome` brings along.
#[derive(Debug, Clone, Copy)]
pub enum Catchup {
    /// The last N messages, inside `welcome`.
    Recent(usize),
    /// Every retained message after this seq, as `message` lines after `welcome`.
    After(u64),
}

#[derive(Default)]
pub struct Members {
    /// Keyed by id, which grows with each login: iteration is arrival order.
    by_id: BTreeMap<u64, Member>,
    by_nickname: HashMap<String, u64>,
    by_token: HashMap<String, u64>,
    /// Flood control (messages per second, burst), announced in `welcome`.
    flood: Option<(f64, f64)>,
}

impl Members {
    /// No members yet; `welcome` will announce `flood` (messages per second, burst).
    pub fn announcing(flood: Option<(f64, f64)>) -> Members {
        Members {
            flood,
            ..Members::default()
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn insert(&mut self, id: u64, member: Member) {
        self.by_nickname.insert(nickname_key(&member.nickname), id);
        self.by_token.insert(member.token.clone(), id);
        self.by_id.insert(id, member);
    }

    pub fn remove(&mut self, id: u64) -> Option<Member> {
        let member = self.by_id.remove(&id)?;
        self.by_nickname.remove(&nickname_key(&member.nickname));
        self.by_token.remove(&member.token);
        Some(member)
    }

    pub fn drain(&mut self) -> impl Iterator<Item = Member> {
        self.by_nickname.clear();
        self.by_token.clear();
        std::mem::take(&mut self.by_id).into_values()
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Member> {
        self.by_id.get_mut(&id)
    }

    pub fn id_by_token(&self, token: &str) -> Option<u64> {
        self.by_token.get(token).copied()
    }

    pub fn id_by_nickname(&self, nickname: &str) -> Option<u64> {
        self.by_nickname.get(&nickname_key(nickname)).copied()
    }

    /// The nickname of member `id`, or a refusal if it is not in the room.
    pub fn nickname(&self, id: u64) -> Result<&str, Refusal> {
        self.by_id
            .get(&id)
            .map(|m| m.nickname.as_str())
            .ok_or_else(|| refuse(ErrorCode::NotLoggedIn, "you are not in the room"))
    }

    /// Refuses a nickname someone else (`except` aside) holds, ignoring case.
    pub fn check_free(&self, nickname: &str, except: Option<u64>) -> Result<(), Refusal> {
        match self.id_by_nickname(nickname) {
            Some(owner) if Some(owner) != except => {
                let away = matches!(
                    self.by_id.get(&owner).map(|m| &m.link),
                    Some(Link::Ghost { .. })
                );
                Err(refuse(
                    ErrorCode::NicknameTaken,
                    if away {
                        format!("the nickname '{nickname}' is taken (its owner is reconnecting)")
                    } else {
                        format!("the nickname '{nickname}' is taken")
                    },
                ))
            }
            _ => Ok(()),
        }
    }

    /// Renames a member; returns the old nickname, or `None` if nothing changed.
    pub fn set_nickname(&mut self, id: u64, nickname: &str) -> Option<String> {
        let member = self.by_id.get_mut(&id)?;
        if member.nickname == nickname {
            return None;
        }
        let old = std::mem::replace(&mut member.nickname, nickname.to_string());
        self.by_nickname.remove(&nickname_key(&old));
        self.by_nickname.insert(nickname_key(nickname), id);
        Some(old)
    }

    /// Whether `mailbox` is still how member `id` is reached.
    pub fn is_connection(&self, id: u64, mailbox: &Arc<Mailbox>) -> bool {
        matches!(self.by_id.get(&id), Some(Member { link: Link::Live(m), .. }) if Arc::ptr_eq(m, mailbox))
    }

    pub fn make_ghost(&mut self, id: u64, until: Instant) {
        if let Some(member) = self.by_id.get_mut(&id) {
            member.link = Link::Ghost {
                until,
                pending: Vec::new(),
            };
        }
    }

    pub fn ghost_inbox_len(&self, id: u64) -> usize {
        match self.by_id.get(&id) {
            Some(Member {
                link: Link::Ghost { pending, .. },
                ..
            }) => pending.len(),
            _ => 0,
        }
    }

    /// Removes ghosts whose time is up, telling the room; returns the next expiry.
    pub fn expire_ghosts(&mut self, now: Instant) -> Option<Instant> {
        let expired: Vec<u64> = self
            .by_id
            .iter()
            .filter(|(_, m)| matches!(m.link, Link::Ghost { until, .. } if until <= now))
            .map(|(&id, _)| id)
            .collect();
        for id in expired {
            if let Some(member) = self.remove(id) {
                crate::log!("{} (#{id}) did not come back in time", member.nickname);
                self.fan_out(&leave_notice(id, member.nickname, "connection lost"));
            }
        }
        self.by_id
            .values()
            .filter_map(|m| match m.link {
                Link::Ghost { until, .. } => Some(until),
                Link::Live(_) => None,
            })
            .min()
    }

    /// Queues `line` for every live member; ghosts catch up from history when they resume.
    pub fn fan_out(&mut self, line: &Frame) {
        let slow: Vec<u64> = self
            .by_id
            .iter()
            .filter(|(_, m)| push(m, line) == Err(PushError::Overflow))
            .map(|(&id, _)| id)
            .collect();
        self.drop_slow(slow);
    }

    /// Queues `line` for the given members (each once); a ghost keeps it for later.
    pub fn deliver_to(&mut self, ids: &[u64], line: &Frame) {
        let mut slow = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            if ids[..i].contains(id) {
                continue;
            }
            match self.by_id.get_mut(id).map(|m| &mut m.link) {
                Some(Link::Live(mailbox)) => {
                    let overflowed = mailbox.push(Frame::clone(line)) == Err(PushError::Overflow);
                    if overflowed {
                        slow.push(*id);
                    }
                }
                Some(Link::Ghost { pending, .. }) => pending.push(Frame::clone(line)),
                None => {}
            }
        }
        self.drop_slow(slow);
    }

    fn drop_slow(&mut self, mut slow: Vec<u64>) {
        // Telling the room may overflow someone else in turn; the loop ends because each
        // round removes at least one member.
        while !slow.is_empty() {
            let mut notices = Vec::new();
            for id in slow.drain(..) {
                if let Some(member) = self.remove(id) {
                    crate::log!(
                        "{} (#{id}) disconnected: too slow to receive",
                        member.nickname
                    );
                    notices.push(leave_notice(id, member.nickname, "too slow"));
                }
            }
            for notice in &notices {
                slow.extend(
                    self.by_id
                        .iter()
                        .filter(|(_, m)| push(m, notice) == Err(PushError::Overflow))
                        .map(|(&id, _)| id),
                );
            }
            slow.sort_unstable();
            slow.dedup();
        }
    }

    /// The `welcome` line for member `id`, followed by any replayed messages.
    pub fn welcome(
        &self,
        id: u64,
        nickname: &str,
        token: &str,
        resumed: bool,
        history: &History,
        catchup: Catchup,
    ) -> Vec<Frame> {
        #[derive(serde::Serialize)]
        struct Head<'a> {
            r#type: &'static str,
            id: u64,
            nickname: &'a str,
            users: Vec<User>,
            protocol: u32,
            server: &'static str,
            resume_token: &'a str,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            resumed: bool,
            #[serde(skip_serializing_if = "is_zero")]
            replay: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            missed: Option<SeqRange>,
            #[serde(skip_serializing_if = "Option::is_none")]
            rate: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            burst: Option<f64>,
        }
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
        let (inline, replay, missed): (Vec<&Frame>, Vec<Frame>, _) = match catchup {
            Catchup::Recent(n) => (
                history.recent(n).map(|e| &e.line).collect(),
                Vec::new(),
                None,
            ),
            Catchup::After(seq) => {
                let (after, gap) = history.after(seq);
                let replay = after.map(|e| Frame::clone(&e.line)).collect();
                (
                    Vec::new(),
                    replay,
                    gap.map(|(from, to)| SeqRange { from, to }),
                )
            }
        };
        let head = Head {
            r#type: "welcome",
            id,
            nickname,
            users,
            protocol: PROTOCOL_VERSION,
            server: concat!("tlschat ", env!("CARGO_PKG_VERSION")),
            resume_token: token,
            resumed,
            replay: replay.len() as u64,
            missed,
            rate: self.flood.map(|(rate, _)| rate),
            burst: self.flood.map(|(_, burst)| burst),
        };
        // History lines are stored serialized; splice them in rather than parse them again.
        let mut line = encode(&head);
        line.truncate(line.len() - 2); // drop "}\n"
        line.extend_from_slice(b",\"history\":[");
        for (i, entry) in inline.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            line.extend_from_slice(&entry[..entry.len() - 1]);
        }
        line.extend_from_slice(b"]}\n");
        std::iter::once(Frame::from(line)).chain(replay).collect()
    }
}

fn push(member: &Member, line: &Frame) -> Result<(), PushError> {
    match &member.link {
        Link::Live(mailbox) => mailbox.push(Frame::clone(line)),
        Link::Ghost { .. } => Ok(()),
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub fn leave_notice(id: u64, nickname: String, reason: &str) -> Frame {
    encode(&ServerMsg::Leave {
        time: tlschat::time::now(),
        id,
        nickname,
        reason: reason.to_string(),
    })
    .into()
}
