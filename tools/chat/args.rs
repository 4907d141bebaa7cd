//! Command-line options of the terminal client.

use std::path::PathBuf;

use tlschat::args::{self, set, Opt, Parsed};

const INTRO: &str = "\
Usage: chat --nickname NAME [--server HOST:PORT] [--ca FILE] [--password-file FILE] [--json]
            [--no-reconnect]

Joins a tlschat room over TLS. Lines typed on standard input are sent to the room;
every event is printed as one line on standard output. At a terminal, lines are edited
with the usual keys: Up recalls what you sent, Tab completes nicknames.";

/// The `--help` text.
pub fn usage() -> String {
    args::help(
        INTRO,
        OPTIONS,
        "Type /help once connected for the commands.",
    )
}

/// What the user asked for on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub nickname: String,
    pub server: String,
    pub ca: Option<PathBuf>,
    pub password_file: Option<PathBuf>,
    pub json: bool,
    /// Come back by ourselves after a dropped connection (unless `--no-reconnect`).
    pub reconnect: bool,
}

/// Every option of `chat`: `--help` and the parser both come from this table.
const OPTIONS: &[Opt<Options>] = &[
    Opt::value(
        "--nickname",
        "NAME",
        "the name to join with (required)",
        |o: &mut Options, v: &str| set(&mut o.nickname, args::nickname(v)),
    )
    .or("--nick"),
    Opt::value(
        "--server",
        "HOST:PORT",
        "the server (default 127.0.0.1:8888; the port defaults to 8888)",
        |o, v| set(&mut o.server, args::server_address(v)),
    ),
    Opt::value(
        "--ca",
        "FILE",
        "PEM certificate of the CA that signed the server (default: the bundled development CA)",
        |o, v| set(&mut o.ca, Ok(Some(v.into()))),
    ),
    Opt::value(
        "--password-file",
        "FILE",
        "read the room password from the first line of FILE",
        |o, v| set(&mut o.password_file, Ok(Some(v.into()))),
    ),
    Opt::switch(
        "--json",
        "print each server message as its protocol JSON line (characters a terminal would obey \
         are written as \\u escapes)",
        |o| o.json = true,
    ),
    Opt::switch(
        "--no-reconnect",
        "exit when the connection drops instead of reconnecting and catching up on what was \
         missed",
        |o| o.reconnect = false,
    ),
];

/// Parses the arguments after the program name; errors are sentences for people.
pub fn parse<I: IntoIterator<Item = String>>(words: I) -> Result<Parsed<Options>, args::Error> {
    let start = Options {
        nickname: String::new(),
        server: format!("127.0.0.1:{}", tlschat::wire::DEFAULT_PORT),
        ca: None,
        password_file: None,
        json: false,
        reconnect: true,
    };
    match args::parse(OPTIONS, start, words)? {
        Parsed::Run(options) if options.nickname.is_empty() => Err(args::Error::Required {
            option: "--nickname",
            placeholder: "NAME",
        }),
        parsed => Ok(parsed),
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
        let Ok(Parsed::Run(o)) = parse(args(&["--nickname", "bot"])) else {
            panic!("should parse");
        };
        assert_eq!(o.server, "127.0.0.1:8888");
        assert!(!o.json && o.ca.is_none() && o.password_file.is_none());
        assert!(o.reconnect);
        let Ok(Parsed::Run(o)) = parse(args(&["--nick=bot", "--server", "chat.lan", "--json"]))
        else {
            panic!("should parse");
        };
        assert_eq!(o.server, "chat.lan:8888");
        assert!(o.json);
        let Ok(Parsed::Run(o)) = parse(args(&["--nickname=bot", "--no-reconnect"])) else {
            panic!("should parse");
        };
        assert!(!o.reconnect);
    }

    #[test]
    fn mistakes_are_explained() {
        let err = |list: &[&str]| parse(args(list)).unwrap_err().to_string();
        assert_eq!(err(&[]), "--nickname NAME is required");
        assert_eq!(err(&["--nickname"]), "--nickname needs a value: NAME");
        assert!(err(&["--nickname", "x", "--bogus"]).contains("unknown option '--bogus'"));
        assert!(err(&["--nickname", " x"]).starts_with("--nickname ' x': "));
        assert_eq!(parse(args(&["--help"])), Ok(Parsed::Help));
    }
}
