//! One connection, from the first byte to the last, on its own thread.
//!
//! The thread checks that the peer speaks TLS, completes the handshake under a deadline, then
//! owns the TLS stream through a [`Pipe`] and sleeps until the peer sends something, the room
//! queues something for it, or a deadline (login, idle) passes. Everything the peer sends is
//! answered: with the effect it asked for, or with an `error` saying why not.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use native_tls::TlsAcceptor;
use tlschat::framing::LineTooLong;
use tlschat::pipe::{Mailbox, Pipe};
use tlschat::{
    decode_client, encode, normalize_nickname, validate_message, ByeCode, ClientMsg, ErrorCode,
    ServerMsg, MAX_LINE,
};

use crate::flood::TokenBucket;
use crate::handshake;
use crate::log;
use crate::options::Options;
use crate::room::{Refusal, Room};

/// Everything a connection thread shares with the others.
pub struct Shared {
    pub room: Room,
    pub acceptor: TlsAcceptor,
    pub options: Options,
    pub password: Option<String>,
}

/// How a connection ended, for the log and the room's leave notice.
struct Ending {
    reason: String,
    /// The connection was lost rather than closed on purpose: the user may come back.
    dropped: bool,
}

fn ending(reason: impl Into<String>) -> Ending {
    Ending {
        reason: reason.into(),
        dropped: false,
    }
}

fn dropped(reason: impl Into<String>) -> Ending {
    Ending {
        reason: reason.into(),
        dropped: true,
    }
}

/// After this many rejected messages in a row, a flooder is disconnected.
const FLOOD_STRIKES: u32 = 50;

/// Serves one connection until it ends; returns what to log.
pub fn serve(socket: TcpStream, peer: SocketAddr, shared: &Shared) -> String {
    let deadline = Instant::now() + shared.options.handshake_timeout;
    let tls = match handshake::accept(socket, &shared.acceptor, deadline) {
        Ok(tls) => tls,
        Err(outcome) => return outcome,
    };
    let opts = &shared.options;
    let write_timeout = Duration::from_secs(10);
    let mut pipe = match Pipe::start(tls, opts.send_budget, write_timeout, MAX_LINE) {
        Ok(pipe) => pipe,
        Err(e) => return format!("could not start the connection: {e}"),
    };
    if !shared.room.arrive(pipe.mailbox()) {
        let _ = pipe.send_now(&bye(ByeCode::ShuttingDown, "server shutting down"));
        return "turned away: shutting down".into();
    }
    let mut session = Session {
        peer,
        shared,
        mailbox: Arc::clone(pipe.mailbox()),
        id: None,
        nickname: String::new(),
        bucket: opts
            .flood
            .map(|(rate, burst)| TokenBucket::new(rate, burst)),
        strikes: 0,
    };
    let end = session.run(&mut pipe);
    if let Some(id) = session.id {
        let mailbox = &session.mailbox;
        if end.dropped {
            shared.room.disconnect(id, mailbox, &end.reason);
            format!("{} (#{id}) dropped: {}", session.nickname, end.reason)
        } else {
            shared.room.leave(id, mailbox, &end.reason);
            format!("{} (#{id}) left: {}", session.nickname, end.reason)
        }
    } else {
        format!("closed before login: {}", end.reason)
    }
}

struct Session<'a> {
    peer: SocketAddr,
    shared: &'a Shared,
    mailbox: Arc<Mailbox>,
    id: Option<u64>,
    nickname: String,
    bucket: Option<TokenBucket>,
    strikes: u32,
}

/// What handling one line asks the connection to do next.
enum Next {
    Continue,
    /// Send this `bye` and close.
    Close(ByeCode, String),
}

impl Session<'_> {
    fn run(&mut self, pipe: &mut Pipe) -> Ending {
        let opts = &self.shared.options;
        let login_deadline = Instant::now() + opts.login_timeout;
        let mut last_heard = Instant::now();
        let mut pinged = false;
        loop {
            let idle_deadline = last_heard
                + if pinged {
                    opts.idle_timeout
                } else {
                    opts.idle_timeout / 2
                };
            let deadline = match self.id {
                None => idle_deadline.min(login_deadline),
                Some(_) => idle_deadline,
            };
            let wake = match pipe.wait(Some(deadline)) {
                Ok(wake) => wake,
                Err(e) => return dropped(format!("connection lost ({e})")),
            };
            if wake.input {
                last_heard = Instant::now();
                pinged = false;
            }
            if wake.overflowed {
                // The room already removed us; a last word, if the peer is reading at all.
                let bye = bye(ByeCode::TooSlow, "too slow: you were not reading messages");
                let _ = pipe.send_now(&bye);
                return ending("too slow");
            }
            if let Some(bye) = wake.close_requested {
                let _ = pipe.send_now(&bye);
                return ending("closed by the server");
            }
            let mut replies = Vec::new();
            loop {
                let next = match pipe.lines.next_line() {
                    Ok(Some(line)) => self.handle(line, &mut replies),
                    Ok(None) => break,
                    Err(LineTooLong { limit }) => {
                        reply(
                            &mut replies,
                            ErrorCode::LineTooLong,
                            format!("a line may be at most {limit} bytes"),
                        );
                        Next::Close(ByeCode::ProtocolError, "line too long".into())
                    }
                };
                if !replies.is_empty() {
                    pipe.reply(&replies);
                    replies.clear();
                }
                if let Next::Close(code, reason) = next {
                    let _ = pipe.send_now(&bye(code, &reason));
                    return ending(reason);
                }
            }
            if wake.timed_out {
                let now = Instant::now();
                if self.id.is_none() && now >= login_deadline {
                    let _ = pipe.send_now(&bye(ByeCode::LoginTimeout, "no login in time"));
                    return ending("no login in time");
                }
                if now >= idle_deadline {
                    if pinged {
                        let _ = pipe.send_now(&bye(ByeCode::Idle, "idle for too long"));
                        return dropped("idle for too long");
                    }
                    pinged = true;
                    pipe.out.extend_from_slice(&encode(&ServerMsg::Ping));
                }
            }
            if let Err(e) = pipe.flush() {
                return dropped(format!(
                    "connection lost ({})",
                    tlschat::connect::describe_io(&e)
                ));
            }
            if let Some(why) = wake.peer_gone {
                return dropped(if why == "closed by peer" {
                    "connection closed".to_string()
                } else {
                    format!("connection lost ({why})")
                });
            }
        }
    }

    fn handle(&mut self, line: &[u8], out: &mut Vec<u8>) -> Next {
        let msg = match decode_client(line) {
            Ok(msg) => msg,
            Err(e) => return self.reject(out, e.code, e.detail),
        };
        // Keep-alives, leaving and the first login are free; everything else is metered.
        let metered = match msg {
            ClientMsg::Ping | ClientMsg::Pong | ClientMsg::Quit { .. } => false,
            ClientMsg::Login { .. } | ClientMsg::Resume { .. } => self.id.is_some(),
            _ => true,
        };
        if metered {
            if let Some(bucket) = &mut self.bucket {
                if let Err(wait) = bucket.take(Instant::now()) {
                    let ms = wait.as_millis().max(1) as u64;
                    out.extend_from_slice(&encode(&ServerMsg::Error {
                        code: ErrorCode::RateLimited,
                        message: format!("too many messages: wait {ms} ms; this one was not sent"),
                        retry_after_ms: Some(ms),
                    }));
                    return self.strike();
                }
            }
        }
        let result = match msg {
            ClientMsg::Ping => {
                out.extend_from_slice(&encode(&ServerMsg::Pong));
                return Next::Continue;
            }
            ClientMsg::Pong => return Next::Continue,
            ClientMsg::Quit { .. } => return Next::Close(ByeCode::Quit, "quit".into()),
            ClientMsg::Login { nickname, password } => self.login(&nickname, password),
            ClientMsg::Resume {
                token,
                last_seq,
                nickname,
                password,
            } => self.resume(&token, last_seq, &nickname, password),
            _ if self.id.is_none() => Err(Refusal {
                code: ErrorCode::NotLoggedIn,
                message: "log in first: send {\"type\":\"login\",\"nickname\":\"...\"}".into(),
            }),
            ClientMsg::Broadcast { message, action } => self.with_text(&message, |id, text| {
                self.shared.room.say(id, text, action).map(|_| ())
            }),
            ClientMsg::Private {
                to,
                message,
                action,
            } => self.with_text(&message, |id, text| {
                self.shared.room.whisper(id, &to, text, action)
            }),
        };
        match result {
            Ok(()) => {
                self.strikes = 0;
                Next::Continue
            }
            Err(Refusal { code, message }) if self.id.is_none() && is_login_refusal(code) => {
                reply(out, code, message.clone());
                log!("{}: login refused: {message}", self.peer);
                Next::Close(ByeCode::Refused, message)
            }
            // The server's own failure (a full disk) is no fault of the peer's.
            Err(Refusal {
                code: ErrorCode::ServerError,
                message,
            }) => {
                reply(out, ErrorCode::ServerError, message);
                Next::Continue
            }
            Err(Refusal { code, message }) => self.reject(out, code, message),
        }
    }

    fn with_text(
        &self,
        text: &str,
        send: impl FnOnce(u64, &str) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let text = validate_message(text).map_err(|(code, message)| Refusal { code, message })?;
        send(self.id.unwrap_or_default(), text)
    }

    fn login(&mut self, nickname: &str, password: Option<String>) -> Result<(), Refusal> {
        let nickname = &normalize_nickname(nickname).map_err(|e| Refusal {
            code: ErrorCode::NicknameInvalid,
            message: e.to_string(),
        })?;
        let room = &self.shared.room;
        match self.id {
            Some(id) => {
                room.rename(id, nickname)?;
                log!("{}: #{id} {} is now {nickname}", self.peer, self.nickname);
            }
            None => {
                self.check_password(password)?;
                let who = room.join(nickname, &self.mailbox)?;
                log!("{}: joined as {nickname} (#{})", self.peer, who.id);
                self.id = Some(who.id);
            }
        }
        self.nickname = nickname.to_string();
        Ok(())
    }

    fn resume(
        &mut self,
        token: &str,
        last_seq: Option<u64>,
        nickname: &str,
        password: Option<String>,
    ) -> Result<(), Refusal> {
        if self.id.is_some() {
            return Err(Refusal {
                code: ErrorCode::BadMessage,
                message: "already logged in: resume is only for a new connection".into(),
            });
        }
        let nickname = &normalize_nickname(nickname).map_err(|e| Refusal {
            code: ErrorCode::NicknameInvalid,
            message: e.to_string(),
        })?;
        self.check_password(password)?;
        let who = self
            .shared
            .room
            .resume(token, last_seq, nickname, &self.mailbox)?;
        let how = if who.resumed { "came back" } else { "joined" };
        log!("{}: {how} as {} (#{})", self.peer, who.nickname, who.id);
        self.id = Some(who.id);
        self.nickname = who.nickname;
        Ok(())
    }

    fn check_password(&self, password: Option<String>) -> Result<(), Refusal> {
        let Some(expected) = &self.shared.password else {
            return Ok(());
        };
        let given = password.unwrap_or_default();
        if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(Refusal {
                code: ErrorCode::AuthFailed,
                message: "wrong password".into(),
            })
        }
    }

    fn reject(&mut self, out: &mut Vec<u8>, code: ErrorCode, message: String) -> Next {
        reply(out, code, message);
        self.strike()
    }

    /// Counts a rejected message; a peer that sends nothing acceptable for long is cut off.
    fn strike(&mut self) -> Next {
        self.strikes += 1;
        if self.strikes >= FLOOD_STRIKES {
            Next::Close(ByeCode::Flooding, "too many rejected messages".into())
        } else {
            Next::Continue
        }
    }
}

fn is_login_refusal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NicknameInvalid
            | ErrorCode::NicknameTaken
            | ErrorCode::AuthFailed
            | ErrorCode::ServerFull
    )
}

fn reply(out: &mut Vec<u8>, code: ErrorCode, message: String) {
    out.extend_from_slice(&encode(&ServerMsg::error(code, message)));
}

fn bye(code: ByeCode, reason: &str) -> Vec<u8> {
    encode(&ServerMsg::Bye {
        code,
        reason: reason.to_string(),
    })
}

/// Compares secrets without revealing, through timing, how much of them matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq(b"hunter2", b"hunter2"));
        assert!(!constant_time_eq(b"hunter2", b"hunter3"));
        assert!(!constant_time_eq(b"hunter2", b"hunter22"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
