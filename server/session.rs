//! One connection, from the first byte to the last, on its own thread.
//!
//! The thread checks that the peer speaks TLS and completes the handshake under a deadline.
//! Then it blocks reading its socket (no lock held; the read timeout is the login or idle
//! deadline), decrypts what arrived under the connection's TLS lock, and handles each line:
//! with the effect it asked for, or with an `error` saying why not. Its own replies join
//! the connection's queue behind whatever the room queued before them, and it sends them
//! itself. It never waits for anyone else's socket.

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openssl::ssl::SslAcceptor;
use tlschat::framing::{LineBuffer, LineTooLong};
use tlschat::{
    decode_client, encode, normalize_nickname, validate_message, ByeCode, ClientMsg, ErrorCode,
    ServerMsg, MAX_LINE,
};

use crate::addresses::{Addresses, Slot};
use crate::conn::{Closed, Conn, Frame, PushError, Received};
use crate::flood::TokenBucket;
use crate::handshake;
use crate::log;
use crate::options::Options;
use crate::room::{Refusal, Room};
use crate::writer::Writer;

/// Everything a connection thread shares with the others.
pub struct Shared {
    pub addresses: Arc<Addresses>,
    pub room: Room,
    pub acceptor: SslAcceptor,
    pub options: Options,
    pub password: Option<String>,
    pub writer: Arc<Writer>,
    pub next_conn: AtomicU64,
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
/// One socket read, and then the plaintext it decrypts to: small, since most lines are, and
/// it lives on every connection thread's stack.
const READ_CHUNK: usize = 4 * 1024;

/// Serves one connection until it ends; returns what to log.
/// `slot` counts the connection against its address's limits for as long as it lasts.
pub fn serve(socket: TcpStream, peer: SocketAddr, slot: Slot, shared: &Shared) -> String {
    let mut buf = [0u8; READ_CHUNK];
    let deadline = Instant::now() + shared.options.handshake_timeout;
    let tls = match handshake::accept(&socket, &shared.acceptor, deadline, &mut buf) {
        Ok(tls) => tls,
        Err(outcome) => return outcome,
    };
    crate::slim::after_handshake();
    let _ = socket.set_nodelay(true);
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let budget = shared.options.send_budget;
    let conn = Arc::new(Conn::new(
        id,
        socket,
        tls,
        budget,
        Arc::clone(&shared.writer),
    ));
    if !shared.room.arrive(&conn) {
        conn.finish(Some(bye(ByeCode::ShuttingDown, "server shutting down")));
        return "turned away: shutting down".into();
    }
    let opts = &shared.options;
    let mut session = Session {
        peer,
        shared,
        slot,
        conn: Arc::clone(&conn),
        id: None,
        nickname: String::new(),
        bucket: opts
            .flood
            .map(|(rate, burst)| TokenBucket::new(rate, burst)),
        strikes: 0,
    };
    let end = session.run(&mut buf);
    if let Some(id) = session.id {
        if end.dropped {
            shared.room.disconnect(id, &conn, &end.reason);
            format!("{} (#{id}) dropped: {}", session.nickname, end.reason)
        } else {
            shared.room.leave(id, &conn, &end.reason);
            format!("{} (#{id}) left: {}", session.nickname, end.reason)
        }
    } else {
        format!("closed before login: {}", end.reason)
    }
}

struct Session<'a> {
    peer: SocketAddr,
    shared: &'a Shared,
    slot: Slot,
    conn: Arc<Conn>,
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
    fn run(&mut self, buf: &mut [u8]) -> Ending {
        let opts = &self.shared.options;
        let login_deadline = Instant::now() + opts.login_timeout;
        let mut last_heard = Instant::now();
        let mut pinged = false;
        let mut lines = LineBuffer::new(MAX_LINE);
        // The handshake's last read may have brought the first lines along: start with them.
        let mut n = 0;
        loop {
            let received = self.conn.receive(buf, n, &mut lines);
            let was_in = self.id.is_some();
            if let Err(end) = self.handle_lines(&mut lines) {
                return end;
            }
            self.conn.flush();
            if !was_in && self.id.is_some() {
                // Logging in ran deep (the welcome, a first flush for the whole room): most
                // users then sit idle, so hand those pages back.
                crate::slim::release_unused_stack();
            }
            match received {
                Ok(Received::More) => {}
                Ok(Received::PeerClosed) => return self.gone(None),
                Err(e) => return dropped(format!("TLS error ({e})")),
            }
            n = loop {
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
                let wait = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1));
                match self.conn.read(buf, Some(wait)) {
                    Ok(0) => return self.gone(None),
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        let now = Instant::now();
                        if self.id.is_none() && now >= login_deadline {
                            return self.close(ByeCode::LoginTimeout, "no login in time");
                        }
                        if now >= idle_deadline {
                            if pinged {
                                self.close(ByeCode::Idle, "idle for too long");
                                return dropped("idle for too long");
                            }
                            pinged = true;
                            if let Err(end) = self.reply(encode(&ServerMsg::Ping)) {
                                return end;
                            }
                            self.conn.flush();
                        }
                    }
                    Err(e) => return self.gone(Some(e)),
                }
            };
            last_heard = Instant::now();
            pinged = false;
        }
    }

    /// Handles every complete line received; `Err` when the connection must end.
    fn handle_lines(&mut self, lines: &mut LineBuffer) -> Result<(), Ending> {
        let mut replies = Vec::new();
        loop {
            let next = match lines.next_line() {
                Ok(Some(line)) => self.handle(line, &mut replies),
                Ok(None) => return Ok(()),
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
                self.reply(std::mem::take(&mut replies))?;
            }
            if let Next::Close(code, reason) = next {
                return Err(self.close(code, &reason));
            }
        }
    }

    /// Queues a reply behind everything the room queued so far.
    fn reply(&self, bytes: Vec<u8>) -> Result<(), Ending> {
        match self.conn.push(Frame::from(bytes)) {
            Ok(_) => Ok(()),
            Err(PushError::Overflow) => Err(ending("too slow")),
            Err(PushError::Closed) => Err(self.gone(None)),
        }
    }

    /// Says `bye` and closes.
    fn close(&self, code: ByeCode, reason: &str) -> Ending {
        self.conn.finish(Some(bye(code, reason)));
        ending(reason)
    }

    /// The socket was closed (by the peer, or by the server from another thread) or failed.
    fn gone(&self, error: Option<std::io::Error>) -> Ending {
        self.conn.finish(None);
        match (self.conn.closed(), error) {
            (Some(Closed::TooSlow), _) => ending("too slow"),
            (Some(Closed::Replaced | Closed::ShuttingDown), _) => ending("closed by the server"),
            (Some(Closed::Lost), _) => dropped("connection lost (the peer stopped receiving)"),
            (_, Some(e)) => dropped(format!(
                "connection lost ({})",
                tlschat::connect::describe_io(&e)
            )),
            (_, None) => dropped("connection closed"),
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
            let now = Instant::now();
            let user = self.bucket.as_mut().map_or(Ok(()), |b| b.take(now));
            // What a logged-in user puts into the room also comes out of the budget its
            // address shares with its other connections, past and present.
            let address = || match self.id {
                Some(_) => self.slot.take_message(now),
                None => Ok(()),
            };
            if let Err(wait) = user.and_then(|()| address()) {
                let ms = wait.as_millis().max(1) as u64;
                out.extend_from_slice(&encode(&ServerMsg::Error {
                    code: ErrorCode::RateLimited,
                    message: format!("too many messages: wait {ms} ms; this one was not sent"),
                    retry_after_ms: Some(ms),
                }));
                return self.strike();
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
                self.slot.log_in()?;
                let who = room
                    .join(nickname, &self.conn)
                    .inspect_err(|_| self.slot.log_out())?;
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
        self.slot.log_in()?;
        let who = self
            .shared
            .room
            .resume(token, last_seq, nickname, &self.conn)
            .inspect_err(|_| self.slot.log_out())?;
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
            | ErrorCode::TooManyConnections
    )
}

fn reply(out: &mut Vec<u8>, code: ErrorCode, message: String) {
    out.extend_from_slice(&encode(&ServerMsg::error(code, message)));
}

fn bye(code: ByeCode, reason: &str) -> Frame {
    encode(&ServerMsg::Bye {
        code,
        reason: reason.to_string(),
    })
    .into()
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
