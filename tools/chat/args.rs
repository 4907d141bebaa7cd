//! Command-line options of the terminal client.

use std::path::PathBuf;

pub const USAGE: &str = "\
Usage: chat --nickname NAME [--server HOST:PORT] [--ca FILE] [--password-file FILE] [--json]
            [--no-reconnect]

Joins a tlschat room over TLS. Lines typed on standard input are sent to the room;
every event is printed as one line on standard output. At a terminal, lines are edited
with the usual keys: Up recalls what you sent, Tab completes nicknames.

Options:
  --nickname NAME        the name to join with (required)
  --server HOST:PORT     the server (default 127.0.0.1:8888; the port defaults to 8888)
  --ca FILE              PEM certificate of the CA that signed the server (default: the bundled
                         development CA)
  --password-file FILE   read the room password from the first line of FILE
  --json                 print each server message as its protocol JSON line (characters
                         a terminal would obey are written as \\u escapes)
  --no-reconnect         exit when the connection drops instead of reconnecting and
                         catching up on what was missed
  -h, --help             show this help

Type /help once connected for the commands.";

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

/// The outcome of parsing: run, or print the usage and stop.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Options),
    Help,
}

/// Parses the arguments after the program name; errors are sentences for people.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Parsed, String> {
    let mut nickname = None;
    let mut server = format!("127.0.0.1:{}", tlschat::wire::DEFAULT_PORT);
    let mut ca = None;
    let mut password_file = None;
    let mut json = false;
    let mut reconnect = true;
    let mut args = tlschat::args::Words::new(args);
    while let Some(flag) = args.next_flag() {
        let word = flag.name.clone();
        let mut value = |name: &str| {
            args.value(&flag)
                .ok_or_else(|| format!("{name} needs a value (see --help)"))
        };
        match word.as_str() {
            "--nickname" | "--nick" => nickname = Some(value("--nickname")?),
            "--server" => {
                let typed = value("--server")?;
                server = tlschat::runtime::address::parse_server(&typed)
                    .map_err(|e| format!("--server '{typed}': {e}"))?;
            }
            "--ca" => ca = Some(PathBuf::from(value("--ca")?)),
            "--password-file" => password_file = Some(PathBuf::from(value("--password-file")?)),
            "--json" => json = true,
            "--no-reconnect" => reconnect = false,
            "-h" | "--help" => return Ok(Parsed::Help),
            other => return Err(format!("unknown option '{other}' (see --help)")),
        }
    }
    let nickname = nickname.ok_or("--nickname NAME is required (see --help)")?;
    tlschat::wire::validate_nickname(&nickname).map_err(|e| format!("bad nickname: {e}"))?;
    Ok(Parsed::Run(Options {
        nickname,
        server,
        ca,
        password_file,
        json,
        reconnect,
    }))
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
        let Ok(Parsed::Run(o)) = parse(args(&["--nickname=bot", "--server", "chat.lan", "--json"]))
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
        assert!(parse(args(&[])).unwrap_err().contains("--nickname"));
        assert!(parse(args(&["--nickname"]))
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse(args(&["--nickname", "x", "--bogus"]))
            .unwrap_err()
            .contains("unknown option"));
        assert!(parse(args(&["--nickname", " x"]))
            .unwrap_err()
            .contains("bad nickname"));
        assert_eq!(parse(args(&["--help"])), Ok(Parsed::Help));
    }
}
