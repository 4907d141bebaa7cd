//! I/O errors in the words people use, for the clients' messages ("Could not connect to
//! 10.0.0.5:8888: connection refused") and the server's log ("connection lost (connection
//! reset by the client)").

use std::io;

/// Lower-case words for an I/O error on a connection to `peer` ("server" or "client").
pub fn io_error(error: &io::Error, peer: &str) -> String {
    use io::ErrorKind::*;
    match error.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => format!("connection reset by the {peer}"),
        ConnectionAborted => "connection aborted".into(),
        TimedOut | WouldBlock => "timed out".into(),
        HostUnreachable => "host unreachable".into(),
        NetworkUnreachable => "network unreachable".into(),
        AddrNotAvailable => "address not available".into(),
        UnexpectedEof | BrokenPipe => "the connection was closed".into(),
        _ => error.to_string(),
    }
}
