//! The room as this client knows it: who is online, who we are, and the message timeline.
//! [`Room::apply`] turns each server message into an [`Update`] for the view.

use std::time::SystemTime;

use tlschat::runtime::clock::server_time;
use tlschat::runtime::shown::Shown;
use tlschat::wire::{ChatMessage, ErrorCode, PrivateMessage, ServerMsg, User, Welcome};

use super::line::{Kind, Line};
use super::text::mentions;
use super::timeline::Timeline;

/// Rows kept in the message list; older ones are dropped a batch at a time.
pub const MAX_LINES: usize = 20_000;
const DROP_BATCH: usize = 1_000;

/// A change to the message list, applied in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Insert(usize, Line),
    /// The row at this index shows this line instead.
    Replace(usize, Line),
    Remove(usize),
    DropFront(usize),
}

/// What a server message changed, for the controller to show.
#[derive(Debug, Default)]
pub struct Update {
    pub ops: Vec<Op>,
    pub users_changed: bool,
    /// Our own nickname or id changed (welcome, or our rename).
    pub me_changed: bool,
    pub welcomed: bool,
    /// A sentence for the status bar.
    pub status: Option<String>,
    /// The server refused the login itself (not a later nickname change).
    pub login_refused: bool,
    /// The server asked for a password.
    pub password_needed: bool,
    /// Worth a desktop notification: (title, body).
    pub alert: Option<(String, String)>,
    /// One of our messages reached the room: a send is working again.
    pub delivered: bool,
}

/// Users, our identity and the timeline.
#[derive(Debug, Default)]
pub struct Room {
    /// Us, once welcomed.
    pub me: Option<User>,
    users: Vec<User>,
    timeline: Timeline,
    /// The nickname of the last `login` we sent, to word errors about it.
    pub requested_nickname: String,
    /// Whether the last login carried a password.
    pub sent_password: bool,
    /// What was shown already, so that a replay overlapping it shows nothing twice.
    shown: Shown,
    /// Our messages not yet in the room's order, oldest first.
    outgoing: Vec<outgoing::Outgoing>,
    next_outgoing: u64,
}

impl Room {
    /// Everyone online, in order of arrival.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// Nicknames of everyone online, for completion.
    pub fn nicknames(&self) -> Vec<String> {
        self.users.iter().map(|u| u.nickname.clone()).collect()
    }

    /// Marks where the user left off, before the next line, unless already marked.
    pub fn mark_unread(&mut self, up: &mut Update) {
        if self.timeline.marker_index().is_some() {
            return;
        }
        let index = self.timeline.place_marker();
        let line = Line {
            kind: Kind::Marker,
            ..Line::notice(SystemTime::now(), "New messages")
        };
        up.ops.push(Op::Insert(index, line));
    }

    /// Takes the "New messages" line away (the user came back and read).
    pub fn clear_unread(&mut self, up: &mut Update) {
        if let Some(index) = self.timeline.marker_index() {
            self.timeline.remove(index);
            up.ops.push(Op::Remove(index));
        }
    }

    /// The connection ended: nobody is known to be online, and we are nobody.
    pub fn disconnected(&mut self) {
        self.users.clear();
        self.me = None;
    }

    /// Adds a local line (a notice or an error) at the end.
    pub fn local(&mut self, update: &mut Update, line: Line) {
        self.push(update, line);
    }

    /// Applies one server message.
    pub fn apply(&mut self, msg: ServerMsg) -> Update {
        let mut up = Update::default();
        let Some(msg) = self.shown.fresh(msg) else {
            return up;
        };
        match msg {
            ServerMsg::Welcome(w) => self.welcome(&mut up, w),
            ServerMsg::Message(m) => {
                let line = self.chat_line(m);
                if line.mention {
                    up.alert = Some((format!("{} mentioned you", line.sender), line.text.clone()));
                }
                self.push(&mut up, line);
            }
            ServerMsg::Private(p) => {
                let line = self.private_line(p);
                if !line.own {
                    up.alert = Some((
                        format!("Private message from {}", line.sender),
                        line.text.clone(),
                    ));
                }
                self.push(&mut up, line);
            }
            ServerMsg::Join { time, id, nickname } => {
                if !self.users.iter().any(|u| u.id == id) {
                    self.users.push(User {
                        id,
                        nickname: nickname.clone(),
                    });
                }
                up.users_changed = true;
                self.push(
                    &mut up,
                    Line::notice(server_time(&time), format!("{nickname} joined the room")),
                );
            }
            ServerMsg::Leave {
                time,
                id,
                nickname,
                reason,
            } => {
                self.users.retain(|u| u.id != id);
                up.users_changed = true;
                let text = if reason.is_empty() {
                    format!("{nickname} left the room")
                } else {
                    format!("{nickname} left the room ({reason})")
                };
                self.push(&mut up, Line::notice(server_time(&time), text));
            }
            ServerMsg::Rename {
                time,
                id,
                old_nickname,
                new_nickname,
            } => {
                if let Some(user) = self.users.iter_mut().find(|u| u.id == id) {
                    user.nickname = new_nickname.clone();
                }
                up.users_changed = true;
                let text = match self.me.as_mut().filter(|me| me.id == id) {
                    Some(me) => {
                        me.nickname = new_nickname.clone();
                        up.me_changed = true;
                        format!("You are now known as {new_nickname}")
                    }
                    None => format!("{old_nickname} is now known as {new_nickname}"),
                };
                self.push(&mut up, Line::notice(server_time(&time), text));
            }
            ServerMsg::Error {
                code,
                message,
                retry_after_ms,
            } => {
                let text = self.describe_error(code, &message, retry_after_ms);
                let login_error = matches!(
                    code,
                    ErrorCode::NicknameTaken | ErrorCode::NicknameInvalid | ErrorCode::AuthFailed
                );
                up.login_refused = login_error && self.me.is_none();
                up.password_needed = code == ErrorCode::AuthFailed;
                up.status = Some(text.clone());
                self.push(&mut up, Line::error(SystemTime::now(), text));
            }
            // The Closed event that follows carries the reason ("Disconnected by …: …").
            ServerMsg::Bye { .. } => {}
            ServerMsg::Ping | ServerMsg::Pong => {}
        }
        up
    }

    fn welcome(&mut self, up: &mut Update, w: Welcome) {
        let me = User {
            id: w.id,
            nickname: w.nickname.clone(),
        };
        self.me = Some(me);
        self.users = w.users;
        if !self.users.iter().any(|u| u.id == w.id) {
            self.users.push(User {
                id: w.id,
                nickname: w.nickname.clone(),
            });
        }
        up.welcomed = true;
        up.me_changed = true;
        up.users_changed = true;
        for m in w.history {
            let line = self.chat_line(m);
            self.push(up, line);
        }
        if let Some(gap) = w.missed {
            let text = format!(
                "Messages {} to {} arrived while you were away and are no longer kept",
                gap.from, gap.to
            );
            self.push(up, Line::notice(SystemTime::now(), text));
        }
        let others = self.users.len() - 1;
        let company = match others {
            0 => "nobody else is here yet".to_string(),
            1 => "1 other person is here".to_string(),
            n => format!("{n} other people are here"),
        };
        let text = if w.resumed {
            format!("Reconnected as {}: {company}", w.nickname)
        } else {
            format!("Welcome, {}: {company}", w.nickname)
        };
        self.push(up, Line::notice(SystemTime::now(), text));
    }

    fn is_me(&self, id: u64, nickname: &str) -> bool {
        self.me.as_ref().is_some_and(|me| {
            me.id == id
                || tlschat::wire::nickname_key(&me.nickname)
                    == tlschat::wire::nickname_key(nickname)
        })
    }

    fn chat_line(&self, m: ChatMessage) -> Line {
        let own = self.is_me(m.sender_id, &m.sender_nickname);
        let mention = !own
            && self
                .me
                .as_ref()
                .is_some_and(|me| mentions(&m.message, &me.nickname));
        Line {
            seq: Some(m.seq),
            time: server_time(&m.time),
            kind: Kind::Chat { action: m.action },
            sender: m.sender_nickname,
            text: m.message,
            own,
            mention,
            delivery: Default::default(),
        }
    }

    fn private_line(&self, p: PrivateMessage) -> Line {
        Line {
            seq: Some(p.seq),
            time: server_time(&p.time),
            own: self.is_me(p.sender_id, &p.sender_nickname),
            kind: Kind::Private {
                to: p.to_nickname,
                action: p.action,
            },
            sender: p.sender_nickname,
            text: p.message,
            mention: false,
            delivery: Default::default(),
        }
    }

    fn push(&mut self, up: &mut Update, line: Line) {
        if self.timeline.len() >= MAX_LINES {
            self.timeline.drop_front(DROP_BATCH);
            up.ops.push(Op::DropFront(DROP_BATCH));
        }
        let index = self.timeline.place(line.seq);
        up.ops.push(Op::Insert(index, line));
    }

    /// One sentence for an error from the server, saying what happened to what the user did.
    pub fn describe_error(
        &self,
        code: ErrorCode,
        message: &str,
        retry_after_ms: Option<u64>,
    ) -> String {
        let nick = &self.requested_nickname;
        match code {
            ErrorCode::NicknameTaken => match &self.me {
                Some(me) => format!(
                    "Nickname '{nick}' is taken: you are still {}. Try another with /nick NAME",
                    me.nickname
                ),
                None => format!("Nickname '{nick}' is taken: choose another and press Login"),
            },
            ErrorCode::NicknameInvalid => format!("Nickname '{nick}' cannot be used: {message}"),
            ErrorCode::AuthFailed if self.sent_password => {
                "Wrong password: type it again and press Login".into()
            }
            ErrorCode::AuthFailed => {
                "This room needs a password: type it in the Password box and press Login".into()
            }
            ErrorCode::NotLoggedIn => "You are not logged in yet: press Login".into(),
            _ => tlschat::runtime::words::server_error(code, message, retry_after_ms),
        }
    }
}

mod outgoing;
#[cfg(test)]
mod outgoing_tests;
#[cfg(test)]
mod tests;
