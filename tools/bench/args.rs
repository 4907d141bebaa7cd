//! Command-line options of the load generator.

use std::time::Duration;

pub const USAGE: &str = "\
Usage: bench (--server 127.0.0.1:PORT [--server-pid PID] | --spawn-server [--server-arg ARG]...)
             [--irc] [--clients N --messages M --rate R --size BYTES | --connections C]
             [--batch B | --connect-rate R] [--timeout SECS]

Load mode (default): N clients log in, wait for each other, then each sends M messages of
SIZE bytes at R messages/s (0: as fast as possible). Every client records every delivery.
Connections mode (--connections C): C idle clients log in, in batches of B; then one
message is broadcast to all of them and its delivery time measured.
IRC mode (--irc): the same workloads against an IRC server over TLS: each client registers
(NICK/USER), joins #bench and sends PRIVMSG #bench; IRC does not echo a message to its
sender, so load mode expects N*(N-1)*M deliveries and a probe reaches C-1 clients.

Options:
  --server HOST:PORT   a running server on a loopback address
  --server-pid PID     its process, to report its CPU time and memory
  --spawn-server       start the `server` binary next to this one on 127.0.0.1:0, with
                       flood control off, no history, room for every client and (load mode)
                       a 64 MiB per-user send budget; measure it; stop it at the end
  --server-arg ARG     one more argument for the spawned server (repeatable)
  --irc                speak IRC instead of tlschat (same as --protocol irc); needs --server
  --protocol P         tlschat or irc [default: tlschat]
  --clients N          load mode clients [default: 10]
  --messages M         messages per client [default: 100]
  --rate R             messages per second per client, 0 = as fast as possible [default: 0]
  --size BYTES         length of each message text [default: 100]
  --connections C      connections mode with C idle clients
  --probes K           broadcasts to measure in connections mode [default: 1]
  --batch B            clients logging in at once while ramping up [default: 100]
  --connect-rate R     instead of batches, open R connections per second, whether or not
                       the earlier ones have logged in yet (an offered rate)
  --timeout SECS       give up after this long, reporting what was measured [default: 300]

Prints one JSON line on stdout, then a summary for people; progress goes to stderr.
Exits 1 if anything was lost, duplicated, reordered or failed.";

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

pub enum Parsed {
    Run(Options),
    Help,
}

/// Parses the arguments after the program name; errors are sentences for people.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Parsed, String> {
    let mut server = None;
    let mut server_pid = None;
    let mut spawn_server = false;
    let mut server_args = Vec::new();
    let (mut clients, mut messages, mut rate, mut size) = (10, 100, 0.0f64, 100);
    let mut timeout = 300.0f64;
    let (mut connections, mut probes) = (None, 1);
    let mut batch = 100;
    let mut connect_rate = None;
    let mut protocol = Protocol::Tlschat;
    let mut args = tlschat::args::Words::new(args);
    while let Some(flag) = args.next_flag() {
        let arg = flag.name.clone();
        let mut value = |name: &str| args.value(&flag).ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--server" => server = Some(value(&arg)?),
            "--server-pid" => server_pid = Some(number(&arg, &value(&arg)?)?),
            "--spawn-server" => spawn_server = true,
            "--server-arg" => server_args.push(value(&arg)?),
            "--clients" => clients = number(&arg, &value(&arg)?)?,
            "--messages" => messages = number(&arg, &value(&arg)?)?,
            "--rate" => rate = number(&arg, &value(&arg)?)?,
            "--size" => size = number(&arg, &value(&arg)?)?,
            "--connections" => connections = Some(number(&arg, &value(&arg)?)?),
            "--probes" => probes = number(&arg, &value(&arg)?)?,
            "--batch" => batch = number(&arg, &value(&arg)?)?,
            "--connect-rate" => connect_rate = Some(number::<f64>(&arg, &value(&arg)?)?),
            "--irc" => protocol = Protocol::Irc,
            "--protocol" => {
                protocol = match value(&arg)?.as_str() {
                    "tlschat" => Protocol::Tlschat,
                    "irc" => Protocol::Irc,
                    other => {
                        return Err(format!("--protocol is tlschat or irc, not '{other}'"));
                    }
                }
            }
            "--timeout" => timeout = number(&arg, &value(&arg)?)?,
            "-h" | "--help" => return Ok(Parsed::Help),
            other => return Err(format!("unknown option '{other}' (see --help)")),
        }
    }
    if server.is_some() == spawn_server {
        return Err("give either --server HOST:PORT or --spawn-server (see --help)".into());
    }
    if !(rate >= 0.0 && rate.is_finite() && timeout > 0.0 && timeout <= 86_400.0) {
        return Err("--rate must be 0 or more and --timeout between 0 and 86400".into());
    }
    if clients == 0 || batch == 0 || probes == 0 || connections == Some(0) {
        return Err("--clients, --connections, --probes and --batch must be at least 1".into());
    }
    if connect_rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err("--connect-rate must be more than 0 connections per second".into());
    }
    let max_size = match protocol {
        Protocol::Tlschat => tlschat::wire::MAX_MESSAGE_CHARS,
        Protocol::Irc => IRC_MAX_SIZE,
    };
    if !(40..=max_size).contains(&size) {
        return Err(format!(
            "--size must be between 40 (room for the header) and {max_size}"
        ));
    }
    if spawn_server && protocol == Protocol::Irc {
        return Err(
            "--spawn-server starts tlschat's server: for an IRC server give --server and --server-pid (tools/peers.sh does)"
                .into(),
        );
    }
    let mode = match connections {
        Some(connections) => Mode::Connections {
            connections,
            probes,
        },
        None => Mode::Load {
            clients,
            messages,
            rate,
            size,
        },
    };
    Ok(Parsed::Run(Options {
        server,
        server_pid,
        spawn_server,
        server_args,
        protocol,
        mode,
        batch,
        connect_rate,
        timeout: Duration::from_secs_f64(timeout),
    }))
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name} expects a number, not '{text}'"))
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
        assert!(err(&["--server", "a:1", "--connect-rate", "x"]).contains("expects a number"));
        assert!(err(&["--server", "a:1", "--irc", "--size", "401"]).contains("400"));
        assert!(parse_words(&["--server", "a:1", "--size", "401"]).is_ok());
    }
}
