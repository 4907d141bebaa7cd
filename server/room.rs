//! The room: who is online, the history, and the broadcast function.
//!
//! All state sits behind one lock that never escapes this module and is never held while
//! writing to a socket: broadcasting means serializing a message once and appending the same
//! bytes to every member's queue ([`Conn::push`]). Because the fan-out happens under the lock,
//! every member sees the room's events in one order, the order of `seq`. Then, with the lock
//! released, the broadcasting thread sends to the members itself, through the room's
//! [`Flusher`]. A member whose queue overflows is removed on the spot and the others are told.
//!
//! A member whose connection drops without `quit` becomes a *ghost* for a grace period: the
//! nickname and id stay reserved and the room is not told, so a client that comes back with
//! its resume token (see [`Room::resume`]) causes no leave/join churn and catches up on what
//! it missed. The janitor thread ([`Room::run_janitor`]) ends ghosts whose time is up.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tlschat::wire::{encode, ByeCode, ChatMessage, ErrorCode, PrivateMessage, ServerMsg};

use crate::conn::{Closed, Conn, Frame};
use crate::ending::Ending;
use crate::flusher::Flusher;
use crate::history::HistoryStore;
use crate::members::{leave_notice, Catchup, Members};

mod entry;
mod recipient;
mod saver;
#[cfg(test)]
mod tests;

pub use recipient::Recipient;

/// A request the room turned down, with the code and words to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

pub fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// Who a connection is in the room after `login` or `resume`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: u64,
    pub nickname: String,
    /// True when an earlier identity was reclaimed.
    pub resumed: bool,
}

struct State<C> {
    members: Members<C>,
    history: HistoryStore,
    last_id: u64,
    closed: bool,
}

/// How the room is run.
pub struct RoomConfig {
    pub max_users: usize,
    /// How many recent messages a newcomer's `welcome` carries.
    pub welcome_history: usize,
    /// How long a dropped member's place is kept for a `resume`; zero disables ghosts.
    pub resume_grace: Duration,
    /// Flood control (messages per second, burst), announced in `welcome`.
    pub flood: Option<(f64, f64)>,
}

/// The chat room shared by every connection thread. What it delivers to is a
/// [`Recipient`]: a [`Conn`] in the server, a fake in the room's tests.
pub struct Room<C = Conn> {
    state: Mutex<State<C>>,
    /// Every connection past its handshake, logged in or not, so shutdown can say goodbye
    /// to all of them.
    connections: Mutex<Vec<Weak<C>>>,
    janitor_wakeup: Condvar,
    flusher: Flusher<C>,
    config: RoomConfig,
}

impl<C: Recipient> Room<C> {
    pub fn new(config: RoomConfig, mut history: HistoryStore) -> Room<C> {
        let mut members = saver::members_from_before(&mut history, config.resume_grace);
        members.announce_flood(config.flood);
        Room {
            state: Mutex::new(State {
                members,
                last_id: history.id_floor(),
                history,
                closed: false,
            }),
            connections: Mutex::new(Vec::new()),
            janitor_wakeup: Condvar::new(),
            flusher: Flusher::default(),
            config,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<C>> {
        // Every update below leaves the state consistent before anything can panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `change` under the room's lock, then sends what it queued.
    fn with_state<T>(&self, change: impl FnOnce(&mut State<C>) -> T) -> T {
        let mut state = self.lock();
        let result = change(&mut state);
        self.deliver(state);
        result
    }

    /// Releases the room's lock, then sends what the change queued.
    fn deliver(&self, mut state: MutexGuard<'_, State<C>>) {
        let mut dirty = state.members.take_dirty();
        drop(state);
        self.flusher.flush(&mut dirty);
    }

    /// Registers a new connection (before login) for the goodbye at shutdown; false if the
    /// server is already shutting down.
    pub fn arrive(&self, conn: &Arc<C>) -> bool {
        if self.lock().closed {
            return false;
        }
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        connections.retain(|c| c.strong_count() > 0);
        connections.push(Arc::downgrade(conn));
        true
    }

    /// Adds a user; queues `welcome` (and recent history) for them and tells the others.
    pub fn join(&self, nickname: &str, conn: &Arc<C>) -> Result<Identity, Refusal> {
        let mut state = self.lock();
        let joined = self.admit(
            &mut state,
            nickname,
            conn,
            Catchup::Recent(self.config.welcome_history),
        );
        self.deliver(state);
        joined
    }

    /// Reclaims the identity behind `token` on a new connection, replaying what was missed
    /// after `last_seq`. An unknown or expired token falls back to joining as `nickname`.
    pub fn resume(
        &self,
        token: &str,
        last_seq: Option<u64>,
        nickname: &str,
        conn: &Arc<C>,
    ) -> Result<Identity, Refusal> {
        let mut state = self.lock();
        let resumed = self.reclaim(&mut state, token, last_seq, nickname, conn);
        self.deliver(state);
        resumed
    }

    /// Changes a member's nickname and tells the room, the member included.
    pub fn rename(&self, id: u64, nickname: &str) -> Result<(), Refusal> {
        self.with_state(|state| Self::rename_locked(state, id, nickname))
    }

    fn rename_locked(state: &mut State<C>, id: u64, nickname: &str) -> Result<(), Refusal> {
        state.members.check_free(nickname, Some(id))?;
        let Some(old) = state.members.set_nickname(id, nickname) else {
            return Ok(());
        };
        let notice: Frame = encode(&ServerMsg::Rename {
            time: tlschat::wire::time::now(),
            id,
            old_nickname: old,
            new_nickname: nickname.to_string(),
        })
        .into();
        state.members.fan_out(&notice);
        Ok(())
    }

    /// Broadcasts a message from member `id` to everyone, the sender included.
    pub fn say(&self, id: u64, text: &str, action: bool) -> Result<u64, Refusal> {
        self.with_state(|state| Self::say_locked(state, id, text, action))
    }

    fn say_locked(state: &mut State<C>, id: u64, text: &str, action: bool) -> Result<u64, Refusal> {
        let sender_nickname = state.members.nickname(id)?.to_string();
        let seq = state.history.last_seq() + 1;
        let line: Frame = encode(&ServerMsg::Message(ChatMessage {
            seq,
            time: tlschat::wire::time::now(),
            sender_id: id,
            sender_nickname,
            message: text.to_string(),
            action,
        }))
        .into();
        // Saved before anyone sees it: a message on a screen is a message on disk.
        if let Err(e) = state.history.append_message(seq, Frame::clone(&line)) {
            return Err(not_saved(&e));
        }
        state.members.fan_out(&line);
        Ok(seq)
    }

    /// Sends a private message from `id` to the member called `to`, echoed to the sender.
    pub fn whisper(&self, id: u64, to: &str, text: &str, action: bool) -> Result<(), Refusal> {
        self.with_state(|state| Self::whisper_locked(state, id, to, text, action))
    }

    fn whisper_locked(
        state: &mut State<C>,
        id: u64,
        to: &str,
        text: &str,
        action: bool,
    ) -> Result<(), Refusal> {
        let sender_nickname = state.members.nickname(id)?.to_string();
        let Some(to_id) = state.members.id_by_nickname(to) else {
            return Err(refuse(
                ErrorCode::NoSuchUser,
                format!("nobody called '{to}' is here"),
            ));
        };
        let to_nickname = state.members.nickname(to_id)?.to_string();
        if state.members.ghost_inbox_full(to_id) {
            return Err(refuse(
                ErrorCode::NoSuchUser,
                format!("{to_nickname} is reconnecting and has too many messages waiting"),
            ));
        }
        let seq = state.history.last_seq() + 1;
        if let Err(e) = state.history.note_seq(seq) {
            return Err(not_saved(&e));
        }
        let line: Frame = encode(&ServerMsg::Private(PrivateMessage {
            seq,
            time: tlschat::wire::time::now(),
            sender_id: id,
            sender_nickname,
            to_id,
            to_nickname,
            message: text.to_string(),
            action,
        }))
        .into();
        state.members.deliver_to(&[to_id, id], seq, &line);
        Ok(())
    }

    /// Removes a member at once (quit, refused, misbehaved) and tells the others why. Does
    /// nothing if `conn` is no longer this member's connection (it resumed elsewhere).
    pub fn leave(&self, id: u64, conn: &Arc<C>, reason: &Ending) {
        self.with_state(|state| {
            if state.members.is_connection(id, conn) {
                if let Some(member) = state.members.remove(id) {
                    state
                        .members
                        .fan_out(&leave_notice(id, member.nickname, reason));
                }
            }
        });
    }

    /// A member's connection dropped: keep its place for the grace period, silently.
    pub fn disconnect(&self, id: u64, conn: &Arc<C>, reason: &Ending) {
        if self.config.resume_grace.is_zero() {
            return self.leave(id, conn, reason);
        }
        let mut state = self.lock();
        if state.members.is_connection(id, conn) {
            let until = Instant::now() + self.config.resume_grace;
            let since = state.history.last_seq();
            state.members.make_ghost(id, until, since);
            drop(state);
            self.janitor_wakeup.notify_one();
        }
    }

    /// Ends ghosts whose time is up and keeps the saved list of users current, until the
    /// room shuts down.
    pub fn run_janitor(&self) {
        let saver = self.lock().history.shared_state();
        std::thread::scope(|scope| {
            if let Some(saver) = saver {
                let spawned = std::thread::Builder::new()
                    .name("state saver".into())
                    .spawn_scoped(scope, move || self.save_users_until_closed(&saver));
                if let Err(e) = spawned {
                    crate::log!("could not start saving the room's users: {e}");
                }
            }
            self.expire_ghosts_until_closed();
        });
    }

    fn expire_ghosts_until_closed(&self) {
        let mut state = self.lock();
        while !state.closed {
            let next = state.members.expire_ghosts(Instant::now());
            let mut dirty = state.members.take_dirty();
            if !dirty.is_empty() {
                drop(state);
                self.flusher.flush(&mut dirty);
                state = self.lock();
                continue;
            }
            state = match next {
                None => self
                    .janitor_wakeup
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    self.janitor_wakeup
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Asks every member's connection to send `bye` and close; refuses new logins.
    pub fn shut_down(&self, reason: &str) {
        let mut state = self.lock();
        state.closed = true;
        let bye = Frame::from(encode(&ServerMsg::Bye {
            code: ByeCode::ShuttingDown,
            reason: reason.to_string(),
        }));
        // Everyone comes back as a ghost after the restart, and numbering goes on exactly.
        let (last_id, users) = (state.last_id, state.members.saved());
        if let Err(e) = state.history.finish(last_id, users) {
            crate::log!("could not save the room's state file: {e}");
        }
        state.members.drain().for_each(drop);
        drop(state);
        // Members and those still logging in alike; closing twice is harmless.
        let mut closing: Vec<Arc<C>> = {
            let connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
            connections
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|conn| conn.close(Closed::ShuttingDown, Some(Frame::clone(&bye))))
                .collect()
        };
        self.flusher.flush(&mut closing);
        self.janitor_wakeup.notify_one();
    }

    /// How many users are in the room, ghosts included.
    pub fn len(&self) -> usize {
        self.lock().members.len()
    }
}

fn not_saved(error: &std::io::Error) -> Refusal {
    crate::log!("could not save to the history file: {error}");
    refuse(
        ErrorCode::ServerError,
        "the server could not save your message, so it was not sent; tell the server's admin",
    )
}
