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
use std::time::Instant;

use openssl::ssl::SslAcceptor;
use tlschat::wire::framing::{LineBuffer, LineTooLong};
use tlschat::wire::{encode, ByeCode, ErrorCode, ServerMsg, MAX_LINE};

use crate::addresses::{Addresses, Slot};
use crate::conn::{Closed, Conn, Frame, PushError, Received};
use crate::ending::{Ending, Loss, Outcome};
use crate::flood::TokenBucket;
use crate::handshake;
use crate::options::Options;
use crate::room::Room;
use crate::writer::Writer;

/// Everything a connection thread shares with the others.
pub struct ServerContext {
    pub addresses: Arc<Addresses>,
    pub room: Room,
    pub acceptor: SslAcceptor,
    pub options: Options,
    pub password: Option<String>,
    pub writer: Arc<Writer>,
    pub next_conn: AtomicU64,
}

/// After this many rejected messages in a row, a flooder is disconnected.
const FLOOD_STRIKES: u32 = 50;
/// How long a connection is quiet before its thread gives back what handling input needed.
const IDLE_AFTER: std::time::Duration = std::time::Duration::from_millis(200);
/// One socket read, and then the plaintext it decrypts to: small, since most lines are, and
/// it lives on every connection thread's stack.
const READ_CHUNK: usize = 4 * 1024;

/// Serves one connection until it ends; returns what became of it, for the log.
/// `slot` counts the connection against its address's limits for as long as it lasts.
pub fn serve(socket: TcpStream, peer: SocketAddr, slot: Slot, server: &ServerContext) -> Outcome {
    let deadline = Instant::now() + server.options.handshake_timeout;
    let tls = match handshake::accept(&socket, &server.acceptor, deadline) {
        Ok(tls) => tls,
        Err(failure) => return Outcome::NoHandshake(failure),
    };
    crate::slim::going_idle();
    let _ = socket.set_nodelay(true);
    let id = server.next_conn.fetch_add(1, Ordering::Relaxed);
    let budget = server.options.send_budget;
    let conn = Arc::new(Conn::new(
        id,
        socket,
        tls,
        budget,
        Arc::clone(&server.writer),
    ));
    if !server.room.arrive(&conn) {
        conn.finish(Some(bye(ByeCode::ShuttingDown, "server shutting down")));
        return Outcome::TurnedAway;
    }
    let opts = &server.options;
    let mut user = UserThread {
        peer,
        server,
        slot,
        conn: Arc::clone(&conn),
        id: None,
        nickname: String::new(),
        bucket: opts
            .flood
            .map(|(rate, burst)| TokenBucket::new(rate, burst)),
        strikes: 0,
    };
    let ending = user.run();
    let Some(id) = user.id else {
        return Outcome::BeforeLogin(ending);
    };
    if ending.dropped() {
        server.room.disconnect(id, &conn, &ending);
    } else {
        server.room.leave(id, &conn, &ending);
    }
    Outcome::Ended {
        id,
        nickname: user.nickname,
        ending,
    }
}

/// What a connection's own thread knows about its peer: who it is in the room once logged
/// in, and what its flood control has counted.
struct UserThread<'a> {
    peer: SocketAddr,
    server: &'a ServerContext,
    slot: Slot,
    conn: Arc<Conn>,
    id: Option<u64>,
    nickname: String,
    bucket: Option<TokenBucket>,
    strikes: u32,
}

mod requests;
use requests::reply;

/// What handling one line asks the connection to do next.
enum Next {
    Continue,
    /// Say the ending's `bye` and close.
    Close(Ending),
}

impl UserThread<'_> {
    fn run(&mut self) -> Ending {
        let opts = &self.server.options;
        let login_deadline = Instant::now() + opts.login_timeout;
        let mut last_heard = Instant::now();
        let mut pinged = false;
        let mut lines = LineBuffer::new(MAX_LINE);
        // The handshake's last read may have brought the first lines along: start with them.
        let mut read = false;
        loop {
            match self.step(&mut lines, read) {
                Ok(true) => {
                    last_heard = Instant::now();
                    pinged = false;
                }
                Ok(false) => {}
                Err(end) => return end,
            }
            read = true;
            let mut slimmed = false;
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
                let wait = deadline.saturating_duration_since(Instant::now());
                // Most users sit idle most of the time: once this one has been quiet a
                // moment, what handling its input needed (the read buffer, a flush for the
                // whole room, OpenSSL's per-thread state) goes back. A busy user never pays
                // for that, an idle one once.
                let (wait, slimming) = match slimmed {
                    false if wait > IDLE_AFTER => (IDLE_AFTER, true),
                    _ => (wait, false),
                };
                match self.conn.wait_readable(wait) {
                    Ok(true) => break,
                    Ok(false) if slimming => {
                        crate::slim::going_idle();
                        slimmed = true;
                        continue;
                    }
                    Ok(false) => {}
                    Err(e) => return self.gone(Some(e)),
                }
                let now = Instant::now();
                if self.id.is_none() && now >= login_deadline {
                    return self.close(Ending::LoginTimeout);
                }
                if now >= idle_deadline {
                    if pinged {
                        return self.close(Ending::Idle);
                    }
                    pinged = true;
                    if let Err(end) = self.reply(encode(&ServerMsg::Ping)) {
                        return end;
                    }
                    self.conn.flush();
                }
            }
        }
    }

    /// Reads what the peer sent (if `read`), decrypts it and handles every complete line;
    /// `Ok(true)` if anything arrived. The read buffer lives in this frame only, so that an
    /// idle connection's stack does not keep it.
    #[inline(never)]
    fn step(&mut self, lines: &mut LineBuffer, read: bool) -> Result<bool, Ending> {
        let mut buf = [0u8; READ_CHUNK];
        let n = if read {
            match self.conn.read_now(&mut buf) {
                Ok(0) => return Err(self.gone(None)),
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    return Ok(false)
                }
                Err(e) => return Err(self.gone(Some(e))),
            }
        } else {
            0
        };
        let received = self.conn.receive(&mut buf, n, lines);
        self.handle_lines(lines)?;
        self.conn.flush();
        match received {
            Ok(Received::More) => Ok(n > 0),
            Ok(Received::PeerClosed) => Err(self.gone(None)),
            Err(e) => Err(Ending::Tls(e.to_string())),
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
                    Next::Close(Ending::LineTooLong)
                }
            };
            if !replies.is_empty() {
                self.reply(std::mem::take(&mut replies))?;
            }
            if let Next::Close(ending) = next {
                return Err(self.close(ending));
            }
        }
    }

    /// Queues a reply behind everything the room queued so far.
    fn reply(&self, bytes: Vec<u8>) -> Result<(), Ending> {
        match self.conn.push(Frame::from(bytes)) {
            Ok(_) => Ok(()),
            Err(PushError::Overflow) => Err(Ending::TooSlow),
            Err(PushError::Closed) => Err(self.gone(None)),
        }
    }

    /// Says the ending's `bye` and closes.
    fn close(&self, ending: Ending) -> Ending {
        let farewell = ending.bye().map(|code| bye(code, &ending.to_string()));
        self.conn.finish(farewell);
        ending
    }

    /// The socket was closed (by the peer, or by the server from another thread) or failed.
    fn gone(&self, error: Option<std::io::Error>) -> Ending {
        self.conn.finish(None);
        match (self.conn.closed(), error) {
            (Some(Closed::TooSlow), _) => Ending::TooSlow,
            (Some(Closed::Replaced | Closed::ShuttingDown), _) => Ending::ClosedByServer,
            (Some(Closed::Lost), _) => Ending::Lost(Some(Loss::StoppedReceiving)),
            (_, Some(e)) => Ending::Lost(Some(Loss::Io(e))),
            (_, None) => Ending::PeerClosed,
        }
    }
}

fn bye(code: ByeCode, reason: &str) -> Frame {
    encode(&ServerMsg::Bye {
        code,
        reason: reason.to_string(),
    })
    .into()
}
