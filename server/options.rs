//! Command-line options of the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tlschat::args::{self, above, at_least, number, seconds, set, Bad, Opt, Parsed};

use crate::addresses::Limits;
use crate::error::Error;

/// Everything the server can be told on its command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub password_file: Option<PathBuf>,
    pub max_users: usize,
    pub history: usize,
    /// Where history is saved; `None` keeps it in memory only.
    pub data_dir: Option<PathBuf>,
    pub history_keep: usize,
    pub resume_grace: Duration,
    /// Messages per second and burst; `None` switches flood control off.
    pub flood: Option<(f64, f64)>,
    pub send_budget: usize,
    pub idle_timeout: Duration,
    pub login_timeout: Duration,
    pub handshake_timeout: Duration,
    /// What one address may do.
    pub per_address: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from(([0, 0, 0, 0], tlschat::wire::DEFAULT_PORT)),
            cert: "certs/server.crt".into(),
            key: "certs/server.key".into(),
            password_file: None,
            max_users: 1000,
            history: 200,
            data_dir: Some("data".into()),
            history_keep: 10_000,
            resume_grace: Duration::from_secs(60),
            flood: Some((5.0, 10.0)),
            send_budget: 2 * 1024 * 1024,
            idle_timeout: Duration::from_secs(120),
            login_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            per_address: Limits {
                pending: Some(8),
                users: Some(16),
                connects: Some((30.0, Duration::from_secs(60))),
                messages: Some((10.0, 40.0)),
            },
        }
    }
}

const INTRO: &str = "tlschat server: a TLS group chat room.\n\nUsage: server [OPTIONS]";
const OUTRO: &str = "Make your own certificates with ./ca_gen.sh; clients trust certs/ca.crt.
Logs go to stderr, one line per event.";

/// The `--help` text.
pub fn usage() -> String {
    args::help(INTRO, OPTIONS, OUTRO)
}

/// What the options say, before the switches that turn things off are applied.
struct Build {
    opts: Options,
    persist: bool,
    flood_control: bool,
    address_limits: bool,
}

/// Every option of the server: `--help` and the parser both come from this table.
const OPTIONS: &[Opt<Build>] = &[
    Opt::value(
        "--listen",
        "ADDR:PORT",
        "where to listen [default: 0.0.0.0:8888]",
        |b, v| set(&mut b.opts.listen, listen_addr(v)),
    ),
    Opt::value(
        "--cert",
        "FILE",
        "server certificate, PEM [default: certs/server.crt]",
        |b, v| set(&mut b.opts.cert, Ok(v.into())),
    ),
    Opt::value(
        "--key",
        "FILE",
        "its private key, PEM (PKCS#8) [default: certs/server.key]",
        |b, v| set(&mut b.opts.key, Ok(v.into())),
    ),
    Opt::value(
        "--password-file",
        "FILE",
        "make the room private: logins must send this password (the file's first line)",
        |b, v| set(&mut b.opts.password_file, Ok(Some(v.into()))),
    ),
    Opt::value(
        "--max-users",
        "N",
        "most users in the room at once [default: 1000]",
        |b, v| set(&mut b.opts.max_users, at_least(v, 1)),
    ),
    Opt::value(
        "--history",
        "N",
        "recent messages sent to each user who joins [default: 200]",
        |b, v| set(&mut b.opts.history, at_least(v, 0)),
    ),
    Opt::value(
        "--data-dir",
        "DIR",
        "where the room's history is kept [default: data]",
        |b, v| set(&mut b.opts.data_dir, Ok(Some(v.into()))),
    ),
    Opt::value(
        "--history-keep",
        "N",
        "messages kept on disk and for catching up [default: 10000]",
        |b, v| set(&mut b.opts.history_keep, at_least(v, 0)),
    ),
    Opt::switch("--no-persist", "keep history in memory only", |b| {
        b.persist = false
    }),
    Opt::value(
        "--resume-grace",
        "SECS",
        "how long a dropped user's nickname is kept for them to come back without leaving \
         [default: 60; 0 disables]",
        |b, v| set(&mut b.opts.resume_grace, seconds(v, 0.0)),
    ),
    Opt::value(
        "--rate",
        "N",
        "flood control: messages per second per user [default: 5]",
        |b, v| set(&mut flood(&mut b.opts.flood).0, above(v, 0.0)),
    ),
    Opt::value(
        "--burst",
        "N",
        "flood control: messages a user may send at once [default: 10]",
        |b, v| set(&mut flood(&mut b.opts.flood).1, number(v, 1.0)),
    ),
    Opt::switch(
        "--no-flood-control",
        "no message rate limits, per user or per address (benchmarks)",
        |b| b.flood_control = false,
    ),
    Opt::value(
        "--max-pending-per-address",
        "N",
        "connections from one address still in the TLS handshake or login; more are closed \
         at once [default: 8]",
        |b, v| set(&mut b.opts.per_address.pending, at_least(v, 1).map(Some)),
    ),
    Opt::value(
        "--max-users-per-address",
        "N",
        "users logged in from one address [default: 16]",
        |b, v| set(&mut b.opts.per_address.users, at_least(v, 1).map(Some)),
    ),
    Opt::value(
        "--connects-per-address",
        "N",
        "new connections one address may open per interval; more are closed at once \
         [default: 30]",
        |b, v| set(&mut connects(&mut b.opts.per_address).0, number(v, 1.0)),
    ),
    Opt::value(
        "--connect-interval",
        "SECS",
        "that interval [default: 60]",
        |b, v| set(&mut connects(&mut b.opts.per_address).1, seconds(v, 0.001)),
    ),
    Opt::value(
        "--address-rate",
        "N",
        "flood control: messages per second from one address, all its connections together, \
         reconnects included [default: 10]",
        |b, v| {
            set(
                &mut flood(&mut b.opts.per_address.messages).0,
                above(v, 0.0),
            )
        },
    ),
    Opt::value(
        "--address-burst",
        "N",
        "flood control: messages one address may send at once [default: 40]",
        |b, v| {
            set(
                &mut flood(&mut b.opts.per_address.messages).1,
                number(v, 1.0),
            )
        },
    ),
    Opt::switch(
        "--no-address-limits",
        "none of the per-address limits (benchmarks, tests running many clients on one machine)",
        |b| b.address_limits = false,
    ),
    Opt::value(
        "--send-budget",
        "BYTES",
        "bytes queued for one user before it is disconnected as too slow [default: 2097152]",
        |b, v| set(&mut b.opts.send_budget, at_least(v, 1024)),
    ),
    Opt::value(
        "--idle-timeout",
        "SECS",
        "disconnect users silent this long; they are pinged at half of it [default: 120]",
        |b, v| set(&mut b.opts.idle_timeout, seconds(v, 0.001)),
    ),
    Opt::value(
        "--login-timeout",
        "SECS",
        "time to send `login` after connecting [default: 30]",
        |b, v| set(&mut b.opts.login_timeout, seconds(v, 0.001)),
    ),
    Opt::value(
        "--handshake-timeout",
        "SECS",
        "time to complete the TLS handshake [default: 10]",
        |b, v| set(&mut b.opts.handshake_timeout, seconds(v, 0.001)),
    ),
];

/// The (rate, burst) pair being set; the defaults have one until a switch turns it off.
fn flood(pair: &mut Option<(f64, f64)>) -> &mut (f64, f64) {
    pair.get_or_insert((0.0, 0.0))
}

fn connects(limits: &mut Limits) -> &mut (f64, Duration) {
    limits
        .connects
        .get_or_insert((0.0, Duration::from_secs(60)))
}

/// Parses the arguments after the program name.
pub fn parse(words: impl IntoIterator<Item = String>) -> Result<Parsed<Options>, Error> {
    let build = Build {
        opts: Options::default(),
        persist: true,
        flood_control: true,
        address_limits: true,
    };
    let mut b = match args::parse(OPTIONS, build, words) {
        Ok(Parsed::Run(build)) => build,
        Ok(Parsed::Help) => return Ok(Parsed::Help),
        Err(e) => return Err(Error::Usage(e.to_string())),
    };
    if !b.flood_control {
        b.opts.flood = None;
        b.opts.per_address.messages = None;
    }
    if !b.address_limits {
        b.opts.per_address = Limits {
            pending: None,
            users: None,
            connects: None,
            messages: None,
        };
    }
    if !b.persist {
        b.opts.data_dir = None;
    }
    b.opts.history_keep = b.opts.history_keep.max(b.opts.history);
    Ok(Parsed::Run(b.opts))
}

fn listen_addr(text: &str) -> Result<SocketAddr, Bad> {
    let with_host = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.to_string()
    };
    with_host
        .parse()
        .map_err(|_| Bad::Wants("ADDR:PORT such as 0.0.0.0:8888 or 127.0.0.1:0".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Options, String> {
        match parse(words.iter().map(|w| w.to_string())) {
            Ok(Parsed::Run(options)) => Ok(options),
            Ok(Parsed::Help) => Err("help".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn defaults_and_values() {
        let o = parse_words(&[]).unwrap();
        assert_eq!(o.listen.to_string(), "0.0.0.0:8888");
        assert_eq!(
            (o.flood, o.per_address.messages),
            (Some((5.0, 10.0)), Some((10.0, 40.0)))
        );
        let o = parse_words(&[
            "--listen=:0",
            "--rate",
            "2",
            "--address-burst=7",
            "--connect-interval",
            "0.5",
            "--history",
            "50",
            "--history-keep",
            "10",
        ])
        .unwrap();
        assert_eq!(o.listen.to_string(), "0.0.0.0:0");
        assert_eq!(
            (o.flood, o.per_address.messages),
            (Some((2.0, 10.0)), Some((10.0, 7.0)))
        );
        assert_eq!(
            o.per_address.connects,
            Some((30.0, Duration::from_millis(500)))
        );
        assert_eq!((o.history, o.history_keep), (50, 50));
        assert_eq!(o.data_dir, Some(PathBuf::from("data")));
    }

    #[test]
    fn switches_turn_things_off_whatever_the_order() {
        let o = parse_words(&[
            "--no-flood-control",
            "--rate",
            "3",
            "--no-persist",
            "--data-dir",
            "d",
        ]);
        let o = o.unwrap();
        assert_eq!(
            (o.flood, o.per_address.messages, o.data_dir),
            (None, None, None)
        );
        let o = parse_words(&["--no-address-limits", "--max-users-per-address", "3"]).unwrap();
        assert_eq!((o.per_address.users, o.per_address.connects), (None, None));
        assert!(o.flood.is_some());
    }

    #[test]
    fn mistakes_are_explained() {
        let err = |words: &[&str]| parse_words(words).err().unwrap_or_default();
        assert_eq!(err(&["--frob"]), "unknown option '--frob' (see --help)");
        assert_eq!(
            err(&["--max-users", "0"]),
            "--max-users takes a number of at least 1, not '0' (see --help)"
        );
        assert!(err(&["--rate", "0"]).contains("--rate takes a number above 0"));
        assert!(err(&["--idle-timeout", "inf"]).contains("a number of seconds"));
        assert!(err(&["--listen", "nowhere"]).contains("ADDR:PORT such as"));
        assert_eq!(err(&["--cert"]), "--cert needs a value: FILE (see --help)");
        assert_eq!(err(&["-h"]), "help");
    }
}
