//! Opening a verified TLS connection to a server, with errors a person understands.
//!
//! Every client (the GTK window, the terminal client, the load generator, the tests) connects
//! through [`connect`], so they all verify the server the same way and word failures alike:
//! "Could not connect to 127.0.0.1:8888: connection refused".

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use native_tls::{Certificate, HandshakeError, TlsConnector, TlsStream};

use crate::certs;
use crate::runtime::pipe::Transport;

/// The development CA shipped in `certs/`, trusted when no other CA is given.
pub const BUNDLED_CA: &[u8] = include_bytes!("../../certs/ca.crt");

/// Why a connection could not be opened. `Display` is one sentence for people; the
/// technical detail is kept in the variant for logs.
#[derive(Debug)]
pub enum ConnectError {
    /// The address is not `HOST:PORT`.
    BadAddress { server: String },
    /// The CA file is not a usable PEM certificate.
    BadCa { detail: String },
    /// The host name did not resolve.
    Resolve { server: String, detail: String },
    /// TCP failed: refused, unreachable, timed out...
    Tcp { server: String, error: io::Error },
    /// The server's certificate is not signed by the trusted CA, or not for this name.
    /// `fingerprint` is the SHA-256 of the certificate it presented, when it could be read.
    Untrusted {
        server: String,
        detail: String,
        fingerprint: Option<String>,
    },
    /// The TLS handshake failed for another reason (for example a plaintext server).
    Tls { server: String, detail: String },
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::BadAddress { server } => {
                write!(f, "'{server}' is not a server address: use HOST:PORT, such as 127.0.0.1:8888")
            }
            ConnectError::BadCa { detail } => {
                write!(f, "The CA certificate cannot be used: {detail}")
            }
            ConnectError::Resolve { server, .. } => {
                write!(f, "Could not connect to {server}: unknown host")
            }
            ConnectError::Tcp { server, error } => {
                write!(f, "Could not connect to {server}: {}", crate::describe::io_error(error, "server"))
            }
            ConnectError::Untrusted { server, .. } => write!(
                f,
                "The certificate of {server} is not trusted: it is not signed by your CA or not made for this address. If it is your server, start the client with --ca and the CA certificate that signed it"
            ),
            ConnectError::Tls { server, .. } => write!(
                f,
                "Could not start an encrypted connection with {server}: is it a tlschat server?"
            ),
        }
    }
}

impl std::error::Error for ConnectError {}

impl ConnectError {
    /// The technical detail, for logs.
    pub fn detail(&self) -> String {
        match self {
            ConnectError::BadAddress { server } => format!("bad address {server:?}"),
            ConnectError::BadCa { detail }
            | ConnectError::Resolve { detail, .. }
            | ConnectError::Untrusted { detail, .. }
            | ConnectError::Tls { detail, .. } => detail.clone(),
            ConnectError::Tcp { error, .. } => format!("{error} ({:?})", error.kind()),
        }
    }

    /// The fingerprint of a certificate that was presented but not trusted, so the user
    /// can compare it with the one the server's operator announces.
    pub fn presented_fingerprint(&self) -> Option<String> {
        match self {
            ConnectError::Untrusted { fingerprint, .. } => fingerprint.clone(),
            _ => None,
        }
    }

    /// Whether trying again later may help (a refused or lost server may come back; a
    /// certificate the client does not trust will not change by itself).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ConnectError::Tcp { .. } | ConnectError::Resolve { .. } | ConnectError::Tls { .. }
        )
    }
}

/// A handshaken connection, ready for [`crate::runtime::pipe::Pipe::start`].
pub struct Connected {
    pub tls: TlsStream<Transport>,
    pub peer: SocketAddr,
    /// SHA-256 fingerprint of the server's certificate, as `openssl x509 -fingerprint` shows.
    pub fingerprint: String,
}

/// Connects to `server` (`HOST:PORT`), trusting only the CA in `ca_pem`, within `timeout`.
pub fn connect(server: &str, ca_pem: &[u8], timeout: Duration) -> Result<Connected, ConnectError> {
    connect_with(&connector(ca_pem)?, server, timeout)
}

/// A TLS connector that trusts only the CA in `ca_pem`. Building one loads OpenSSL's
/// defaults (about 10 ms of CPU), so a program opening many connections builds it once and
/// connects with [`connect_with`].
pub fn connector(ca_pem: &[u8]) -> Result<TlsConnector, ConnectError> {
    let ca = Certificate::from_pem(ca_pem).map_err(|e| ConnectError::BadCa {
        detail: e.to_string(),
    })?;
    TlsConnector::builder()
        .add_root_certificate(ca)
        .disable_built_in_roots(true)
        .build()
        .map_err(|e| ConnectError::BadCa {
            detail: e.to_string(),
        })
}

/// [`connect`] with a connector made by [`connector`].
pub fn connect_with(
    connector: &TlsConnector,
    server: &str,
    timeout: Duration,
) -> Result<Connected, ConnectError> {
    let deadline = Instant::now() + timeout;
    let host = split_host(server).ok_or_else(|| ConnectError::BadAddress {
        server: server.into(),
    })?;
    let addrs: Vec<SocketAddr> = server
        .to_socket_addrs()
        .map_err(|e| ConnectError::Resolve {
            server: server.into(),
            detail: e.to_string(),
        })?
        .collect();
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no address");
    let mut socket = None;
    for addr in &addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            last_error = io::ErrorKind::TimedOut.into();
            break;
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => {
                socket = Some((s, *addr));
                break;
            }
            Err(e) => last_error = e,
        }
    }
    let Some((socket, peer)) = socket else {
        return Err(ConnectError::Tcp {
            server: server.into(),
            error: last_error,
        });
    };
    let tcp_error = |error| ConnectError::Tcp {
        server: server.into(),
        error,
    };
    socket.set_nodelay(true).map_err(tcp_error)?;
    socket
        .set_write_timeout(Some(timeout))
        .map_err(&tcp_error)?;
    let tls = match connector.connect(host, Transport::new(socket, deadline)) {
        Ok(tls) => tls,
        Err(HandshakeError::Failure(e)) => {
            return Err(match classify_tls(server, e) {
                ConnectError::Untrusted { server, detail, .. } => {
                    let fingerprint = presented_fingerprint(peer, host, timeout);
                    ConnectError::Untrusted {
                        server,
                        detail,
                        fingerprint,
                    }
                }
                other => other,
            })
        }
        Err(HandshakeError::WouldBlock(_)) => {
            return Err(tcp_error(io::ErrorKind::TimedOut.into()))
        }
    };
    let fingerprint = tls
        .peer_certificate()
        .ok()
        .flatten()
        .and_then(|c| c.to_der().ok())
        .map(|der| certs::fingerprint(&der))
        .unwrap_or_default();
    Ok(Connected {
        tls,
        peer,
        fingerprint,
    })
}

fn classify_tls(server: &str, error: native_tls::Error) -> ConnectError {
    let detail = error.to_string();
    let lower = detail.to_lowercase();
    if lower.contains("certificate verify failed")
        || lower.contains("hostname mismatch")
        || lower.contains("ip address mismatch")
        || lower.contains("self-signed")
        || lower.contains("unable to get local issuer")
    {
        ConnectError::Untrusted {
            server: server.into(),
            detail,
            fingerprint: None,
        }
    } else if let Some(io) = std::error::Error::source(&error)
        .and_then(|s| s.downcast_ref::<io::Error>())
        .filter(|io| io.kind() != io::ErrorKind::Other)
    {
        ConnectError::Tcp {
            server: server.into(),
            error: io::Error::new(io.kind(), detail),
        }
    } else if lower.contains("timed out") || lower.contains("resource temporarily unavailable") {
        ConnectError::Tcp {
            server: server.into(),
            error: io::Error::new(io::ErrorKind::TimedOut, detail),
        }
    } else if lower.contains("unexpected eof") || lower.contains("connection reset") {
        ConnectError::Tcp {
            server: server.into(),
            error: io::Error::new(io::ErrorKind::UnexpectedEof, detail),
        }
    } else {
        ConnectError::Tls {
            server: server.into(),
            detail,
        }
    }
}

/// The fingerprint of the certificate `peer` presents, read over a second handshake that
/// trusts anything: only to show the user what the server presented, never to talk to it.
fn presented_fingerprint(peer: SocketAddr, host: &str, timeout: Duration) -> Option<String> {
    let connector = TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .danger_accept_invalid_hostnames(true)
        .build()
        .ok()?;
    let socket = TcpStream::connect_timeout(&peer, timeout).ok()?;
    socket.set_read_timeout(Some(timeout)).ok()?;
    socket.set_write_timeout(Some(timeout)).ok()?;
    let mut tls = connector.connect(host, socket).ok()?;
    let der = tls.peer_certificate().ok()??.to_der().ok()?;
    let _ = tls.shutdown();
    Some(certs::fingerprint(&der))
}

/// The host part of `HOST:PORT` or `[V6]:PORT`, used to verify the certificate.
fn split_host(server: &str) -> Option<&str> {
    let (host, port) = server.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// Fills in the default port: `example.org` becomes `example.org:8888`.
pub fn with_default_port(server: &str) -> String {
    let server = server.trim();
    let has_port = server.rsplit_once(':').is_some_and(|(host, port)| {
        port.parse::<u16>().is_ok() && (!host.contains(':') || host.ends_with(']'))
    });
    if has_port {
        server.to_string()
    } else {
        format!("{server}:{}", crate::wire::DEFAULT_PORT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(split_host("127.0.0.1:8888"), Some("127.0.0.1"));
        assert_eq!(split_host("[::1]:8888"), Some("::1"));
        assert_eq!(split_host("nohost"), None);
        assert_eq!(split_host(":8888"), None);
        assert_eq!(with_default_port("chat.lan"), "chat.lan:8888");
        assert_eq!(with_default_port(" 10.0.0.5:9000 "), "10.0.0.5:9000");
        assert_eq!(with_default_port("[::1]:1"), "[::1]:1");
    }

    #[test]
    fn refused_reads_like_a_sentence() {
        // Port 1 on loopback is closed on any sane test machine.
        let err = connect("127.0.0.1:1", BUNDLED_CA, Duration::from_secs(5)).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(text, "Could not connect to 127.0.0.1:1: connection refused");
    }
}
