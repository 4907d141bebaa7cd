//! The room: who is online, the history, and the broadcast function.
//!
//! All state sits behind one lock that never escapes this module and is never held while
//! writing to a socket: delivering a message means serializing it once and pushing the same
//! bytes into every member's [`Mailbox`], which only appends to a queue. Because the fan-out
//! happens under the lock, every member sees the room's events in one order, the order of
//! `seq`. A member whose queue overflows is removed on the spot and the others are told.
//!
//! A member whose connection drops without `quit` becomes a *ghost* for a grace period: the
//! nickname and id stay reserved and the room is not told, so a client that comes back with
//! its resume token (see [`Room::resume`]) causes no leave/join churn and catches up on what
//! it missed. The janitor thread ([`Room::run_janitor`]) ends ghosts whose time is up.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tlschat::pipe::{Frame, Mailbox};
use tlschat::{encode, ByeCode, ChatMessage, ErrorCode, PrivateMessage, ServerMsg};

use crate::history::History;
use crate::members::{leave_notice, Catchup, Link, Member, Members};

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

struct State {
    members: Members,
    history: History,
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

/// The chat room shared by every connection thread.
pub struct Room {
    state: Mutex<State>,
    /// Every connection past its handshake, logged in or not, so shutdown can say goodbye
    /// to all of them.
    connections: Mutex<Vec<Weak<Mailbox>>>,
    janitor_wakeup: Condvar,
    config: RoomConfig,
}

/// Private messages kept for a ghost until it resumes.
const GHOST_INBOX: usize = 100;

impl Room {
    pub fn new(config: RoomConfig, history: History) -> Room {
        Room {
            state: Mutex::new(State {
                members: Members::announcing(config.flood),
                history,
                last_id: 0,
                closed: false,
            }),
            connections: Mutex::new(Vec::new()),
            janitor_wakeup: Condvar::new(),
            config,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below leaves the state consistent before anything can panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection (before login) for the goodbye at shutdown; false if the
    /// server is already shutting down.
    pub fn arrive(&self, mailbox: &Arc<Mailbox>) -> bool {
        if self.lock().closed {
            return false;
        }
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        connections.retain(|c| c.strong_count() > 0);
        connections.push(Arc::downgrade(mailbox));
        true
    }

    /// Adds a user; queues `welcome` (and recent history) for them and tells the others.
    pub fn join(&self, nickname: &str, mailbox: &Arc<Mailbox>) -> Result<Identity, Refusal> {
        let mut state = self.lock();
        self.admit(
            &mut state,
            nickname,
            mailbox,
            Catchup::Recent(self.config.welcome_history),
        )
    }

    /// Reclaims the identity behind `token` on a new connection, replaying what was missed
    /// after `last_seq`. An unknown or expired token falls back to joining as `nickname`.
    pub fn resume(
        &self,
        token: &str,
        last_seq: Option<u64>,
        nickname: &str,
        mailbox: &Arc<Mailbox>,
    ) -> Result<Identity, Refusal> {
        let mut state = self.lock();
        let catchup = match last_seq {
            Some(seq) => Catchup::After(seq),
            None => Catchup::Recent(self.config.welcome_history),
        };
        let Some(id) = state.members.id_by_token(token) else {
            return self.admit(&mut state, nickname, mailbox, catchup);
        };
        let State {
            members, history, ..
        } = &mut *state;
        let Some(member) = members.get_mut(id) else {
            // The token index always names a member; should it ever not, refuse cleanly.
            return Err(refuse(
                ErrorCode::ServerError,
                "that session could not be resumed",
            ));
        };
        let pending = match std::mem::replace(&mut member.link, Link::Live(Arc::clone(mailbox))) {
            Link::Live(old) => {
                old.close(encode(&ServerMsg::Bye {
                    code: ByeCode::Replaced,
                    reason: "you connected again from somewhere else".into(),
                }));
                Vec::new()
            }
            Link::Ghost { pending, .. } => pending,
        };
        let nickname = member.nickname.clone();
        let token = member.token.clone();
        let welcome = members.welcome(id, &nickname, &token, true, history, catchup);
        for frame in welcome.into_iter().chain(pending) {
            // A fresh mailbox accepts a whole catch-up, however long: it is bounded by the
            // retained history.
            let _ = mailbox.push_unbudgeted(frame);
        }
        Ok(Identity {
            id,
            nickname,
            resumed: true,
        })
    }

    fn admit(
        &self,
        state: &mut State,
        nickname: &str,
        mailbox: &Arc<Mailbox>,
        catchup: Catchup,
    ) -> Result<Identity, Refusal> {
        if state.closed {
            return Err(refuse(ErrorCode::ServerFull, "the server is shutting down"));
        }
        if state.members.len() >= self.config.max_users {
            return Err(refuse(
                ErrorCode::ServerFull,
                format!("the room is full ({} users)", self.config.max_users),
            ));
        }
        state.members.check_free(nickname, None)?;
        state.last_id += 1;
        let id = state.last_id;
        let token = new_token();
        let welcome = state
            .members
            .welcome(id, nickname, &token, false, &state.history, catchup);
        for frame in welcome {
            let _ = mailbox.push_unbudgeted(frame);
        }
        let notice: Frame = encode(&ServerMsg::Join {
            time: tlschat::time::now(),
            id,
            nickname: nickname.to_string(),
        })
        .into();
        state.members.fan_out(&notice);
        state.members.insert(
            id,
            Member {
                nickname: nickname.to_string(),
                token,
                link: Link::Live(Arc::clone(mailbox)),
            },
        );
        Ok(Identity {
            id,
            nickname: nickname.to_string(),
            resumed: false,
        })
    }

    /// Changes a member's nickname and tells the room, the member included.
    pub fn rename(&self, id: u64, nickname: &str) -> Result<(), Refusal> {
        let mut state = self.lock();
        state.members.check_free(nickname, Some(id))?;
        let Some(old) = state.members.set_nickname(id, nickname) else {
            return Ok(());
        };
        let notice: Frame = encode(&ServerMsg::Rename {
            time: tlschat::time::now(),
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
        let mut state = self.lock();
        let sender_nickname = state.members.nickname(id)?.to_string();
        let seq = state.history.last_seq() + 1;
        let line: Frame = encode(&ServerMsg::Message(ChatMessage {
            seq,
            time: tlschat::time::now(),
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
        let mut state = self.lock();
        let sender_nickname = state.members.nickname(id)?.to_string();
        let Some(to_id) = state.members.id_by_nickname(to) else {
            return Err(refuse(
                ErrorCode::NoSuchUser,
                format!("nobody called '{to}' is here"),
            ));
        };
        let to_nickname = state.members.nickname(to_id)?.to_string();
        if state.members.ghost_inbox_len(to_id) >= GHOST_INBOX {
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
            time: tlschat::time::now(),
            sender_id: id,
            sender_nickname,
            to_id,
            to_nickname,
            message: text.to_string(),
            action,
        }))
        .into();
        state.members.deliver_to(&[to_id, id], &line);
        Ok(())
    }

    /// Removes a member at once (quit, refused, misbehaved) and tells the others why. Does
    /// nothing if `mailbox` is no longer this member's connection (it resumed elsewhere).
    pub fn leave(&self, id: u64, mailbox: &Arc<Mailbox>, reason: &str) {
        let mut state = self.lock();
        if state.members.is_connection(id, mailbox) {
            if let Some(member) = state.members.remove(id) {
                state
                    .members
                    .fan_out(&leave_notice(id, member.nickname, reason));
            }
        }
    }

    /// A member's connection dropped: keep its place for the grace period, silently.
    pub fn disconnect(&self, id: u64, mailbox: &Arc<Mailbox>, reason: &str) {
        if self.config.resume_grace.is_zero() {
            return self.leave(id, mailbox, reason);
        }
        let mut state = self.lock();
        if state.members.is_connection(id, mailbox) {
            let until = Instant::now() + self.config.resume_grace;
            state.members.make_ghost(id, until);
            drop(state);
            self.janitor_wakeup.notify_one();
        }
    }

    /// Ends ghosts whose grace period is over, until the room shuts down.
    pub fn run_janitor(&self) {
        let mut state = self.lock();
        while !state.closed {
            let next = state.members.expire_ghosts(Instant::now());
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
        let bye = encode(&ServerMsg::Bye {
            code: ByeCode::ShuttingDown,
            reason: reason.to_string(),
        });
        state.members.drain().for_each(drop);
        drop(state);
        // Members and those still logging in alike; closing twice is harmless.
        let connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        for mailbox in connections.iter().filter_map(Weak::upgrade) {
            mailbox.close(bye.clone());
        }
        self.janitor_wakeup.notify_one();
    }

    /// How many users are in the room, ghosts included.
    pub fn len(&self) -> usize {
        self.lock().members.len()
    }
}

fn not_saved(error: &std::io::Error) -> Refusal {
    eprintln!(
        "{} could not save to the history file: {error}",
        tlschat::time::now()
    );
    refuse(
        ErrorCode::ServerError,
        "the server could not save your message, so it was not sent; tell the server's admin",
    )
}

/// 128 random bits in hex, from the kernel's generator.
fn new_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let from_kernel =
        std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_kernel.is_err() {
        // Not reached on Linux; still unpredictable enough to tell sessions apart.
        let a = tlschat::client::random_unit().to_bits();
        let b = tlschat::client::random_unit().to_bits();
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
