//! The first moments of a connection: is it TLS at all, and does the handshake finish in time?

use std::io::{self, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use native_tls::{TlsAcceptor, TlsStream};
use tlschat::pipe::Transport;
use tlschat::{encode, ErrorCode, ServerMsg};

/// Completes the TLS handshake by `deadline`, or says (for the log) why not. A peer that
/// speaks plain text is answered with a one-line hint first.
pub fn accept(
    socket: TcpStream,
    acceptor: &TlsAcceptor,
    deadline: Instant,
) -> Result<TlsStream<Transport>, String> {
    match speaks_tls(&socket, deadline) {
        Ok(true) => {}
        Ok(false) => return Err(plaintext_hint(socket)),
        Err(e) => return Err(format!("gone before the handshake ({})", e.kind())),
    }
    acceptor
        .accept(Transport::new(socket, deadline))
        .map_err(|e| format!("TLS handshake failed: {e}"))
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
fn plaintext_hint(mut socket: TcpStream) -> String {
    let hint = ServerMsg::error(
        ErrorCode::TlsRequired,
        "this port speaks TLS: connect with a tlschat client, or \
         `openssl s_client -connect HOST:PORT -CAfile certs/ca.crt`",
    );
    let _ = socket.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = socket.write_all(&encode(&hint));
    let _ = socket.shutdown(std::net::Shutdown::Both);
    "plaintext client on the TLS port: sent a hint and closed".into()
}
