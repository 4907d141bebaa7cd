//! Command-line options of the server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::addresses::Limits;
use crate::error::Error;

pub const USAGE: &str = "\
tlschat server: a TLS group chat room.

Usage: server [OPTIONS]

Options:
  --listen ADDR:PORT        where to listen [default: 0.0.0.0:8888]
  --cert FILE               server certificate, PEM [default: certs/server.crt]
  --key FILE                its private key, PEM (PKCS#8) [default: certs/server.key]
  --password-file FILE      make the room private: logins must send this password
                            (the file's first line)
  --max-users N             most users in the room at once [default: 1000]
  --history N               recent messages sent to each user who joins [default: 200]
  --data-dir DIR            where the room's history is kept [default: data]
  --history-keep N          messages kept on disk and for catching up [default: 10000]
  --no-persist              keep history in memory only
  --resume-grace SECS       how long a dropped user's nickname is kept for them to
                            come back without leaving [default: 60; 0 disables]
  --rate N                  flood control: messages per second per user [default: 5]
  --burst N                 flood control: messages a user may send at once [default: 10]
  --no-flood-control        no message rate limits, per user or per address (benchmarks)
  --max-pending-per-address N
                            connections from one address still in the TLS handshake or
                            login; more are closed at once [default: 8]
  --max-users-per-address N users logged in from one address [default: 16]
  --connects-per-address N  new connections one address may open per interval; more are
                            closed at once [default: 30]
  --connect-interval SECS   that interval [default: 60]
  --address-rate N          flood control: messages per second from one address, all its
                            connections together, reconnects included [default: 10]
  --address-burst N         flood control: messages one address may send at once
                            [default: 40]
  --no-address-limits       none of the per-address limits (benchmarks, tests running many
                            clients on one machine)
  --send-budget BYTES       bytes queued for one user before it is disconnected as too
                            slow [default: 2097152]
  --idle-timeout SECS       disconnect users silent this long; they are pinged at half
                            of it [default: 120]
  --login-timeout SECS      time to send `login` after connecting [default: 30]
  --handshake-timeout SECS  time to complete the TLS handshake [default: 10]
  -h, --help                show this help

Make your own certificates with ./ca_gen.sh; clients trust certs/ca.crt.
Logs go to stderr, one line per event.
";

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

/// What the command line asks for.
pub enum Command {
    Serve(Box<Options>),
    Help,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, Error> {
    let mut opts = Options::default();
    let mut args = tlschat::args::Words::new(args);
    let (mut rate, mut burst, mut flood_on) = (5.0, 10.0, true);
    let (mut data_dir, mut persist) = (None, true);
    let mut limits = opts.per_address;
    let (mut connects, mut connect_every) = (30.0, Duration::from_secs(60));
    let (mut address_rate, mut address_burst, mut address_limits) = (10.0, 40.0, true);
    while let Some(flag) = args.next_flag() {
        let name = flag.name.clone();
        let mut value = || {
            args.value(&flag)
                .ok_or_else(|| Error::Usage(format!("{name} needs a value")))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--listen" => opts.listen = parse_addr(&value()?)?,
            "--cert" => opts.cert = value()?.into(),
            "--key" => opts.key = value()?.into(),
            "--password-file" => opts.password_file = Some(value()?.into()),
            "--max-users" => opts.max_users = number(&name, &value()?, 1)?,
            "--history" => opts.history = number(&name, &value()?, 0)?,
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            "--history-keep" => opts.history_keep = number(&name, &value()?, 0)?,
            "--no-persist" => persist = false,
            "--resume-grace" => opts.resume_grace = seconds_or_zero(&name, &value()?)?,
            "--rate" => rate = number::<f64>(&name, &value()?, 0.0)?,
            "--burst" => burst = number::<f64>(&name, &value()?, 1.0)?,
            "--no-flood-control" => flood_on = false,
            "--send-budget" => opts.send_budget = number(&name, &value()?, 1024)?,
            "--idle-timeout" => opts.idle_timeout = seconds(&name, &value()?)?,
            "--login-timeout" => opts.login_timeout = seconds(&name, &value()?)?,
            "--handshake-timeout" => opts.handshake_timeout = seconds(&name, &value()?)?,
            "--max-pending-per-address" => limits.pending = Some(number(&name, &value()?, 1)?),
            "--max-users-per-address" => limits.users = Some(number(&name, &value()?, 1)?),
            "--connects-per-address" => connects = number::<f64>(&name, &value()?, 1.0)?,
            "--connect-interval" => connect_every = seconds(&name, &value()?)?,
            "--address-rate" => address_rate = number::<f64>(&name, &value()?, 0.0)?,
            "--address-burst" => address_burst = number::<f64>(&name, &value()?, 1.0)?,
            "--no-address-limits" => address_limits = false,
            _ => return Err(Error::Usage(format!("unknown option {name:?}"))),
        }
    }
    if rate <= 0.0 {
        return Err(Error::Usage("--rate must be above 0".into()));
    }
    opts.flood = flood_on.then_some((rate, burst));
    if address_rate <= 0.0 {
        return Err(Error::Usage("--address-rate must be above 0".into()));
    }
    limits.connects = Some((connects, connect_every));
    limits.messages = flood_on.then_some((address_rate, address_burst));
    opts.per_address = if address_limits {
        limits
    } else {
        Limits {
            pending: None,
            users: None,
            connects: None,
            messages: None,
        }
    };
    if persist {
        opts.data_dir = data_dir.or(opts.data_dir);
    } else {
        opts.data_dir = None;
    }
    opts.history_keep = opts.history_keep.max(opts.history);
    Ok(Command::Serve(Box::new(opts)))
}

fn parse_addr(text: &str) -> Result<SocketAddr, Error> {
    let with_host = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.to_string()
    };
    with_host.parse().map_err(|_| {
        Error::Usage(format!(
            "--listen takes ADDR:PORT such as 0.0.0.0:8888 or 127.0.0.1:0, not {text:?}"
        ))
    })
}

fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    name: &str,
    text: &str,
    min: T,
) -> Result<T, Error> {
    match text.parse::<T>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(Error::Usage(format!(
            "{name} takes a number of at least {min}, not {text:?}"
        ))),
    }
}

fn seconds_or_zero(name: &str, text: &str) -> Result<Duration, Error> {
    let secs: f64 = number(name, text, 0.0)?;
    Ok(Duration::from_secs_f64(secs))
}

fn seconds(name: &str, text: &str) -> Result<Duration, Error> {
    let secs: f64 = number(name, text, 0.001)?;
    Ok(Duration::from_secs_f64(secs))
}
