//! A connection's mailbox: where other threads leave work for the thread that owns the
//! connection's TLS stream, and where its reader thread leaves the bytes it read.
//!
//! Outgoing frames are bounded by a byte budget (past it the peer is "too slow" and the
//! mailbox closes); incoming bytes by [`INCOMING_CAP`] (past it the reader waits). Nothing here
//! blocks the threads that queue frames.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

pub use crate::wire::Frame;

/// Raw bytes the reader may queue before it waits for the owner: bounds a flooder's cost.
const INCOMING_CAP: usize = 64 * 1024;
/// Size of one socket read.
const READ_CHUNK: usize = 8 * 1024;

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// The owner is closing or gone.
    Closed,
    /// The queue is over its byte budget: the peer is not reading fast enough. The mailbox is
    /// now closed, and the owner will see [`Wake::overflowed`].
    Overflow,
}

/// Why nothing more can be read from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerGone {
    /// The peer closed the connection (end of stream, or TLS's own goodbye).
    Closed,
    /// This side cut the connection off ([`Mailbox::abort`]).
    Aborted,
    /// Reading or writing failed; the error's text, for logs.
    Failed(String),
}

impl fmt::Display for PeerGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerGone::Closed => f.write_str("closed by peer"),
            PeerGone::Aborted => f.write_str("connection aborted"),
            PeerGone::Failed(detail) => f.write_str(detail),
        }
    }
}

/// What woke the owner; several things can be true at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Wake {
    /// New complete lines may be waiting in the owner's line buffer.
    pub input: bool,
    /// The peer closed the connection, or reading failed.
    pub peer_gone: Option<PeerGone>,
    /// Someone called [`Mailbox::close`] with this bye line (may be empty).
    pub close_requested: Option<Vec<u8>>,
    /// The outgoing queue overflowed its budget.
    pub overflowed: bool,
    /// The deadline passed with nothing else to do.
    pub timed_out: bool,
}

#[derive(Default)]
struct State {
    incoming: Vec<u8>,
    outgoing: VecDeque<Frame>,
    outgoing_bytes: usize,
    peer_gone: Option<PeerGone>,
    close: Option<Vec<u8>>,
    overflowed: bool,
    closed: bool,
    /// The socket was shut down under both threads: nothing more will be read or written.
    aborted: bool,
}

impl State {
    fn has_work(&self) -> bool {
        !self.incoming.is_empty()
            || !self.outgoing.is_empty()
            || self.peer_gone.is_some()
            || self.close.is_some()
            || self.overflowed
            || self.aborted
    }
}

/// Where other threads leave work for a connection's owner thread.
pub struct Mailbox {
    state: Mutex<State>,
    owner_wakeup: Condvar,
    reader_wakeup: Condvar,
    budget: usize,
    socket: Arc<TcpStream>,
}

impl Mailbox {
    pub(crate) fn new(socket: Arc<TcpStream>, budget: usize) -> Mailbox {
        Mailbox {
            state: Mutex::new(State::default()),
            owner_wakeup: Condvar::new(),
            reader_wakeup: Condvar::new(),
            budget,
            socket,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state inconsistent (every update is
        // a single push or swap), so a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame for the peer without blocking. Past the byte budget the mailbox closes
    /// and reports [`PushError::Overflow`]; the caller decides what to tell others.
    pub fn push(&self, frame: Frame) -> Result<(), PushError> {
        let mut state = self.lock();
        if state.closed {
            return Err(PushError::Closed);
        }
        if state.outgoing_bytes + frame.len() > self.budget && !state.outgoing.is_empty() {
            state.closed = true;
            state.overflowed = true;
            state.outgoing.clear();
            state.outgoing_bytes = 0;
            drop(state);
            self.owner_wakeup.notify_one();
            self.reader_wakeup.notify_one();
            return Err(PushError::Overflow);
        }
        self.enqueue(state, frame);
        Ok(())
    }

    fn enqueue(&self, mut state: MutexGuard<'_, State>, frame: Frame) {
        let was_idle = state.outgoing.is_empty();
        state.outgoing_bytes += frame.len();
        state.outgoing.push_back(frame);
        drop(state);
        if was_idle {
            // An owner with frames already queued is awake or about to be: no need to wake it.
            self.owner_wakeup.notify_one();
        }
    }

    /// Asks the owner to send `bye` (after what is already queued) and close. Idempotent.
    pub fn close(&self, bye: Vec<u8>) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        state.close = Some(bye);
        drop(state);
        self.owner_wakeup.notify_one();
        self.reader_wakeup.notify_one();
    }

    /// Whether the mailbox no longer accepts frames.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Closes the socket under both threads: unblocks a read or a stuck write at once.
    pub fn abort(&self) {
        let _ = self.socket.shutdown(Shutdown::Both);
        {
            let mut state = self.lock();
            state.closed = true;
            state.aborted = true;
        }
        self.owner_wakeup.notify_one();
        self.reader_wakeup.notify_one();
    }

    fn deliver_incoming(&self, bytes: &[u8]) -> bool {
        let mut state = self.lock();
        while state.incoming.len() >= INCOMING_CAP && !state.aborted {
            state = self
                .reader_wakeup
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        // After `close` the owner may still read the peer's last words; only `abort` ends it.
        if state.aborted {
            return false;
        }
        let was_empty = state.incoming.is_empty();
        state.incoming.extend_from_slice(bytes);
        drop(state);
        if was_empty {
            self.owner_wakeup.notify_one();
        }
        true
    }

    /// The owner's wait: sleeps until there is work or `deadline` passes, then moves the bytes
    /// read into `input` and the queued frames into `frames`.
    pub(crate) fn wait_for_work(
        &self,
        deadline: Option<Instant>,
        input: &mut Vec<u8>,
        frames: &mut VecDeque<Frame>,
    ) -> Wake {
        let mut wake = Wake::default();
        let mut state = self.lock();
        while !state.has_work() {
            let Some(deadline) = deadline else {
                state = self
                    .owner_wakeup
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                wake.timed_out = true;
                break;
            }
            state = self
                .owner_wakeup
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if !state.incoming.is_empty() {
            if input.is_empty() {
                std::mem::swap(input, &mut state.incoming);
            } else {
                input.extend_from_slice(&state.incoming);
                state.incoming.clear();
            }
            self.reader_wakeup.notify_one();
        }
        std::mem::swap(frames, &mut state.outgoing);
        state.outgoing_bytes = 0;
        wake.overflowed = state.overflowed;
        wake.close_requested = state.close.take();
        if state.aborted {
            wake.peer_gone = Some(PeerGone::Aborted);
        }
        if let Some(why) = &state.peer_gone {
            wake.peer_gone = Some(why.clone());
        }
        wake
    }

    /// Moves the frames queued so far into `frames`.
    pub(crate) fn take_frames(&self, frames: &mut VecDeque<Frame>) {
        let mut state = self.lock();
        std::mem::swap(frames, &mut state.outgoing);
        state.outgoing_bytes = 0;
    }

    fn reader_done(&self, why: PeerGone) {
        self.lock().peer_gone.get_or_insert(why);
        self.owner_wakeup.notify_one();
    }
}

/// The reader thread: moves raw bytes from the socket into the mailbox until either ends.
pub(crate) fn read_socket(socket: Arc<TcpStream>, mailbox: &Mailbox) {
    let mut chunk = [0u8; READ_CHUNK];
    loop {
        match (&*socket).read(&mut chunk) {
            Ok(0) => return mailbox.reader_done(PeerGone::Closed),
            Ok(n) => {
                if !mailbox.deliver_incoming(&chunk[..n]) {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return mailbox.reader_done(PeerGone::Failed(e.to_string())),
        }
    }
}
