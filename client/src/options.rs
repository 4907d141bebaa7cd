//! Command-line options, parsed before GTK sees them.

use std::fmt;
use std::path::PathBuf;

pub use tlschat::args::Parsed;
use tlschat::args::{self, set, Opt};

/// What the user asked for on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `HOST:PORT`.
    pub server: String,
    pub nickname: String,
    /// Log in as soon as the window opens.
    pub connect: bool,
    /// CA certificate file; `None` trusts the bundled development CA.
    pub ca: Option<PathBuf>,
    /// Plain-text transcript of the room.
    pub log: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server: format!("127.0.0.1:{}", tlschat::wire::DEFAULT_PORT),
            nickname: String::new(),
            connect: false,
            ca: None,
            log: None,
        }
    }
}

const INTRO: &str = "Usage: client [OPTIONS]\n\nA GTK desktop client for a tlschat room.";

/// The `--help` text, without its last newline (it is printed with `println!`).
pub const USAGE: Usage = Usage;

/// Writes the `--help` text made from [`OPTIONS`].
pub struct Usage;

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(args::help(INTRO, OPTIONS, "").trim_end())
    }
}

/// Every option of the client: `--help` and the parser both come from this table.
const OPTIONS: &[Opt<Options>] = &[
    Opt::value(
        "--server",
        "HOST:PORT",
        "server to connect to (default 127.0.0.1:8888)",
        |o, v| set(&mut o.server, args::server_address(v)),
    ),
    Opt::value(
        "--nickname",
        "NAME",
        "nickname to log in with (default: your user name)",
        |o: &mut Options, v: &str| set(&mut o.nickname, args::nickname(v)),
    )
    .or("--nick"),
    Opt::switch("--connect", "log in as soon as the window opens", |o| {
        o.connect = true
    }),
    Opt::value(
        "--ca",
        "FILE",
        "trust the CA certificate in FILE (default: the bundled development CA)",
        |o, v| set(&mut o.ca, Ok(Some(v.into()))),
    ),
    Opt::value(
        "--log",
        "FILE",
        "append a plain-text transcript of the room to FILE",
        |o, v| set(&mut o.log, Ok(Some(v.into()))),
    ),
];

/// A command line that makes no sense, worded for the person who typed it.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub args::Error);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\nTry 'client --help' for more information.", self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parses the arguments after the program name. Accepts `--opt value` and `--opt=value`.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Parsed<Options>, UsageError> {
    let mut parsed = args::parse(OPTIONS, Options::default(), args).map_err(UsageError)?;
    if let Parsed::Run(options) = &mut parsed {
        if options.connect && options.nickname.is_empty() {
            options.nickname = default_nickname();
        }
    }
    Ok(parsed)
}

/// The login name, made into a valid nickname, or "guest".
pub fn default_nickname() -> String {
    let user = std::env::var("USER").unwrap_or_default();
    let nick: String = user
        .chars()
        .filter(|c| !c.is_control())
        .take(tlschat::wire::MAX_NICKNAME_CHARS)
        .collect();
    let nick = nick.trim().to_string();
    if nick.is_empty() {
        "guest".into()
    } else {
        nick
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(parse(args(&[])), Ok(Parsed::Run(Options::default())));
        let Ok(Parsed::Run(o)) = parse(args(&[
            "--server",
            "chat.lan",
            "--nickname=bob",
            "--connect",
            "--log",
            "t.txt",
        ])) else {
            panic!("did not parse")
        };
        assert_eq!(o.server, "chat.lan:8888");
        assert_eq!(o.nickname, "bob");
        assert!(o.connect);
        assert_eq!(o.log, Some(PathBuf::from("t.txt")));
        assert_eq!(parse(args(&["--help"])), Ok(Parsed::Help));
    }

    #[test]
    fn mistakes_are_explained() {
        let err = |list: &[&str]| parse(args(list)).err().map(|e| e.0.to_string());
        assert_eq!(err(&["--frob"]).as_deref(), Some("unknown option '--frob'"));
        assert_eq!(
            err(&["--server"]).as_deref(),
            Some("--server needs a value: HOST:PORT")
        );
        assert!(err(&["--server", "a:b:c"]).is_some_and(|e| e.starts_with("--server 'a:b:c': ")));
        assert!(parse(args(&["--nick", "bob"])).is_ok());
        assert!(parse(args(&["--nickname", " x"])).is_err());
    }
}
