//! The client runtime, shared by the GTK client, the terminal client and the load generator:
//! everything a client does besides drawing.
//!
//! - [`connect`] opens a verified TLS connection (with [`crate::certs`] fingerprints and [`address`]
//!   parsing), worded for people when it fails.
//! - This module runs one connection on its own thread: it logs in, turns server lines into
//!   [`NetEvent`]s and sends what the [`ClientHandle`] queues, through a [`pipe`] and its
//!   [`mailbox`], paced to the server's flood limit by [`pacing`].
//! - [`reconnect`] remembers what a resume needs and when to try again; [`delivery`] knows
//!   which sent messages reached the room, so none is lost without a word.
//!
//! Each front end passes [`spawn`] a callback that forwards events to its own loop (a glib
//! channel, an mpsc channel, a statistics recorder). Reconnecting is the caller's policy:
//! [`Backoff`] computes the schedule.

pub mod address;
pub mod clock;
pub mod command;
pub mod completion;
pub mod connect;
mod conversation;
pub mod delivery;
pub mod mailbox;
pub mod pacing;
pub mod pipe;
pub mod reconnect;
pub mod shown;
pub mod words;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub use self::delivery::{MessageId, SentMessage};
use self::delivery::{Reconcile, Unconfirmed};
use self::pacing::Outbox;
use self::pipe::{Frame, Mailbox, Pipe, PushError};
pub use self::reconnect::{random_unit, Backoff, Resume, ResumeInfo};
use self::words::DISCONNECTED;
use connect::ConnectError;

use crate::wire::{encode, ClientMsg, ErrorCode, ServerMsg, MAX_SERVER_LINE};
use conversation::{closed, Conversation};

/// Send a keep-alive `ping` after this long without hearing from the server.
pub const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long to keep reading the server's last words after sending `quit`.
pub const QUIT_DRAIN: Duration = Duration::from_secs(2);
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
    /// A chat message this client sent reached the room: its echo (or the catch-up that
    /// showed it) came just before, as [`NetEvent::Server`].
    Delivered(MessageId),
    /// A line from the server this client could not understand (logged, not fatal).
    Garbled(String),
    /// Chat messages sent on a connection that dropped before the server answered them, and
    /// that the catch-up after reconnecting did not show either: most likely never
    /// delivered. Tell the user, so they can send them again.
    NotDelivered(Vec<SentMessage>),
    /// The server refused a chat message this client sent (the `error` that says so comes
    /// as this event, not as [`NetEvent::Server`]): tell the user which, so they can retry.
    Refused {
        id: MessageId,
        message: ClientMsg,
        code: ErrorCode,
        /// The server's words, for people.
        reason: String,
        retry_after_ms: Option<u64>,
    },
    /// The connection is over. `reason` is a sentence for people; `retry` tells whether
    /// reconnecting may help; `detail` is for logs; `fingerprint` is the certificate the
    /// server presented when it was not trusted, for the user to check.
    Closed {
        reason: String,
        retry: bool,
        detail: String,
        fingerprint: Option<String>,
    },
}

/// Sends messages on a connection and closes it; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct ClientHandle {
    shared: Arc<Mutex<Outgoing>>,
}

/// The sending side of the current connection, shared by its handle and its thread.
#[derive(Default)]
struct Outgoing {
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
    /// server never answers is reported as [`NetEvent::NotDelivered`]. The id names the
    /// message in what is later reported about it.
    pub fn send(&self, msg: &ClientMsg) -> Result<MessageId, SendError> {
        let mut outgoing = self.lock();
        match &outgoing.mailbox {
            None => return Err(SendError::NotConnected),
            Some(m) if m.is_closed() => return Err(SendError::NotConnected),
            Some(_) if outgoing.outbox.held() >= MAX_HELD => return Err(SendError::Backlogged),
            Some(_) => {}
        }
        let sent = SentMessage {
            id: MessageId::next(),
            message: msg.clone(),
        };
        if !outgoing.outbox.admit(&sent, Instant::now()) {
            if outgoing.outbox.held() == 1 {
                // An empty frame writes nothing but wakes the connection thread, which then
                // sleeps only until the held message may go.
                push_outgoing(&outgoing, Frame::from(Vec::new()))?;
            }
            return Ok(sent.id);
        }
        // Recorded under the same lock the connection thread takes to match the answer.
        push_outgoing(&outgoing, Frame::from(encode(msg)))?;
        let id = sent.id;
        outgoing.unconfirmed.sent(sent);
        Ok(id)
    }

    /// How many messages are held back to stay within the server's flood limits.
    pub fn held(&self) -> usize {
        self.lock().outbox.held()
    }

    /// Sends `quit` and closes; a connection still being made is abandoned.
    pub fn quit(&self) {
        self.quit_with_reason(None);
    }

    /// Sends `quit` with the reason the room is told, and closes.
    pub fn quit_with_reason(&self, reason: Option<String>) {
        let mut outgoing = self.lock();
        outgoing.cancelled = true;
        if let Some(m) = &outgoing.mailbox {
            m.close(encode(&ClientMsg::Quit { reason }));
        }
    }

    /// Drops the connection at once without a word, as a crash or a lost network would.
    pub fn abort(&self) {
        let mut outgoing = self.lock();
        outgoing.cancelled = true;
        if let Some(m) = &outgoing.mailbox {
            m.abort();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Outgoing> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn push_outgoing(outgoing: &Outgoing, frame: Frame) -> Result<(), SendError> {
    match &outgoing.mailbox {
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
        shared: Arc::new(Mutex::new(Outgoing::default())),
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
            fingerprint: e.presented_fingerprint(),
        },
    };
    let mut unanswered = reconcile.take();
    {
        let mut outgoing = handle.lock();
        outgoing.mailbox = None;
        unanswered.extend(outgoing.unconfirmed.take());
        unanswered.extend(outgoing.outbox.take_held());
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
        let mut outgoing = handle.lock();
        if outgoing.cancelled {
            return Ok(closed(DISCONNECTED, false, "cancelled before login"));
        }
        outgoing.mailbox = Some(Arc::clone(pipe.mailbox()));
    }
    pipe.out.extend_from_slice(&encode(&config.first_message()));
    pipe.flush().map_err(io_error)?;
    on_event(NetEvent::Connected {
        server: config.server.clone(),
        fingerprint: connected.fingerprint,
    });
    let mut talk = Conversation {
        server: &config.server,
        resume: config.resume.as_ref(),
        handle,
        reconcile,
        my_id: None,
    };
    Ok(talk.run(&mut pipe, on_event))
}
