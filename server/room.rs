//! The room: who is online, the recent history, and the broadcast function.
//!
//! All state sits behind one lock that never escapes this module and is never held while
//! writing to a socket: delivering a message means serializing it once and pushing the same
//! bytes into every member's [`Mailbox`], which only appends to a queue. Because the fan-out
//! happens under the lock, every member sees the room's events in one order, the order of
//! `seq`. A member whose queue overflows is removed on the spot and the others are told.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tlschat::pipe::{Frame, Mailbox, PushError};
use tlschat::{
    encode, nickname_key, ByeCode, ChatMessage, ErrorCode, PrivateMessage, ServerMsg, User,
    PROTOCOL_VERSION,
};

/// A request the room turned down, with the code and words to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

struct Member {
    nickname: String,
    mailbox: Arc<Mailbox>,
}

#[derive(Default)]
struct State {
    /// Keyed by id, which grows with each login: iteration is arrival order.
    members: BTreeMap<u64, Member>,
    by_nickname: HashMap<String, u64>,
    /// Serialized `message` lines, newest last, each without its `\n`.
    history: VecDeque<Frame>,
    last_seq: u64,
    last_id: u64,
    closed: bool,
}

/// The chat room shared by every connection thread.
pub struct Room {
    state: Mutex<State>,
    max_users: usize,
    history_len: usize,
}

impl Room {
    pub fn new(max_users: usize, history_len: usize) -> Room {
        Room {
            state: Mutex::new(State::default()),
            max_users,
            history_len,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below leaves the state consistent before anything can panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a user; queues `welcome` for them and tells the others. Returns the new id.
    pub fn join(&self, nickname: &str, mailbox: &Arc<Mailbox>) -> Result<u64, Refusal> {
        let mut state = self.lock();
        if state.closed {
            return Err(refuse(ErrorCode::ServerFull, "the server is shutting down"));
        }
        if state.members.len() >= self.max_users {
            return Err(refuse(
                ErrorCode::ServerFull,
                format!("the room is full ({} users)", self.max_users),
            ));
        }
        let key = nickname_key(nickname);
        if state.by_nickname.contains_key(&key) {
            return Err(taken(nickname));
        }
        state.last_id += 1;
        let id = state.last_id;
        let welcome = self.welcome_line(&state, id, nickname);
        // The welcome goes first into the new mailbox, before the member can receive anything.
        if mailbox.push(welcome.into()).is_err() {
            return Err(refuse(ErrorCode::ServerFull, "the connection closed"));
        }
        let notice = frame(&ServerMsg::Join {
            time: tlschat::time::now(),
            id,
            nickname: nickname.to_string(),
        });
        fan_out(&mut state, &notice);
        state.by_nickname.insert(key, id);
        state.members.insert(
            id,
            Member {
                nickname: nickname.to_string(),
                mailbox: Arc::clone(mailbox),
            },
        );
        Ok(id)
    }

    /// Changes a member's nickname and tells the room, the member included.
    pub fn rename(&self, id: u64, nickname: &str) -> Result<(), Refusal> {
        let mut state = self.lock();
        let key = nickname_key(nickname);
        if let Some(&owner) = state.by_nickname.get(&key) {
            if owner != id {
                return Err(taken(nickname));
            }
        }
        let Some(member) = state.members.get_mut(&id) else {
            return Err(refuse(ErrorCode::NotLoggedIn, "you are not in the room"));
        };
        if member.nickname == nickname {
            return Ok(());
        }
        let old = std::mem::replace(&mut member.nickname, nickname.to_string());
        state.by_nickname.remove(&nickname_key(&old));
        state.by_nickname.insert(key, id);
        let notice = frame(&ServerMsg::Rename {
            time: tlschat::time::now(),
            id,
            old_nickname: old,
            new_nickname: nickname.to_string(),
        });
        fan_out(&mut state, &notice);
        Ok(())
    }

    /// Broadcasts a message from member `id` to everyone, the sender included.
    pub fn say(&self, id: u64, text: &str, action: bool) -> Result<u64, Refusal> {
        let mut state = self.lock();
        let Some(member) = state.members.get(&id) else {
            return Err(refuse(ErrorCode::NotLoggedIn, "you are not in the room"));
        };
        let seq = state.last_seq + 1;
        let message = ChatMessage {
            seq,
            time: tlschat::time::now(),
            sender_id: id,
            sender_nickname: member.nickname.clone(),
            message: text.to_string(),
            action,
        };
        state.last_seq = seq;
        let line = frame(&ServerMsg::Message(message));
        if self.history_len > 0 {
            if state.history.len() == self.history_len {
                state.history.pop_front();
            }
            state.history.push_back(line[..line.len() - 1].into());
        }
        fan_out(&mut state, &line);
        Ok(seq)
    }

    /// Sends a private message from `id` to the member called `to`, echoed to the sender.
    pub fn whisper(&self, id: u64, to: &str, text: &str, action: bool) -> Result<(), Refusal> {
        let mut state = self.lock();
        let Some(sender) = state.members.get(&id) else {
            return Err(refuse(ErrorCode::NotLoggedIn, "you are not in the room"));
        };
        let Some(&to_id) = state.by_nickname.get(&nickname_key(to)) else {
            return Err(refuse(
                ErrorCode::NoSuchUser,
                format!("nobody called '{to}' is here"),
            ));
        };
        let recipient = &state.members[&to_id];
        let seq = state.last_seq + 1;
        let line = frame(&ServerMsg::Private(PrivateMessage {
            seq,
            time: tlschat::time::now(),
            sender_id: id,
            sender_nickname: sender.nickname.clone(),
            to_id,
            to_nickname: recipient.nickname.clone(),
            message: text.to_string(),
            action,
        }));
        state.last_seq = seq;
        let mut slow = Vec::new();
        for target in [to_id, id] {
            let mailbox = &state.members[&target].mailbox;
            if mailbox.push(Frame::clone(&line)) == Err(PushError::Overflow) {
                slow.push(target);
            }
            if to_id == id {
                break;
            }
        }
        drop_slow(&mut state, slow);
        Ok(())
    }

    /// Removes a member (if still present) and tells the others why.
    pub fn leave(&self, id: u64, reason: &str) {
        let mut state = self.lock();
        if let Some(member) = remove(&mut state, id) {
            let notice = leave_notice(id, member.nickname, reason);
            fan_out(&mut state, &notice);
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
        for member in std::mem::take(&mut state.members).into_values() {
            member.mailbox.close(bye.clone());
        }
        state.by_nickname.clear();
    }

    /// How many users are in the room.
    pub fn len(&self) -> usize {
        self.lock().members.len()
    }

    fn welcome_line(&self, state: &State, id: u64, nickname: &str) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Head<'a> {
            r#type: &'static str,
            id: u64,
            nickname: &'a str,
            users: Vec<User>,
            protocol: u32,
            server: &'static str,
        }
        let mut users: Vec<User> = state
            .members
            .iter()
            .map(|(&id, m)| User {
                id,
                nickname: m.nickname.clone(),
            })
            .collect();
        users.push(User {
            id,
            nickname: nickname.to_string(),
        });
        let head = Head {
            r#type: "welcome",
            id,
            nickname,
            users,
            protocol: PROTOCOL_VERSION,
            server: concat!("tlschat ", env!("CARGO_PKG_VERSION")),
        };
        // History lines are stored serialized; splice them in rather than parse them again.
        let mut line = encode(&head);
        line.truncate(line.len() - 2); // drop "}\n"
        line.extend_from_slice(b",\"history\":[");
        for (i, entry) in state.history.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            line.extend_from_slice(entry);
        }
        line.extend_from_slice(b"]}\n");
        line
    }
}

fn taken(nickname: &str) -> Refusal {
    refuse(
        ErrorCode::NicknameTaken,
        format!("the nickname '{nickname}' is taken"),
    )
}

fn frame(msg: &ServerMsg) -> Frame {
    encode(msg).into()
}

fn leave_notice(id: u64, nickname: String, reason: &str) -> Frame {
    frame(&ServerMsg::Leave {
        time: tlschat::time::now(),
        id,
        nickname,
        reason: reason.to_string(),
    })
}

fn remove(state: &mut State, id: u64) -> Option<Member> {
    let member = state.members.remove(&id)?;
    state.by_nickname.remove(&nickname_key(&member.nickname));
    Some(member)
}

/// Queues `line` for every member; those too slow to take it are removed, and the room told.
fn fan_out(state: &mut State, line: &Frame) {
    let slow: Vec<u64> = state
        .members
        .iter()
        .filter(|(_, m)| m.mailbox.push(Frame::clone(line)) == Err(PushError::Overflow))
        .map(|(&id, _)| id)
        .collect();
    drop_slow(state, slow);
}

fn drop_slow(state: &mut State, mut slow: Vec<u64>) {
    // Telling the room may overflow someone else in turn; the loop ends because each round
    // removes at least one member.
    while !slow.is_empty() {
        let mut notices = Vec::new();
        for id in slow.drain(..) {
            if let Some(member) = remove(state, id) {
                eprintln!(
                    "{} {} (#{id}) disconnected: too slow to receive",
                    tlschat::time::now(),
                    member.nickname
                );
                notices.push(leave_notice(id, member.nickname, "too slow"));
            }
        }
        for notice in &notices {
            slow.extend(
                state
                    .members
                    .iter()
                    .filter(|(_, m)| {
                        m.mailbox.push(Frame::clone(notice)) == Err(PushError::Overflow)
                    })
                    .map(|(&id, _)| id),
            );
        }
        slow.sort_unstable();
        slow.dedup();
    }
}
