//! Who is in the room, and how each is reached: the member table behind the room's lock.
//!
//! [`Members`] keeps the members in arrival order with two indexes (nickname, resume token)
//! and does the fan-out: the same bytes into every live member's queue, removing those too
//! slow to take them and telling the others. Members whose queue was empty are noted as
//! *dirty*; the room hands them to its flusher once its lock is released.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use tlschat::wire::{encode, nickname_key, nickname_skeleton, ErrorCode, ServerMsg};

use crate::conn::{Conn, Frame, PushError};
use crate::ending::Ending;
use crate::history::state::{token_hash, SavedUser};
use crate::room::{refuse, Recipient, Refusal};

/// Whether a member is connected, and how it is reached.
pub enum Presence<C = Conn> {
    /// Connected: frames go into this connection's queue.
    Live(Arc<C>),
    /// Dropped, place kept until `until`; private messages numbered after `since` came
    /// while it was away, and wait (in `recent_private`) for it to resume.
    Ghost { until: Instant, since: u64 },
}

pub struct Member<C = Conn> {
    pub nickname: String,
    /// [`token_hash`] of the resume token: the token itself is kept nowhere.
    pub token_hash: String,
    pub presence: Presence<C>,
}

/// What a `welcome` brings along.
#[derive(Debug, Clone, Copy)]
pub enum Catchup {
    /// The last N messages, inside `welcome`.
    Recent(usize),
    /// Every retained message after this seq, as `message` lines after `welcome`.
    After(u64),
}

mod welcome;

pub struct Members<C = Conn> {
    /// Keyed by id, which grows with each login: iteration is arrival order.
    by_id: BTreeMap<u64, Member<C>>,
    /// Keyed by [`nickname_skeleton`]: look-alikes are one nickname.
    by_nickname: HashMap<String, u64>,
    by_token: HashMap<String, u64>,
    /// Connections given frames since the room last flushed.
    dirty: Vec<Arc<C>>,
    /// The last private messages to or from each member, by seq: what a ghost missed, and
    /// what was written to a connection just before it died and may never have arrived. A
    /// resume gets those after its `last_seq`.
    recent_private: HashMap<u64, VecDeque<(u64, Frame)>>,
    /// Counts changes to who is in the room and their nicknames, for the state saver.
    generation: u64,
    /// Flood control (messages per second, burst), announced in `welcome`.
    flood: Option<(f64, f64)>,
}

/// Private messages remembered per member for a resume.
const RECENT_PRIVATE: usize = 100;

impl<C> Default for Members<C> {
    fn default() -> Self {
        Members {
            by_id: BTreeMap::new(),
            by_nickname: HashMap::new(),
            by_token: HashMap::new(),
            dirty: Vec::new(),
            recent_private: HashMap::new(),
            generation: 0,
            flood: None,
        }
    }
}

impl<C: Recipient> Members<C> {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn insert(&mut self, id: u64, member: Member<C>) {
        self.by_nickname
            .insert(nickname_skeleton(&member.nickname), id);
        self.by_token.insert(member.token_hash.clone(), id);
        self.by_id.insert(id, member);
        self.generation += 1;
    }

    pub fn remove(&mut self, id: u64) -> Option<Member<C>> {
        let member = self.by_id.remove(&id)?;
        self.recent_private.remove(&id);
        self.by_nickname
            .remove(&nickname_skeleton(&member.nickname));
        self.by_token.remove(&member.token_hash);
        self.generation += 1;
        Some(member)
    }

    pub fn drain(&mut self) -> impl Iterator<Item = Member<C>> {
        self.by_nickname.clear();
        self.by_token.clear();
        self.recent_private.clear();
        self.generation += 1;
        std::mem::take(&mut self.by_id).into_values()
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Member<C>> {
        self.by_id.get_mut(&id)
    }

    pub fn id_by_token(&self, token: &str) -> Option<u64> {
        self.by_token.get(&token_hash(token)).copied()
    }

    /// Changes whenever someone joins, leaves or is renamed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Everyone in the room, ghosts included, as saved for a restart.
    pub fn saved(&self) -> Vec<SavedUser> {
        self.by_id
            .iter()
            .map(|(&id, m)| SavedUser {
                id,
                nickname: m.nickname.clone(),
                token_sha256: m.token_hash.clone(),
            })
            .collect()
    }

    pub fn id_by_nickname(&self, nickname: &str) -> Option<u64> {
        self.by_nickname.get(&nickname_skeleton(nickname)).copied()
    }

    /// The nickname of member `id`, or a refusal if it is not in the room.
    pub fn nickname(&self, id: u64) -> Result<&str, Refusal> {
        self.by_id
            .get(&id)
            .map(|m| m.nickname.as_str())
            .ok_or_else(|| refuse(ErrorCode::NotLoggedIn, "you are not in the room"))
    }

    /// Refuses a nickname someone else (`except` aside) holds, or one that looks like it.
    pub fn check_free(&self, nickname: &str, except: Option<u64>) -> Result<(), Refusal> {
        match self.id_by_nickname(nickname) {
            Some(owner) if Some(owner) != except => {
                let holder = self.by_id.get(&owner);
                let away = matches!(holder.map(|m| &m.presence), Some(Presence::Ghost { .. }));
                let taken = match holder.map(|m| m.nickname.as_str()) {
                    Some(held) if nickname_key(held) != nickname_key(nickname) => {
                        format!("the nickname '{nickname}' looks too much like '{held}', which is taken")
                    }
                    _ => format!("the nickname '{nickname}' is taken"),
                };
                Err(refuse(
                    ErrorCode::NicknameTaken,
                    if away {
                        format!("{taken} (its owner is reconnecting)")
                    } else {
                        taken
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
        self.by_nickname.remove(&nickname_skeleton(&old));
        self.by_nickname.insert(nickname_skeleton(nickname), id);
        self.generation += 1;
        Some(old)
    }

    /// Whether `conn` is still how member `id` is reached.
    pub fn is_connection(&self, id: u64, conn: &Arc<C>) -> bool {
        matches!(
            self.by_id.get(&id),
            Some(Member { presence: Presence::Live(c), .. }) if Arc::ptr_eq(c, conn)
        )
    }

    /// Queues `frame` for `conn`, noting it as dirty; `Err(Overflow)` means it is too slow.
    pub fn send(&mut self, conn: &Arc<C>, frame: Frame) -> Result<(), PushError> {
        if conn.push(frame)? {
            self.dirty.push(Arc::clone(conn));
        }
        Ok(())
    }

    /// Queues part of `conn`'s catch-up (its welcome, replayed history) ahead of the rest.
    pub fn send_catchup(&mut self, conn: &Arc<C>, frame: Frame) {
        if conn.push_catchup(frame) == Ok(true) {
            self.dirty.push(Arc::clone(conn));
        }
    }

    /// Notes a connection that needs a flush for another reason (it is closing).
    pub fn mark_dirty(&mut self, conn: Arc<C>) {
        self.dirty.push(conn);
    }

    /// The connections to flush now that the room's lock is about to be released. The next
    /// broadcast's list starts with room for as many, rather than growing again from empty.
    pub fn take_dirty(&mut self) -> Vec<Arc<C>> {
        let room_for = self.dirty.len();
        std::mem::replace(&mut self.dirty, Vec::with_capacity(room_for))
    }

    /// Brings back the users of the previous run, as ghosts until `until`.
    pub fn restore(&mut self, users: Vec<SavedUser>, until: Instant, since: u64) {
        for user in users {
            let presence = Presence::Ghost { until, since };
            self.insert(
                user.id,
                Member {
                    nickname: user.nickname,
                    token_hash: user.token_sha256,
                    presence,
                },
            );
        }
    }

    /// Member `id` dropped when the room's last seq was `since`.
    pub fn make_ghost(&mut self, id: u64, until: Instant, since: u64) {
        if let Some(member) = self.by_id.get_mut(&id) {
            member.presence = Presence::Ghost { until, since };
        }
    }

    /// Private messages to or from `id` numbered after `seq`, oldest first.
    pub fn private_after(&self, id: u64, seq: u64) -> Vec<Frame> {
        self.recent_private
            .get(&id)
            .map_or_else(Vec::new, |recent| {
                recent
                    .iter()
                    .filter(|(s, _)| *s > seq)
                    .map(|(_, line)| Frame::clone(line))
                    .collect()
            })
    }

    /// Whether ghost `id` has missed as many private messages as are kept for it (never for a
    /// live member): another would push out one it has not seen.
    pub fn ghost_inbox_full(&self, id: u64) -> bool {
        let missed = match self.by_id.get(&id).map(|m| &m.presence) {
            Some(Presence::Ghost { since, .. }) => self
                .recent_private
                .get(&id)
                .map_or(0, |recent| recent.iter().filter(|(s, _)| s > since).count()),
            _ => 0,
        };
        missed >= RECENT_PRIVATE
    }

    /// Removes ghosts whose time is up, telling the room; returns the next expiry.
    pub fn expire_ghosts(&mut self, now: Instant) -> Option<Instant> {
        let expired: Vec<u64> = self
            .by_id
            .iter()
            .filter(|(_, m)| matches!(m.presence, Presence::Ghost { until, .. } if until <= now))
            .map(|(&id, _)| id)
            .collect();
        for id in expired {
            if let Some(member) = self.remove(id) {
                crate::log!("{} (#{id}) did not come back in time", member.nickname);
                self.fan_out(&leave_notice(id, member.nickname, &Ending::Lost(None)));
            }
        }
        self.by_id
            .values()
            .filter_map(|m| match m.presence {
                Presence::Ghost { until, .. } => Some(until),
                Presence::Live(_) => None,
            })
            .min()
    }

    /// Removes the ghost away longest (its place is wanted), telling the room; false if
    /// there is none.
    pub fn evict_oldest_ghost(&mut self) -> bool {
        let oldest = self.by_id.iter().filter_map(|(&id, m)| match m.presence {
            Presence::Ghost { until, .. } => Some((until, id)),
            Presence::Live(_) => None,
        });
        let Some((_, id)) = oldest.min() else {
            return false;
        };
        if let Some(member) = self.remove(id) {
            crate::log!(
                "{} (#{id}) gave way to a newcomer: the room is full",
                member.nickname
            );
            self.fan_out(&leave_notice(id, member.nickname, &Ending::Lost(None)));
        }
        true
    }

    /// Queues `line` for every live member; ghosts catch up from history when they resume.
    pub fn fan_out(&mut self, line: &Frame) {
        let mut slow = Vec::new();
        self.queue_for_all(line, &mut slow);
        self.drop_slow(slow);
    }

    /// Queues `line` for every live member, noting those now over their budget in `slow`.
    fn queue_for_all(&mut self, line: &Frame, slow: &mut Vec<u64>) {
        for (&id, member) in &self.by_id {
            if let Presence::Live(conn) = &member.presence {
                match conn.push(Frame::clone(line)) {
                    Ok(true) => self.dirty.push(Arc::clone(conn)),
                    Ok(false) | Err(PushError::Closed) => {}
                    Err(PushError::Overflow) => slow.push(id),
                }
            }
        }
    }

    /// Queues private message `seq` for the given members (each once); a ghost gets it when
    /// it resumes, from `recent_private`.
    pub fn deliver_to(&mut self, ids: &[u64], seq: u64, line: &Frame) {
        let mut slow = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            if ids[..i].contains(id) {
                continue;
            }
            let recent = self.recent_private.entry(*id).or_default();
            if recent.len() == RECENT_PRIVATE {
                recent.pop_front();
            }
            recent.push_back((seq, Frame::clone(line)));
            let conn = match self.by_id.get(id).map(|m| &m.presence) {
                Some(Presence::Live(conn)) => Arc::clone(conn),
                Some(Presence::Ghost { .. }) | None => continue,
            };
            // A connection already closed will resume, or leave: either way `recent_private`
            // has the message.
            if self.send(&conn, Frame::clone(line)) == Err(PushError::Overflow) {
                slow.push(*id);
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
                    notices.push(leave_notice(id, member.nickname, &Ending::TooSlow));
                }
            }
            for notice in &notices {
                self.queue_for_all(notice, &mut slow);
            }
            slow.sort_unstable();
            slow.dedup();
        }
    }
}

/// The `leave` line telling the room that member `id` left, and why.
pub fn leave_notice(id: u64, nickname: String, reason: &Ending) -> Frame {
    encode(&ServerMsg::Leave {
        time: tlschat::wire::time::now(),
        id,
        nickname,
        reason: reason.to_string(),
    })
    .into()
}
