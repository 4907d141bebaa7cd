//! One owner per TLS stream, without polling.
//!
//! native-tls needs `&mut` to read and to write, so a thread blocked reading a TLS stream
//! cannot let another thread write to it. Instead, each connection has two threads:
//!
//! ```text
//!   socket ──raw bytes──▶ reader thread ──▶ ┌─────────┐
//!                                           │ Mailbox │ ──▶ owner thread ──TLS──▶ socket
//!   other threads ──outgoing frames───────▶ └─────────┘     (decrypts, handles lines,
//!                                                             writes coalesced frames)
//! ```
//!
//! The reader thread only moves ciphertext from the socket into the [`Mailbox`]. The owner
//! thread, which alone holds the [`TlsStream`], sleeps on the mailbox until bytes arrive, a
//! frame is queued, a close is requested or its deadline passes; idle connections cost no CPU
//! and a frame goes out the moment it is queued. The TLS stream reads from an in-memory buffer
//! ([`Transport`] in piped mode) and writes straight to the socket.
//!
//! The handshake runs before the reader thread exists, reading the socket directly under a
//! deadline. Any bytes that arrived with the handshake's last record stay inside the same
//! TLS stream, so nothing is lost in the switch.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use native_tls::TlsStream;

use crate::runtime::mailbox::read_socket;
pub use crate::runtime::mailbox::{Frame, Mailbox, PeerGone, PushError, Wake};
use crate::wire::framing::LineBuffer;

/// Stack of a reader thread: it only moves bytes, and 10,000 of them must stay cheap.
const READER_STACK: usize = 64 * 1024;

/// What a TLS stream reads from and writes to.
///
/// In direct mode (during the handshake) reads come from the socket, bounded by a deadline.
/// In piped mode reads come from bytes the owner moved out of the mailbox, and an empty buffer
/// reads as [`io::ErrorKind::WouldBlock`], which TLS passes up unchanged.
#[derive(Debug)]
pub struct Transport {
    /// Shared with the reader thread and the mailbox: one descriptor per connection, read
    /// by one thread and written by another (sockets are full duplex).
    socket: Arc<TcpStream>,
    inbuf: Vec<u8>,
    inpos: usize,
    deadline: Option<Instant>,
    piped: bool,
}

impl Transport {
    /// A transport in direct mode: reads fail with `TimedOut` after `deadline`.
    pub fn new(socket: TcpStream, deadline: Instant) -> Transport {
        Transport {
            socket: Arc::new(socket),
            inbuf: Vec::new(),
            inpos: 0,
            deadline: Some(deadline),
            piped: false,
        }
    }

    /// The underlying socket.
    pub fn socket(&self) -> &TcpStream {
        &self.socket
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.piped {
            let available = &self.inbuf[self.inpos..];
            if available.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            self.inpos += n;
            if self.inpos == self.inbuf.len() {
                self.inbuf.clear();
                self.inpos = 0;
            }
            return Ok(n);
        }
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake timed out",
                ));
            }
            self.socket.set_read_timeout(Some(left))?;
        }
        (&*self.socket).read(buf)
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.socket).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        (&*self.socket).flush()
    }
}

/// Outgoing buffer capacity kept between writes; anything larger is given back.
const OUT_KEEP: usize = 4 * 1024;
/// Decrypted bytes taken from TLS per read: small, since most lines are.
const PLAIN_CHUNK: usize = 4 * 1024;

/// A TLS connection after its handshake, owned by one thread.
pub struct Pipe {
    tls: TlsStream<Transport>,
    mailbox: Arc<Mailbox>,
    /// Decrypted input, split into lines.
    pub lines: LineBuffer,
    /// Replies the owner wants to send; written with the queued frames on [`Pipe::flush`].
    pub out: Vec<u8>,
    plain: Box<[u8]>,
    taken: VecDeque<Frame>,
}

impl Pipe {
    /// Switches a handshaken stream to piped mode and starts its reader thread. `budget` is
    /// how many bytes other threads may queue before [`PushError::Overflow`]; writes that
    /// block longer than `write_timeout` fail.
    pub fn start(
        mut tls: TlsStream<Transport>,
        budget: usize,
        write_timeout: Duration,
        max_line: usize,
    ) -> io::Result<Pipe> {
        let transport = tls.get_mut();
        transport.socket.set_read_timeout(None)?;
        transport.socket.set_write_timeout(Some(write_timeout))?;
        transport.socket.set_nodelay(true)?;
        transport.piped = true;
        transport.deadline = None;
        let reader_socket = Arc::clone(&transport.socket);
        let mailbox = Arc::new(Mailbox::new(Arc::clone(&transport.socket), budget));
        let reader_mailbox = Arc::clone(&mailbox);
        thread::Builder::new()
            .name("reader".into())
            .stack_size(READER_STACK)
            .spawn(move || read_socket(reader_socket, &reader_mailbox))?;
        let mut pipe = Pipe {
            tls,
            mailbox,
            lines: LineBuffer::new(max_line),
            out: Vec::new(),
            plain: vec![0; PLAIN_CHUNK].into_boxed_slice(),
            taken: VecDeque::new(),
        };
        // The handshake may have read application data along with its last record.
        pipe.decrypt()?;
        Ok(pipe)
    }

    /// The mailbox other threads use to queue frames for this connection.
    pub fn mailbox(&self) -> &Arc<Mailbox> {
        &self.mailbox
    }

    /// Sleeps until there is input, queued frames, a close request, the peer leaves, or
    /// `deadline` passes. Queued frames are moved to [`Pipe::out`]; decrypted input to
    /// [`Pipe::lines`].
    pub fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Wake> {
        let inbuf = &mut self.tls.get_mut().inbuf;
        let mut wake = self.mailbox.wait_for_work(deadline, inbuf, &mut self.taken);
        self.move_taken_to_out();
        if !self.tls.get_ref().inbuf.is_empty() {
            wake.input = true;
            if let Some(why) = self.decrypt()? {
                wake.peer_gone.get_or_insert(why);
            }
        }
        Ok(wake)
    }

    /// Decrypts whatever the transport holds into `lines`; `Some` if the peer closed TLS.
    fn decrypt(&mut self) -> io::Result<Option<PeerGone>> {
        let result = self.decrypt_all();
        let transport = self.tls.get_mut();
        if transport.inbuf.is_empty() && transport.inbuf.capacity() > PLAIN_CHUNK {
            transport.inbuf = Vec::new();
        }
        result
    }

    fn decrypt_all(&mut self) -> io::Result<Option<PeerGone>> {
        loop {
            match self.tls.read(&mut self.plain) {
                Ok(0) => return Ok(Some(PeerGone::Closed)),
                Ok(n) => self.lines.extend(&self.plain[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes everything in [`Pipe::out`] as one TLS write.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = self.tls.write_all(&self.out);
        self.out.clear();
        // A burst (a long welcome, a join storm) must not stay resident in every idle
        // connection: thousands of them would hold it forever.
        if self.out.capacity() > OUT_KEEP {
            self.out = Vec::new();
        }
        result
    }

    /// Adds a reply to [`Pipe::out`] after every frame queued so far, so a peer sees the
    /// effects of its earlier requests before the answers to its later ones.
    fn reply(&mut self, bytes: &[u8]) {
        self.take_queued();
        self.out.extend_from_slice(bytes);
    }

    fn take_queued(&mut self) {
        self.mailbox.take_frames(&mut self.taken);
        self.move_taken_to_out();
    }

    fn move_taken_to_out(&mut self) {
        for frame in self.taken.drain(..) {
            self.out.extend_from_slice(&frame);
        }
        // After a burst (a join storm), idle connections should not keep a long queue.
        if self.taken.capacity() > 64 {
            self.taken = VecDeque::new();
        }
    }

    /// Sends `bytes` now, after everything queued so far, for a last word before closing.
    pub fn send_now(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.reply(bytes);
        self.flush()
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // Say goodbye at the TLS level when the peer is still listening, then unblock the
        // reader thread. A peer that stopped reading gets no more of our time.
        let socket = &self.tls.get_ref().socket;
        if socket
            .set_write_timeout(Some(Duration::from_secs(1)))
            .is_ok()
        {
            let _ = self.tls.shutdown();
        }
        self.mailbox.abort();
    }
}
