//! A client's side of one connection: a thread that owns the TLS stream, logs in, turns
//! server lines into [`NetEvent`]s and sends what the [`ClientHandle`] queues.
//!
//! The GTK client, the terminal client and the load generator all run their connections
//! through [`spawn`]; each passes a callback that forwards events to its own loop (a glib
//! channel, an mpsc channel, a statistics recorder). Reconnecting is the caller's policy:
//! [`Backoff`] computes the schedule.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::confirm::{Reconcile, Unconfirmed};
use crate::connect::{self, ConnectError};
use crate::pacing::{Outbox, Pacer};
use crate::pipe::{Frame, Mailbox, Pipe, PushError};
pub use crate::reconnect::{random_unit, Backoff, Resume, ResumeInfo};
use crate::{decode_server, encode, ByeCode, ClientMsg, ErrorCode, ServerMsg, MAX_SERVER_LINE};

/// Send a keep-alive `ping` after this long without hearing from the server.
pub const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long to keep reading the server's last words after sending `quit`.
const QUIT_DRAIN: Duration = Duration::from_secs(2);
/// Give up on a server silent for this long (it missed a keep-alive by far).
pub const SILENCE_LIMIT: Duration = Duration::from_secs(75);

/// Where to connect and how to log in.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `HOST:PORT`.
    pub server: String,
    /// PEM of the CA that signs the server's certificate.
    pub ca_pem: Vec<u8>,
    /// The first message, normally a `login`.
    pub login: ClientMsg,
    pub connect_timeout: Duration,
    /// Bytes the application may queue before [`ClientHandle::send`] fails.
    pub send_budget: usize,
    /// When set, this connection comes back as the identity (and from the place in the
    /// history) that earlier connections sharing this `Resume` left, and keeps it up to date.
    pub resume: Option<Resume>,
}

impl ClientConfig {
    /// A config with the usual timeouts, logging in as `nickname`.
    pub fn new(server: &str, ca_pem: &[u8], nickname: &str, password: Option<String>) -> Self {
        ClientConfig {
            server: server.to_string(),
            ca_pem: ca_pem.to_vec(),
            login: ClientMsg::Login {
                nickname: nickname.to_string(),
                password,
            },
            connect_timeout: Duration::from_secs(10),
            send_budget: 4 * 1024 * 1024,
            resume: None,
        }
    }

    /// The first line to send: `resume` when there is an identity to reclaim, else `login`.
    fn first_message(&self) -> ClientMsg {
        let Some(resume) = &self.resume else {
            return self.login.clone();
        };
        let info = resume.snapshot();
        match (&self.login, info.token) {
            (ClientMsg::Login { nickname, password }, Some(token)) => ClientMsg::Resume {
                token,
                last_seq: info.last_seq,
                nickname: info.nickname.unwrap_or_else(|| nickname.clone()),
                password: password.clone(),
            },
            _ => self.login.clone(),
        }
    }
}

/// What happens on a connection, in order: `Connected`, any number of `Server`, one `Closed`.
#[derive(Debug, Clone, PartialEq)]
pub enum NetEvent {
    /// TLS is up and the login was sent.
    Connected { server: String, fingerprint: String },
    /// A message from the server.
    Server(ServerMsg),
    /// A line from the server this client could not understand (logged, not fatal).
    Garbled(String),
    /// Chat messages sent on a connection that dropped before the server answered them, and
    /// that the catch-up after reconnecting did not show either: most likely never
    /// delivered. Tell the user, so they can send them again.
    NotDelivered(Vec<ClientMsg>),
    /// The server refused a chat message this client sent (the `error` that says so comes
    /// as this event, not as [`NetEvent::Server`]): tell the user which, so they can retry.
    Refused {
        message: ClientMsg,
        code: ErrorCode,
        /// The server's words, for people.
        reason: String,
        retry_after_ms: Option<u64>,
    },
    /// The connection is over. `reason` is a sentence for people; `retry` tells whether
    /// reconnecting may help; `detail` is for logs.
    Closed {
        reason: String,
        retry: bool,
        detail: String,
    },
}

/// Sends messages on a connection and closes it; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct ClientHandle {
    shared: Arc<Mutex<Link>>,
}

#[derive(Default)]
struct Link {
    mailbox: Option<Arc<Mailbox>>,
    cancelled: bool,
    unconfirmed: Unconfirmed,
    /// Holds back what the server's flood control would refuse.
    outbox: Outbox,
}

/// Messages held back by pacing before [`ClientHandle::send`] reports a backlog.
const MAX_HELD: usize = 10_000;

/// Why a message was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    NotConnected,
    /// The server is not reading what we send (the queue is over budget).
    Backlogged,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::NotConnected => "Not connected: the message was not sent",
            SendError::Backlogged => "The server is not keeping up: the message was not sent",
        })
    }
}

impl ClientHandle {
    /// Queues a message; it is written as soon as the connection thread wakes, or, past the
    /// server's announced flood limit, as soon as the limit allows. A chat message that the
    /// server never answers is reported as [`NetEvent::NotDelivered`].
    pub fn send(&self, msg: &ClientMsg) -> Result<(), SendError> {
        let mut link = self.lock();
        match &link.mailbox {
            None => return Err(SendError::NotConnected),
            Some(m) if m.is_closed() => return Err(SendError::NotConnected),
            Some(_) if link.outbox.held() >= MAX_HELD => return Err(SendError::Backlogged),
            Some(_) => {}
        }
        if !link.outbox.admit(msg, Instant::now()) {
            if link.outbox.held() == 1 {
                // An empty frame writes nothing but wakes the connection thread, which then
                // sleeps only until the held message may go.
                link_push(&link, Frame::from(Vec::new()))?;
            }
            return Ok(());
        }
        // Recorded under the same lock the connection thread takes to match the answer.
        link_push(&link, Frame::from(encode(msg)))?;
        link.unconfirmed.sent(msg);
        Ok(())
    }

    /// Queues an already encoded line (not tracked for delivery).
    pub fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        link_push(&self.lock(), frame)
    }

    /// Sends `quit` and closes; a connection still being made is abandoned.
    pub fn quit(&self) {
        let mut link = self.lock();
        link.cancelled = true;
        if let Some(m) = &link.mailbox {
            m.close(encode(&ClientMsg::Quit { reason: None }));
        }
    }

    /// Drops the connection at once without a word, as a crash or a lost network would.
    pub fn abort(&self) {
        let mut link = self.lock();
        link.cancelled = true;
        if let Some(m) = &link.mailbox {
            m.abort();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Link> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn link_push(link: &Link, frame: Frame) -> Result<(), SendError> {
    match &link.mailbox {
        None => Err(SendError::NotConnected),
        Some(m) => m.push(frame).map_err(|e| match e {
            PushError::Closed => SendError::NotConnected,
            PushError::Overflow => SendError::Backlogged,
        }),
    }
}

/// Starts a connection thread; `on_event` is called on that thread for every [`NetEvent`].
pub fn spawn<F>(config: ClientConfig, on_event: F) -> ClientHandle
where
    F: FnMut(NetEvent) + Send + 'static,
{
    let handle = ClientHandle {
        shared: Arc::new(Mutex::new(Link::default())),
    };
    let thread_handle = handle.clone();
    let spawned = thread::Builder::new()
        .name("connection".into())
        .spawn(move || run(config, thread_handle, on_event));
    if let Err(e) = spawned {
        eprintln!("could not start a connection thread: {e}");
    }
    handle
}

fn run<F: FnMut(NetEvent)>(config: ClientConfig, handle: ClientHandle, mut on_event: F) {
    let mut reconcile = match &config.resume {
        Some(resume) => Reconcile::new(resume.take_carried(), resume.snapshot().id),
        None => Reconcile::default(),
    };
    let closed = match connect_and_talk(&config, &handle, &mut reconcile, &mut on_event) {
        Ok(closed) => closed,
        Err(e) => NetEvent::Closed {
            reason: e.to_string(),
            retry: e.is_transient(),
            detail: e.detail(),
        },
    };
    let mut unanswered = reconcile.take();
    {
        let mut link = handle.lock();
        link.mailbox = None;
        unanswered.extend(link.unconfirmed.take());
        unanswered.extend(link.outbox.take_held());
    }
    let retry = matches!(closed, NetEvent::Closed { retry: true, .. });
    match &config.resume {
        // The next connection's catch-up will tell whether they arrived.
        Some(resume) if retry => resume.carry(unanswered),
        _ if unanswered.is_empty() => {}
        _ => on_event(NetEvent::NotDelivered(unanswered)),
    }
    on_event(closed);
}

fn connect_and_talk<F: FnMut(NetEvent)>(
    config: &ClientConfig,
    handle: &ClientHandle,
    reconcile: &mut Reconcile,
    on_event: &mut F,
) -> Result<NetEvent, ConnectError> {
    let connected = connect::connect(&config.server, &config.ca_pem, config.connect_timeout)?;
    let io_error = |error| ConnectError::Tcp {
        server: config.server.clone(),
        error,
    };
    let mut pipe = Pipe::start(
        connected.tls,
        config.send_budget,
        config.connect_timeout,
        MAX_SERVER_LINE,
    )
    .map_err(io_error)?;
    {
        let mut link = handle.lock();
        if link.cancelled {
            return Ok(closed("Disconnected", false, "cancelled before login"));
        }
        link.mailbox = Some(Arc::clone(pipe.mailbox()));
    }
    pipe.out.extend_from_slice(&encode(&config.first_message()));
    pipe.flush().map_err(io_error)?;
    on_event(NetEvent::Connected {
        server: config.server.clone(),
        fingerprint: connected.fingerprint,
    });
    let mut talk = Talk {
        server: &config.server,
        resume: config.resume.as_ref(),
        handle,
        reconcile,
        my_id: None,
    };
    Ok(talk.run(&mut pipe, on_event))
}

fn closed(reason: &str, retry: bool, detail: &str) -> NetEvent {
    NetEvent::Closed {
        reason: reason.into(),
        retry,
        detail: detail.into(),
    }
}

/// One connection's conversation after login, and what it keeps track of.
struct Talk<'a> {
    server: &'a str,
    resume: Option<&'a Resume>,
    handle: &'a ClientHandle,
    reconcile: &'a mut Reconcile,
    my_id: Option<u64>,
}

impl Talk<'_> {
    /// Updates what is tracked, then hands the message on.
    fn deliver<F: FnMut(NetEvent)>(&mut self, msg: ServerMsg, on_event: &mut F) {
        let refused = {
            let mut link = self.handle.lock();
            if let ServerMsg::Welcome(w) = &msg {
                self.my_id = Some(w.id);
                let pacer = Pacer::announced(w.rate, w.burst, Instant::now());
                link.outbox.set_pacer(pacer);
            }
            link.unconfirmed.observe(&msg, self.my_id)
        };
        if let Some(resume) = self.resume {
            resume.observe(&msg);
        }
        let lost = self.reconcile.observe(&msg);
        match (refused, msg) {
            (
                Some(message),
                ServerMsg::Error {
                    code,
                    message: reason,
                    retry_after_ms,
                },
            ) => on_event(NetEvent::Refused {
                message,
                code,
                reason,
                retry_after_ms,
            }),
            (_, msg) => on_event(NetEvent::Server(msg)),
        }
        if let Some(lost) = lost {
            on_event(NetEvent::NotDelivered(lost));
        }
    }

    fn run<F: FnMut(NetEvent)>(&mut self, pipe: &mut Pipe, on_event: &mut F) -> NetEvent {
        let server = self.server;
        let mut last_heard = Instant::now();
        let mut pinged = false;
        let mut bye: Option<(ByeCode, String)> = None;
        // After the user quits, the server's last words (echoes, `bye`) are still read.
        let mut quitting: Option<Instant> = None;
        loop {
            let keepalive = last_heard + if pinged { SILENCE_LIMIT } else { KEEPALIVE };
            let mut deadline = quitting.map_or(keepalive, |q| q.min(keepalive));
            if quitting.is_none() {
                let held = self.handle.lock().outbox.next_release(Instant::now());
                deadline = held.map_or(deadline, |at| at.min(deadline));
            }
            let wake = match pipe.wait(Some(deadline)) {
                Ok(w) => w,
                Err(e) => return lost(server, bye, &e.to_string()),
            };
            if wake.input {
                last_heard = Instant::now();
                pinged = false;
            }
            loop {
                let line = match pipe.lines.next_line() {
                    Ok(Some(line)) => line,
                    Ok(None) => break,
                    Err(_) => {
                        let reason =
                            format!("{server} sent a line longer than {MAX_SERVER_LINE} bytes");
                        return closed(&reason, true, "line too long");
                    }
                };
                match decode_server(line) {
                    Ok(ServerMsg::Ping) => pipe.out.extend_from_slice(&encode(&ClientMsg::Pong)),
                    Ok(ServerMsg::Bye { code, reason }) => {
                        bye = Some((code, reason.clone()));
                        on_event(NetEvent::Server(ServerMsg::Bye { code, reason }));
                    }
                    Ok(msg) => self.deliver(msg, on_event),
                    Err(e) => on_event(NetEvent::Garbled(e.detail)),
                }
            }
            if let Some(last_words) = wake.close_requested {
                if pipe.send_now(&last_words).is_err() {
                    return closed("Disconnected", false, "closed by the user");
                }
                quitting = Some(Instant::now() + QUIT_DRAIN);
                continue;
            }
            let now = Instant::now();
            let drained = quitting.is_some_and(|q| now >= q);
            if quitting.is_some() && (drained || wake.peer_gone.is_some()) {
                return closed("Disconnected", false, "closed by the user");
            }
            if quitting.is_none() {
                self.release_held(pipe, now);
            }
            if wake.timed_out && now >= keepalive {
                if pinged {
                    return closed(
                        &format!("Lost the connection to {server}: the server stopped answering"),
                        true,
                        "keep-alive timed out",
                    );
                }
                pinged = true;
                pipe.out.extend_from_slice(&encode(&ClientMsg::Ping));
            }
            if let Err(e) = pipe.flush() {
                return lost(server, bye, &e.to_string());
            }
            if let Some(why) = wake.peer_gone {
                return lost(server, bye, &why);
            }
        }
    }
}

impl Talk<'_> {
    /// Writes the held messages that the pacer now allows, tracked like any other.
    fn release_held(&mut self, pipe: &mut Pipe, now: Instant) {
        let mut link = self.handle.lock();
        for msg in link.outbox.release(now) {
            pipe.out.extend_from_slice(&encode(&msg));
            link.unconfirmed.sent(&msg);
        }
    }
}

/// The `Closed` event for a connection that ended, explained by the server's `bye` if any.
fn lost(server: &str, bye: Option<(ByeCode, String)>, detail: &str) -> NetEvent {
    match bye {
        Some((code, reason)) => {
            let retry = code.invites_reconnect();
            closed(
                &format!("Disconnected by {server}: {reason}"),
                retry,
                detail,
            )
        }
        None if detail == "connection aborted" => closed("Disconnected", false, detail),
        None => closed(&format!("Lost the connection to {server}"), true, detail),
    }
}
