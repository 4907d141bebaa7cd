//! Command-line options, parsed before GTK sees them.

use std::fmt;
use std::path::PathBuf;

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

/// The usage text for `--help`.
pub const USAGE: &str = "\
Usage: client [OPTIONS]

A GTK desktop client for a tlschat room.

Options:
  --server HOST:PORT   server to connect to (default 127.0.0.1:8888)
  --nickname NAME      nickname to log in with (default: your user name)
  --connect            log in as soon as the window opens
  --ca FILE            trust the CA certificate in FILE (default: the bundled development CA)
  --log FILE           append a plain-text transcript of the room to FILE
  --help               show this help";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Options),
    Help,
}

/// A command line that makes no sense, worded for the person who typed it.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\nTry 'client --help' for more information.", self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parses the arguments after the program name. Accepts `--opt value` and `--opt=value`.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Parsed, UsageError> {
    let mut options = Options::default();
    let mut args = tlschat::args::Words::new(args);
    while let Some(flag) = args.next_flag() {
        let name = flag.name.clone();
        let mut value = |what: &str| {
            args.value(&flag)
                .ok_or_else(|| UsageError(format!("{name} needs a value: {what}")))
        };
        match name.as_str() {
            "--server" => {
                let typed = value("HOST:PORT")?;
                options.server = tlschat::runtime::address::parse_server(&typed)
                    .map_err(|e| UsageError(format!("--server '{typed}': {e}")))?;
            }
            "--nickname" | "--nick" => {
                let nick = value("NAME")?;
                tlschat::wire::validate_nickname(&nick)
                    .map_err(|e| UsageError(format!("--nickname '{nick}': {e}")))?;
                options.nickname = nick;
            }
            "--ca" => options.ca = Some(value("FILE")?.into()),
            "--log" => options.log = Some(value("FILE")?.into()),
            "--connect" => options.connect = true,
            "--help" | "-h" => return Ok(Parsed::Help),
            _ => return Err(UsageError(format!("unknown option '{name}'"))),
        }
    }
    if options.connect && options.nickname.is_empty() {
        options.nickname = default_nickname();
    }
    Ok(Parsed::Run(options))
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
        let err = parse(args(&["--frob"])).err().map(|e| e.0);
        assert_eq!(err.as_deref(), Some("unknown option '--frob'"));
        let err = parse(args(&["--server"])).err().map(|e| e.0);
        assert_eq!(err.as_deref(), Some("--server needs a value: HOST:PORT"));
        assert!(parse(args(&["--nickname", " x"])).is_err());
    }
}
