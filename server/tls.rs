//! The server's TLS: OpenSSL through the `openssl` crate, over an in-memory transport.
//!
//! The clients use native-tls, which on Linux is this same OpenSSL; the server uses the crate
//! directly because native-tls's acceptor cannot offer TLS 1.3, accepts suites without forward
//! secrecy, and hides the knobs that make an idle connection cheap. Here: Mozilla's
//! "intermediate" profile (TLS 1.2 and 1.3, ECDHE/DHE key exchange, AEAD ciphers only), no
//! session cache or tickets (nobody resumes TLS sessions here, and each would cost memory),
//! and `RELEASE_BUFFERS` so an idle connection gives its record buffers back.
//!
//! TLS reads and writes go through [`Wire`]: ciphertext the connection's thread read from the
//! socket goes in, ciphertext to send comes out. Encrypting and sending are then separate
//! steps, so any thread can encrypt for a connection and send with a non-blocking call.

use std::io::{self, Read, Write};
use std::path::Path;

use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslSessionCacheMode, SslStream};
use tlschat::certs::{fingerprint, first_certificate_der};

use crate::error::Error;

/// A server TLS session over in-memory buffers.
pub type Tls = SslStream<Wire>;

/// The in-memory transport under a TLS session.
#[derive(Debug, Default)]
pub struct Wire {
    /// Ciphertext received and not yet consumed by TLS.
    input: Vec<u8>,
    input_pos: usize,
    /// Ciphertext produced by TLS and not yet sent.
    output: Vec<u8>,
    output_pos: usize,
}

impl Wire {
    /// Hands TLS bytes read from the socket.
    pub fn receive(&mut self, bytes: &[u8]) {
        if self.input_pos == self.input.len() {
            self.input.clear();
            self.input_pos = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// Ciphertext waiting to be sent.
    pub fn unsent(&self) -> &[u8] {
        self.output.get(self.output_pos..).unwrap_or_default()
    }

    /// Marks `n` bytes of [`Wire::unsent`] as sent.
    pub fn sent(&mut self, n: usize) {
        self.output_pos = (self.output_pos + n).min(self.output.len());
        if self.output_pos == self.output.len() {
            // An idle connection keeps no buffer: thousands of them would add up.
            self.output = Vec::new();
            self.output_pos = 0;
        }
    }

    /// Gives back the input buffer once TLS has consumed it.
    pub fn trim(&mut self) {
        if self.input_pos == self.input.len() {
            self.input = Vec::new();
            self.input_pos = 0;
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.input.get(self.input_pos..).unwrap_or_default();
        if available.is_empty() {
            // TLS passes this up as "wants more input", which is what it is.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.input_pos += n;
        Ok(n)
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The server's TLS configuration and what people compare to trust it.
pub struct ServerTls {
    pub acceptor: SslAcceptor,
    /// `AB:CD:…`, the SHA-256 of the certificate, as `openssl x509 -fingerprint` prints it.
    pub fingerprint: String,
}

/// Loads the certificate chain and key and builds the acceptor.
pub fn load(cert: &Path, key: &Path) -> Result<ServerTls, Error> {
    let pem = std::fs::read(cert).map_err(|source| Error::File {
        path: cert.to_path_buf(),
        source,
    })?;
    if let Err(source) = std::fs::metadata(key) {
        return Err(Error::File {
            path: key.to_path_buf(),
            source,
        });
    }
    let unusable = |e: openssl::error::ErrorStack| Error::Tls {
        detail: format!("{} / {}: {e}", cert.display(), key.display()),
    };
    let mut builder =
        SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).map_err(unusable)?;
    builder.set_certificate_chain_file(cert).map_err(unusable)?;
    builder
        .set_private_key_file(key, SslFiletype::PEM)
        .map_err(unusable)?;
    builder.check_private_key().map_err(unusable)?;
    builder.set_session_cache_mode(SslSessionCacheMode::OFF);
    builder.set_num_tickets(0).map_err(unusable)?;
    let fingerprint = first_certificate_der(&pem)
        .map(|der| fingerprint(&der))
        .ok_or_else(|| Error::Tls {
            detail: format!("{}: no PEM certificate", cert.display()),
        })?;
    Ok(ServerTls {
        acceptor: builder.build(),
        fingerprint,
    })
}
