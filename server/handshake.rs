//! The first moments of a connection: is it TLS at all, and does the handshake finish in time?

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use openssl::ssl::{ErrorCode as SslErrorCode, Ssl, SslAcceptor, SslStream};
use tlschat::wire::{encode, ErrorCode, ServerMsg};

use crate::tls::{Tls, Wire};

/// Why a connection never got past its TLS handshake, for the log.
#[derive(Debug)]
pub enum HandshakeFailure {
    /// The peer closed or failed before sending anything.
    Gone(io::ErrorKind),
    /// The peer spoke plain text; it got a hint.
    Plaintext,
    /// The peer closed halfway through.
    ClosedDuring,
    /// TLS itself failed, or the deadline passed.
    Failed(String),
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeFailure::Gone(kind) => write!(f, "gone before the handshake ({kind})"),
            HandshakeFailure::Plaintext => {
                f.write_str("plaintext client on the TLS port: sent a hint and closed")
            }
            HandshakeFailure::ClosedDuring => f.write_str("closed during the TLS handshake"),
            HandshakeFailure::Failed(detail) => write!(f, "TLS handshake failed: {detail}"),
        }
    }
}

/// Completes the TLS handshake by `deadline`, or says why not. A peer that speaks plain
/// text is answered with a one-line hint first.
///
/// Never inlined: its read buffer must live in a frame of its own, below the one the
/// connection thread later waits in, so that the stack pages an idle thread gives back
/// include it (`slim::going_idle`). Inlined, it kept a third stack page resident per user.
#[inline(never)]
pub fn accept(
    socket: &TcpStream,
    acceptor: &SslAcceptor,
    deadline: Instant,
) -> Result<Tls, HandshakeFailure> {
    let mut buf = [0u8; 4096];
    match speaks_tls(socket, deadline) {
        Ok(true) => {}
        Ok(false) => {
            plaintext_hint(socket);
            return Err(HandshakeFailure::Plaintext);
        }
        Err(e) => return Err(HandshakeFailure::Gone(e.kind())),
    }
    let failed = |e: &dyn fmt::Display| HandshakeFailure::Failed(e.to_string());
    let ssl = Ssl::new(acceptor.context()).map_err(|e| failed(&e))?;
    let mut tls = SslStream::new(ssl, Wire::default()).map_err(|e| failed(&e))?;
    loop {
        let step = tls.accept();
        // Whatever TLS produced goes out, an alert after a failure included.
        let sent = send_by(socket, tls.get_mut(), deadline);
        match step {
            Ok(()) => return sent.map(|()| tls).map_err(|e| failed(&e)),
            Err(e) if e.code() == SslErrorCode::WANT_READ => {
                sent.map_err(|e| failed(&e))?;
                let n = read_by(socket, &mut buf, deadline).map_err(|e| failed(&e))?;
                if n == 0 {
                    return Err(HandshakeFailure::ClosedDuring);
                }
                tls.get_mut().receive(buf.get(..n).unwrap_or_default());
            }
            Err(e) => return Err(failed(&e)),
        }
    }
}

fn left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "handshake timed out",
        ));
    }
    Ok(left)
}

fn read_by(socket: &TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
    loop {
        socket.set_read_timeout(Some(left(deadline)?))?;
        match (&*socket).read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "handshake timed out",
                ))
            }
            other => return other,
        }
    }
}

fn send_by(socket: &TcpStream, wire: &mut Wire, deadline: Instant) -> io::Result<()> {
    while !wire.unsent().is_empty() {
        socket.set_write_timeout(Some(left(deadline)?))?;
        let n = (&*socket).write(wire.unsent())?;
        wire.sent(n);
    }
    Ok(())
}

/// Peeks at the first byte: a TLS handshake starts with 0x16.
fn speaks_tls(socket: &TcpStream, deadline: Instant) -> io::Result<bool> {
    let left = deadline.saturating_duration_since(Instant::now());
    socket.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
    let mut first = [0u8; 1];
    match socket.peek(&mut first)? {
        0 => Err(io::ErrorKind::UnexpectedEof.into()),
        _ => Ok(first[0] == 0x16),
    }
}

/// Tells a plaintext client, in its own language, that this port wants TLS.
fn plaintext_hint(mut socket: &TcpStream) {
    let hint = ServerMsg::error(
        ErrorCode::TlsRequired,
        "this port speaks TLS: connect with a tlschat client, or \
         `openssl s_client -connect HOST:PORT -CAfile certs/ca.crt`",
    );
    let _ = socket.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = socket.write_all(&encode(&hint));
    let _ = socket.shutdown(std::net::Shutdown::Both);
}
