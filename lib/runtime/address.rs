//! Reading a server address as people type it: `host`, `host:port`, `[v6]` or `[v6]:port`.
//!
//! Both clients check the address before connecting and say what is wrong with it, rather
//! than gluing a default port onto `127.0.0.1:abc` and failing later with "unknown host".

use std::fmt;
use std::net::Ipv6Addr;

/// What is wrong with a server address, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    Empty,
    /// Nothing before the `:port`.
    NoHost,
    /// The port is not a number.
    BadPort {
        port: String,
    },
    /// The port is a number outside 1–65535.
    PortOutOfRange {
        port: String,
    },
    /// An IPv6 address without brackets, where the port cannot be told apart.
    Ipv6NeedsBrackets,
    /// `[` without `]`, or something other than `:port` after `]`.
    BadBrackets,
    /// Between brackets, something that is not an IPv6 address.
    BadIpv6 {
        host: String,
    },
    /// A host name with characters no host name has.
    BadHost {
        host: String,
    },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let example = format!("127.0.0.1:{}", crate::wire::DEFAULT_PORT);
        match self {
            AddressError::Empty => write!(f, "Type the server's address, such as {example}"),
            AddressError::NoHost => write!(
                f,
                "The address needs a host before the port, such as {example}"
            ),
            AddressError::BadPort { port } => {
                write!(
                    f,
                    "'{port}' is not a port number: use digits, such as {example}"
                )
            }
            AddressError::PortOutOfRange { port } => {
                write!(f, "Port {port} does not exist: ports go from 1 to 65535")
            }
            AddressError::Ipv6NeedsBrackets => write!(
                f,
                "Put an IPv6 address in brackets, with the port after them: [::1]:{}",
                crate::wire::DEFAULT_PORT
            ),
            AddressError::BadBrackets => write!(
                f,
                "After an address in brackets only a port may follow: [::1]:{}",
                crate::wire::DEFAULT_PORT
            ),
            AddressError::BadIpv6 { host } => write!(f, "'{host}' is not an IPv6 address"),
            AddressError::BadHost { host } => {
                write!(
                    f,
                    "'{host}' is not a host name: use letters, digits, dots and dashes"
                )
            }
        }
    }
}

impl std::error::Error for AddressError {}

/// Checks a typed server address and returns it as `HOST:PORT` (the default port filled
/// in), or says what is wrong.
pub fn parse_server(text: &str) -> Result<String, AddressError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddressError::Empty);
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or(AddressError::BadBrackets)?;
        if inside.parse::<Ipv6Addr>().is_err() {
            return Err(AddressError::BadIpv6 {
                host: inside.to_string(),
            });
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(AddressError::BadBrackets)?),
        };
        (format!("[{inside}]"), port)
    } else {
        match text.matches(':').count() {
            0 => (text.to_string(), None),
            1 => {
                let (host, port) = text.split_once(':').ok_or(AddressError::Empty)?;
                (host.to_string(), Some(port))
            }
            _ => return Err(AddressError::Ipv6NeedsBrackets),
        }
    };
    if host.is_empty() {
        return Err(AddressError::NoHost);
    }
    let host_ok = host.starts_with('[')
        || host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !host_ok {
        return Err(AddressError::BadHost { host });
    }
    let port = match port {
        None => crate::wire::DEFAULT_PORT,
        Some(port) => parse_port(port)?,
    };
    Ok(format!("{host}:{port}"))
}

fn parse_port(port: &str) -> Result<u16, AddressError> {
    if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
        return Err(AddressError::BadPort { port: port.into() });
    }
    match port.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(AddressError::PortOutOfRange { port: port.into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_addresses_get_their_port() {
        assert_eq!(parse_server(" chat.lan ").as_deref(), Ok("chat.lan:8888"));
        assert_eq!(
            parse_server("10.0.0.5:9000").as_deref(),
            Ok("10.0.0.5:9000")
        );
        assert_eq!(parse_server("[::1]").as_deref(), Ok("[::1]:8888"));
        assert_eq!(parse_server("[fe80::1]:1").as_deref(), Ok("[fe80::1]:1"));
        assert_eq!(
            parse_server("localhost:65535").as_deref(),
            Ok("localhost:65535")
        );
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        let err = |s: &str| parse_server(s).err().map(|e| e.to_string());
        assert_eq!(
            err("127.0.0.1:abc").as_deref(),
            Some("'abc' is not a port number: use digits, such as 127.0.0.1:8888")
        );
        assert_eq!(
            err("127.0.0.1:99999").as_deref(),
            Some("Port 99999 does not exist: ports go from 1 to 65535")
        );
        assert_eq!(
            parse_server("h:0"),
            Err(AddressError::PortOutOfRange { port: "0".into() })
        );
        assert_eq!(
            parse_server("h:"),
            Err(AddressError::BadPort { port: "".into() })
        );
        assert_eq!(parse_server(":8888"), Err(AddressError::NoHost));
        assert_eq!(parse_server("  "), Err(AddressError::Empty));
        assert_eq!(parse_server("::1"), Err(AddressError::Ipv6NeedsBrackets));
        assert_eq!(parse_server("[::1"), Err(AddressError::BadBrackets));
        assert_eq!(parse_server("[::1]8888"), Err(AddressError::BadBrackets));
        assert_eq!(
            parse_server("[chat]:1"),
            Err(AddressError::BadIpv6 {
                host: "chat".into()
            })
        );
        assert_eq!(
            parse_server("my server"),
            Err(AddressError::BadHost {
                host: "my server".into()
            })
        );
    }
}
