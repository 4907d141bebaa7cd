//! One connection as the rest of the server sees it: a queue of frames for the peer, the TLS
//! session, and the socket.
//!
//! Two locks, neither of which leaves this module:
//!
//! * the **queue** lock guards the frames waiting for the peer and the connection's state
//!   (closed, blocked, bytes owed). Broadcasting takes it for one push, under the room lock.
//! * the **TLS** lock guards the session. Whoever holds it may decrypt (the connection's own
//!   thread, after a read) or encrypt and send (anyone flushing). It is never held while
//!   blocked: reads happen before it is taken and every send is non-blocking.
//!
//! Flushing takes the TLS lock only if it is free: a holder looks at the queue again after
//! releasing it ([`Conn::flush`]), so a frame queued meanwhile is never stranded. When the
//! socket is full the rest of the ciphertext stays here and the [`Writer`] thread finishes
//! it once the peer reads; until then frames wait in the queue, and past the byte budget the
//! connection is cut off as too slow without anyone waiting for it.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use openssl::ssl::ErrorCode;
use tlschat::wire::framing::LineBuffer;

use crate::tls::Tls;
use crate::writer::Writer;

mod queue;
use queue::Queue;

pub use tlschat::wire::Frame;

/// Why a connection was closed by the server, or found dead while sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Its queue passed the send budget.
    TooSlow,
    /// The same user connected again elsewhere.
    Replaced,
    /// The server is stopping.
    ShuttingDown,
    /// The connection's own thread ended it (quit, protocol error, deadline, …).
    ByItself,
    /// A send failed: the peer is gone.
    Lost,
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// The connection is closing or closed.
    Closed,
    /// The queue passed its byte budget: the connection is now closed as too slow.
    Overflow,
}

/// What decrypting the peer's bytes found.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Lines (possibly none yet) are in the caller's buffer.
    More,
    /// The peer ended TLS (close_notify).
    PeerClosed,
}

pub struct Conn {
    /// Unique for the server's lifetime; names the connection to the writer thread.
    pub id: u64,
    socket: TcpStream,
    queue: Mutex<Queue>,
    tls: Mutex<Tls>,
    budget: usize,
    writer: Arc<Writer>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update here leaves the state consistent before anything can panic.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conn {
    pub fn new(id: u64, socket: TcpStream, tls: Tls, budget: usize, writer: Arc<Writer>) -> Conn {
        Conn {
            id,
            socket,
            queue: Mutex::new(Queue::default()),
            tls: Mutex::new(tls),
            budget,
            writer,
        }
    }

    pub fn fd(&self) -> i32 {
        self.socket.as_raw_fd()
    }

    /// Queues a frame within the byte budget. `Ok(true)` means the connection just became
    /// dirty: the caller must see that it is flushed ([`Conn::flush`] or the room's flusher).
    pub fn push(&self, frame: Frame) -> Result<bool, PushError> {
        let mut queue = lock(&self.queue);
        if queue.closed.is_some() {
            return Err(PushError::Closed);
        }
        if queue.owed() > 0 && queue.owed() + frame.len() > self.budget {
            queue.closed = Some(Closed::TooSlow);
            queue.clear();
            // Its socket is full, so no goodbye would get through: cut it off, which also
            // wakes its thread.
            self.shut_down(&mut queue);
            return Err(PushError::Overflow);
        }
        Ok(Self::enqueue(&mut queue, frame))
    }

    /// Queues part of a catch-up (a welcome, replayed history), ahead of every other frame
    /// and outside the budget; same result as [`Conn::push`].
    pub fn push_catchup(&self, frame: Frame) -> Result<bool, PushError> {
        let mut queue = lock(&self.queue);
        if queue.closed.is_some() {
            return Err(PushError::Closed);
        }
        let was_idle = queue.is_idle();
        queue.catchup.push_back(frame);
        Ok(was_idle)
    }

    fn enqueue(queue: &mut Queue, frame: Frame) -> bool {
        let was_idle = queue.is_idle();
        queue.bytes += frame.len();
        queue.frames.push_back(frame);
        was_idle
    }

    /// Stops taking frames: `bye` (if any) goes out after what is queued, then the socket is
    /// shut down, which ends the connection thread's read. Returns true if the caller must
    /// flush. Closing twice keeps the first reason.
    pub fn close(&self, why: Closed, bye: Option<Frame>) -> bool {
        let mut queue = lock(&self.queue);
        if queue.closed.is_some() {
            return false;
        }
        queue.closed = Some(why);
        if queue.blocked {
            // A peer that is not reading would never get the goodbye.
            self.shut_down(&mut queue);
            return false;
        }
        if let Some(bye) = bye {
            Self::enqueue(&mut queue, bye);
        }
        true
    }

    /// Why the server closed this connection, if it did.
    pub fn closed(&self) -> Option<Closed> {
        lock(&self.queue).closed
    }

    fn shut_down(&self, queue: &mut Queue) {
        if !queue.shut {
            queue.shut = true;
            let _ = self.socket.shutdown(Shutdown::Both);
        }
    }

    /// Sends what is queued if nobody else is: never blocks. If another thread holds the TLS
    /// lock, that thread sends it after releasing (it checks the queue again, as this does).
    pub fn flush(self: &Arc<Self>) {
        while lock(&self.queue).wants_flush() {
            let mut tls = match self.tls.try_lock() {
                Ok(tls) => tls,
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            self.flush_locked(&mut tls);
        }
    }

    /// Encrypts what is queued and sends it without blocking, a record at a time, until the
    /// queue is empty or the socket full. The caller holds the TLS lock.
    fn flush_locked(self: &Arc<Self>, tls: &mut Tls) {
        loop {
            let unsent = match self.send(tls) {
                Ok(unsent) => unsent,
                Err(_) => return self.lost(),
            };
            let mut queue = lock(&self.queue);
            queue.unsent = unsent;
            if queue.shut {
                return;
            }
            if unsent > 0 {
                queue.blocked = true;
                drop(queue);
                return self.writer.watch(self);
            }
            let Some(batch) = queue.take_batch() else {
                if queue.closed.is_some() {
                    // Say goodbye at the TLS level too, if the socket takes it at once.
                    let _ = tls.shutdown();
                    let _ = self.send(tls);
                    self.shut_down(&mut queue);
                }
                return;
            };
            drop(queue);
            if write_all(tls, batch.bytes()).is_err() {
                return self.lost();
            }
        }
    }

    /// A send failed: the peer is gone.
    fn lost(&self) {
        let mut queue = lock(&self.queue);
        queue.closed.get_or_insert(Closed::Lost);
        queue.clear();
        queue.unsent = 0;
        self.shut_down(&mut queue);
    }

    /// Sends the ciphertext TLS produced, without blocking; returns how much is left.
    fn send(&self, tls: &mut Tls) -> io::Result<usize> {
        loop {
            let wire = tls.get_mut();
            let unsent = wire.unsent();
            if unsent.is_empty() {
                return Ok(0);
            }
            // SAFETY: `unsent` is a live, initialized buffer of the given length, and the
            // descriptor belongs to `self.socket` for as long as `self` lives.
            let n = unsafe {
                libc::send(
                    self.socket.as_raw_fd(),
                    unsent.as_ptr().cast(),
                    unsent.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                wire.sent(n.unsigned_abs());
                continue;
            }
            let error = io::Error::last_os_error();
            match error.kind() {
                io::ErrorKind::WouldBlock => return Ok(wire.unsent().len()),
                io::ErrorKind::Interrupted => {}
                _ => return Err(error),
            }
        }
    }

    /// The writer thread saw the socket writable again: resume flushing.
    pub fn writable(self: &Arc<Self>) {
        lock(&self.queue).blocked = false;
        self.flush();
    }

    /// Waits, holding no lock, until the peer sent something or closed (`Ok(true)`), or
    /// `timeout` passed (`Ok(false)`). A socket the server shut down reads as closed.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut poll = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(timeout.as_millis().max(1)).unwrap_or(i32::MAX);
        // SAFETY: `poll` is one valid pollfd for a descriptor owned by `self.socket`.
        match unsafe { libc::poll(&mut poll, 1, ms) } {
            n if n > 0 => Ok(true),
            0 => Ok(false),
            _ => match io::Error::last_os_error() {
                e if e.kind() == io::ErrorKind::Interrupted => Ok(false),
                e => Err(e),
            },
        }
    }

    /// Reads what has arrived, without waiting. `Ok(0)`: the peer closed, or the server shut
    /// the socket down ([`Conn::closed`] says which).
    pub fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is a live buffer of the given length.
        let n = unsafe {
            libc::recv(
                self.socket.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n.unsigned_abs())
    }

    /// Decrypts the first `n` bytes of `buf` (ciphertext just read) into `lines`, reusing
    /// `buf` for plaintext, then sends anything TLS or other threads left to send.
    pub fn receive(
        self: &Arc<Self>,
        buf: &mut [u8],
        n: usize,
        lines: &mut LineBuffer,
    ) -> io::Result<Received> {
        let result = {
            let mut tls = lock(&self.tls);
            tls.get_mut().receive(buf.get(..n).unwrap_or_default());
            let result = decrypt(&mut tls, buf, lines);
            tls.get_mut().trim();
            self.flush_locked(&mut tls);
            result
        };
        self.flush();
        result
    }

    /// The connection's own thread is done with it: sends `bye` (after what is queued) if
    /// the socket is still open and the peer reading, then shuts the socket down and reads
    /// what the peer had already sent, so that closing does not reset the connection.
    pub fn finish(self: &Arc<Self>, bye: Option<Frame>) {
        self.close(Closed::ByItself, bye);
        // Whoever closed it, what is queued (a goodbye among it) goes out first if it can.
        {
            let mut tls = lock(&self.tls);
            self.flush_locked(&mut tls);
        }
        let mut queue = lock(&self.queue);
        self.shut_down(&mut queue);
        drop(queue);
        // Bounded: a peer that keeps sending is not read forever.
        let mut drain = [0u8; 1024];
        for _ in 0..1024 {
            if !matches!(self.read_now(&mut drain), Ok(n) if n > 0) {
                break;
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.writer.forget(self.id);
    }
}

/// Hands all of `plain` to TLS (it takes at most one record per call).
fn write_all(tls: &mut Tls, mut plain: &[u8]) -> io::Result<()> {
    while !plain.is_empty() {
        match tls.ssl_write(plain) {
            Ok(n) => plain = plain.get(n..).unwrap_or_default(),
            Err(e) => return Err(io::Error::other(e)),
        }
    }
    Ok(())
}

fn decrypt(tls: &mut Tls, scratch: &mut [u8], lines: &mut LineBuffer) -> io::Result<Received> {
    loop {
        match tls.ssl_read(scratch) {
            Ok(n) => lines.extend(scratch.get(..n).unwrap_or_default()),
            Err(e) if e.code() == ErrorCode::WANT_READ => return Ok(Received::More),
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => return Ok(Received::PeerClosed),
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}
