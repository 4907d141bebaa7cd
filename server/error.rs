//! The server's one error type: what went wrong, with the context a person needs to fix it.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A bad command line; the text says which option and why.
    Usage(String),
    /// A file could not be read.
    File { path: PathBuf, source: io::Error },
    /// The certificate or key is not usable.
    Tls { detail: String },
    /// The listening socket could not be opened.
    Listen {
        addr: std::net::SocketAddr,
        source: io::Error,
    },
    /// Any other I/O failure, with what was being done.
    Io {
        doing: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(text) => write!(f, "{text} (see --help)"),
            Error::File { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())?;
                if source.kind() == io::ErrorKind::NotFound {
                    write!(f, " (run the server from the repository, or pass --cert and --key; ./ca_gen.sh makes new ones)")?;
                }
                Ok(())
            }
            Error::Tls { detail } => write!(f, "the certificate or key cannot be used: {detail}"),
            Error::Listen { addr, source } => {
                write!(f, "cannot listen on {addr}: {source}")?;
                if source.kind() == io::ErrorKind::AddrInUse {
                    write!(f, " (is another server running? try --listen 0.0.0.0:PORT)")?;
                }
                Ok(())
            }
            Error::Io { doing, source } => write!(f, "{doing}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::File { source, .. }
            | Error::Listen { source, .. }
            | Error::Io { source, .. } => Some(source),
            Error::Usage(_) | Error::Tls { .. } => None,
        }
    }
}
