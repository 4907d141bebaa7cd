//! Command-line options of the load generator.

use std::time::Duration;

use tlschat::args::{self, above, at_least, number, set, Bad, Opt, Parsed};

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Load {
        clients: usize,
        messages: usize,
        rate: f64,
        size: usize,
    },
    Connections {
        connections: usize,
        probes: usize,
    },
}

/// Which protocol the clients speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tlschat,
    Irc,
}

impl Protocol {
    /// Whether the server sends a message back to its sender too.
    pub fn echoes(self) -> bool {
        self == Protocol::Tlschat
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tlschat => "tlschat",
            Protocol::Irc => "irc",
        }
    }
}

/// The longest message text in IRC mode: a line is at most 512 bytes with the sender's
/// prefix, the command and the channel.
pub const IRC_MAX_SIZE: usize = 400;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub server: Option<String>,
    pub server_pid: Option<u32>,
    pub spawn_server: bool,
    pub server_args: Vec<String>,
    pub protocol: Protocol,
    pub mode: Mode,
    pub batch: usize,
    /// Connections opened per second, instead of batches.
    pub connect_rate: Option<f64>,
    pub timeout: Duration,
}

const INTRO: &str = "\
Usage: bench (--server 127.0.0.1:PORT [--server-pid PID] | --spawn-server [--server-arg ARG]...)
             [--irc] [--clients N --messages M --rate R --size BYTES | --connections C]
             [--batch B | --connect-rate R] [--timeout SECS]

Load mode (default): N clients log in, wait for each other, then each sends M messages of
SIZE bytes at R messages/s (0: as fast as possible). Every client records every delivery.
Connections mode (--connections C): C idle clients log in, in batches of B; then one
message is broadcast to all of them and its delivery time measured.
IRC mode (--irc): the same workloads against an IRC server over TLS: each client registers
(NICK/USER), joins #bench and sends PRIVMSG #bench; IRC does not echo a message to its
sender, so load mode expects N*(N-1)*M deliveries and a probe reaches C-1 clients.";

const OUTRO: &str = "\
Prints one JSON line on stdout, then a summary for people; progress goes to stderr.
Exits 1 if anything was lost, duplicated, reordered or failed.";

/// The `--help` text.
pub fn usage() -> String {
    args::help(INTRO, OPTIONS, OUTRO)
}

/// What the options say before they are checked together.
struct Build {
    options: Options,
    clients: usize,
    messages: usize,
    rate: f64,
    size: usize,
    connections: Option<usize>,
    probes: usize,
}

/// Every option of `bench`: `--help` and the parser both come from this table.
const OPTIONS: &[Opt<Build>] = &[
    Opt::value(
        "--server",
        "HOST:PORT",
        "a running server on a loopback address",
        |b, v| set(&mut b.options.server, Ok(Some(v.into()))),
    ),
    Opt::value(
        "--server-pid",
        "PID",
        "its process, to report its CPU time and memory",
        |b, v| set(&mut b.options.server_pid, at_least(v, 1).map(Some)),
    ),
    Opt::switch(
        "--spawn-server",
        "start the `server` binary next to this one on 127.0.0.1:0, with flood control off, no \
         history, room for every client and (load mode) a 64 MiB per-user send budget; measure \
         it; stop it at the end",
        |b| b.options.spawn_server = true,
    ),
    Opt::value(
        "--server-arg",
        "ARG",
        "one more argument for the spawned server (repeatable)",
        |b, v| {
            b.options.server_args.push(v.into());
            Ok(())
        },
    ),
    Opt::switch(
        "--irc",
        "speak IRC instead of tlschat (same as --protocol irc); needs --server",
        |b| b.options.protocol = Protocol::Irc,
    ),
    Opt::value(
        "--protocol",
        "P",
        "tlschat or irc [default: tlschat]",
        |b, v| set(&mut b.options.protocol, protocol(v)),
    ),
    Opt::value(
        "--clients",
        "N",
        "load mode clients [default: 10]",
        |b, v| set(&mut b.clients, at_least(v, 1)),
    ),
    Opt::value(
        "--messages",
        "M",
        "messages per client [default: 100]",
        |b, v| set(&mut b.messages, at_least(v, 0)),
    ),
    Opt::value(
        "--rate",
        "R",
        "messages per second per client, 0 = as fast as possible [default: 0]",
        |b, v| set(&mut b.rate, number(v, 0.0)),
    ),
    Opt::value(
        "--size",
        "BYTES",
        "length of each message text [default: 100]",
        |b, v| set(&mut b.size, at_least(v, 40)),
    ),
    Opt::value(
        "--connections",
        "C",
        "connections mode with C idle clients",
        |b, v| set(&mut b.connections, at_least(v, 1).map(Some)),
    ),
    Opt::value(
        "--probes",
        "K",
        "broadcasts to measure in connections mode [default: 1]",
        |b, v| set(&mut b.probes, at_least(v, 1)),
    ),
    Opt::value(
        "--batch",
        "B",
        "clients logging in at once while ramping up [default: 100]",
        |b, v| set(&mut b.options.batch, at_least(v, 1)),
    ),
    Opt::value(
        "--connect-rate",
        "R",
        "instead of batches, open R connections per second, whether or not the earlier ones \
         have logged in yet (an offered rate)",
        |b, v| set(&mut b.options.connect_rate, above(v, 0.0).map(Some)),
    ),
    Opt::value(
        "--timeout",
        "SECS",
        "give up after this long, reporting what was measured [default: 300]",
        |b, v| set(&mut b.options.timeout, timeout(v)),
    ),
];

fn protocol(text: &str) -> Result<Protocol, Bad> {
    match text {
        "tlschat" => Ok(Protocol::Tlschat),
        "irc" => Ok(Protocol::Irc),
        _ => Err(Bad::Wants("tlschat or irc".into())),
    }
}

fn timeout(text: &str) -> Result<Duration, Bad> {
    let wants = || Bad::Wants("a number of seconds above 0 and up to 86400".into());
    let secs = above(text, 0.0).map_err(|_| wants())?;
    (secs <= 86_400.0)
        .then(|| Duration::from_secs_f64(secs))
        .ok_or_else(wants)
}

/// Parses the arguments after the program name; errors are sentences for people.
pub fn parse<I: IntoIterator<Item = String>>(words: I) -> Result<Parsed<Options>, String> {
    let start = Build {
        options: Options {
            server: None,
            server_pid: None,
            spawn_server: false,
            server_args: Vec::new(),
            protocol: Protocol::Tlschat,
            mode: Mode::Connections {
                connections: 0,
                probes: 0,
            },
            batch: 100,
            connect_rate: None,
            timeout: Duration::from_secs(300),
        },
        clients: 10,
        messages: 100,
        rate: 0.0,
        size: 100,
        connections: None,
        probes: 1,
    };
    let mut b = match args::parse(OPTIONS, start, words) {
        Ok(Parsed::Run(build)) => build,
        Ok(Parsed::Help) => return Ok(Parsed::Help),
        Err(e) => return Err(format!("{e} (see --help)")),
    };
    let o = &b.options;
    if o.server.is_some() == o.spawn_server {
        return Err("give either --server HOST:PORT or --spawn-server (see --help)".into());
    }
    let max_size = match o.protocol {
        Protocol::Tlschat => tlschat::wire::MAX_MESSAGE_CHARS,
        Protocol::Irc => IRC_MAX_SIZE,
    };
    if b.size > max_size {
        return Err(format!(
            "--size must be between 40 (room for the header) and {max_size}"
        ));
    }
    if o.spawn_server && o.protocol == Protocol::Irc {
        return Err(
            "--spawn-server starts tlschat's server: for an IRC server give --server and --server-pid (tools/peers.sh does)"
                .into(),
        );
    }
    b.options.mode = match b.connections {
        Some(connections) => Mode::Connections {
            connections,
            probes: b.probes,
        },
        None => Mode::Load {
            clients: b.clients,
            messages: b.messages,
            rate: b.rate,
            size: b.size,
        },
    };
    Ok(Parsed::Run(b.options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Options, String> {
        match parse(words.iter().map(|w| w.to_string()))? {
            Parsed::Run(options) => Ok(options),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn irc_mode_and_connect_rate() {
        let o = parse_words(&["--server", "127.0.0.1:6697", "--irc", "--connections", "5"]);
        let o = o.unwrap();
        assert_eq!((o.protocol, o.connect_rate), (Protocol::Irc, None));
        let o = parse_words(&[
            "--server=127.0.0.1:1",
            "--protocol",
            "irc",
            "--connect-rate=200",
        ]);
        let o = o.unwrap();
        assert_eq!((o.protocol, o.connect_rate), (Protocol::Irc, Some(200.0)));
        let o = parse_words(&["--spawn-server", "--protocol", "tlschat"]).unwrap();
        assert_eq!(o.protocol, Protocol::Tlschat);
    }

    #[test]
    fn refuses_what_cannot_run() {
        let err = |words: &[&str]| parse_words(words).err().unwrap_or_default();
        assert!(err(&["--spawn-server", "--irc"]).contains("IRC server"));
        assert!(err(&["--server", "a:1", "--protocol", "xmpp"]).contains("tlschat or irc"));
        assert!(err(&["--server", "a:1", "--connect-rate", "0"]).contains("--connect-rate"));
        assert!(err(&["--server", "a:1", "--connect-rate", "x"]).contains("takes a number above 0"));
        assert!(err(&["--server", "a:1", "--clients", "0"]).contains("at least 1"));
        assert!(err(&["--server", "a:1", "--timeout", "1e6"]).contains("86400"));
        assert!(err(&["--server", "a:1", "--irc", "--size", "401"]).contains("400"));
        assert!(parse_words(&["--server", "a:1", "--size", "401"]).is_ok());
    }
}
