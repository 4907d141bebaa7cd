//! `bench`: a load generator that measures a tlschat server the way chat servers are
//! compared, over real TLS on loopback.
//!
//! Run it as `cargo run --release --bin bench -- --spawn-server --clients 100 --messages 100`
//! (see `--help` and BENCHMARKS.md). The bench opens client connections to the server;
//! each client logs in, and once all are in, sends numbered messages that the server
//! broadcasts back to every client, the sender included. With `--irc` the same workloads
//! run against an IRC server (NICK/USER, JOIN #bench, PRIVMSG), which does not echo to the
//! sender; `tools/peers.sh` runs them side by side.
//!
//! ```text
//!   bench: client 0..N ──login, "b SENDER N SEND_NANOS xxx…"──▶ server
//!          client 0..N ◀──every message, to everyone──────────── server
//!   bench: /proc/SERVER_PID ──CPU time, RSS──▶ report (one JSON line + a summary)
//! ```
//!
//! Load mode counts every delivery per sender (lost, duplicated, reordered) and its latency;
//! connections mode holds C idle clients and times one broadcast to all of them. Every run is
//! bounded by `--timeout` and refuses non-loopback servers.

mod args;
mod idle;
mod irc;
mod load;
mod pipe_client;
mod poller;
mod procfs;
mod proto;
mod record;
mod spawn;
mod stats;

use std::io::{IsTerminal, Write};
use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use args::Mode;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("bench: the run found problems (see \"ok\" in the report)");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the benchmark; `Ok(false)` when it completed but found loss or failures.
fn run() -> Result<bool, String> {
    let options = match args::parse(std::env::args().skip(1))? {
        tlschat::args::Parsed::Help => {
            print!("{}", args::usage());
            return Ok(true);
        }
        tlschat::args::Parsed::Run(options) => options,
    };
    let deadline = Instant::now() + options.timeout;
    now_nanos();
    let nofile = tlschat::limits::raise_open_file_limit();
    let spawned = match options.spawn_server {
        true => Some(spawn::start(&spawn_args(&options))?),
        false => None,
    };
    let target = Target {
        addr: match (&spawned, &options.server) {
            (Some(s), _) => s.addr.clone(),
            (None, Some(addr)) => tlschat::runtime::connect::with_default_port(addr),
            (None, None) => return Err("no server given".into()),
        },
        pid: spawned.as_ref().map(|s| s.pid).or(options.server_pid),
    };
    require_loopback(&target.addr)?;
    let peak_reset = target.pid.is_some_and(procfs::reset_peak);
    let mut report = match &options.mode {
        Mode::Load {
            clients,
            messages,
            rate,
            size,
        } => load::run(
            &load::Load {
                protocol: options.protocol,
                clients: *clients,
                messages: *messages,
                rate: *rate,
                size: *size,
                batch: options.batch,
                connect_rate: options.connect_rate,
            },
            &target,
            deadline,
        ),
        Mode::Connections {
            connections,
            probes,
        } => idle::run(
            &idle::Idle {
                protocol: options.protocol,
                connections: *connections,
                probes: *probes,
                batch: options.batch,
                connect_rate: options.connect_rate,
            },
            &target,
            deadline,
        ),
    }
    .map_err(|e| match &spawned {
        Some(s) => format!("{e}\nthe server's last log lines:\n{}", s.log_tail()),
        None => e,
    })?;
    report["server_addr"] = json!(target.addr);
    report["server_command"] = json!(spawned.as_ref().map(|s| s.command.clone()));
    report["peak_rss_covers"] = json!(if peak_reset {
        "this run"
    } else {
        "the server's lifetime"
    });
    report["open_file_limit"] = json!(nofile);
    if let Some(threads) = target.pid.and_then(procfs::threads) {
        report["server_threads"] = json!(threads);
    }
    println!("{report}");
    println!("{}", summary(&report));
    Ok(report["ok"].as_bool().unwrap_or(false))
}

/// The arguments of a spawned server: what the workload needs, then the user's own.
fn spawn_args(options: &args::Options) -> Vec<String> {
    let users = match options.mode {
        Mode::Load { clients, .. } => clients,
        Mode::Connections { connections, .. } => connections,
    };
    let mut args: Vec<String> = vec![
        "--no-flood-control".into(),
        // Every client comes from 127.0.0.1.
        "--no-address-limits".into(),
        "--history".into(),
        "0".into(),
        "--max-users".into(),
        (users + 16).to_string(),
    ];
    if matches!(options.mode, Mode::Load { .. }) {
        args.extend(["--send-budget".into(), (64 << 20).to_string()]);
    }
    args.extend(options.server_args.iter().cloned());
    args
}

/// The server under test.
pub struct Target {
    pub addr: String,
    pub pid: Option<u32>,
}

impl Target {
    /// The server's counters now, if its PID is known and readable.
    pub fn usage(&self) -> Option<procfs::Usage> {
        let pid = self.pid?;
        match procfs::sample(pid) {
            Ok(usage) => Some(usage),
            Err(e) => {
                eprintln!("bench: {e}");
                None
            }
        }
    }
}

fn require_loopback(addr: &str) -> Result<(), String> {
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "{addr} is not a loopback address: this tool only loads servers on this machine"
        ));
    }
    Ok(())
}

/// Nanoseconds since the first call: one monotonic clock for send and receive stamps.
pub fn now_nanos() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Milliseconds with microsecond precision, for the report.
pub fn latency_json(s: &stats::Summary) -> Value {
    let ms = |ns: u64| (ns as f64 / 1e3).round() / 1e3;
    json!({ "count": s.count, "p50": ms(s.p50), "p99": ms(s.p99), "max": ms(s.max) })
}

/// A status line on stderr while a run goes on: rewritten in place on a terminal, an
/// occasional line otherwise (so logs stay readable).
pub struct Progress {
    started: Instant,
    last: Option<Instant>,
    tty: bool,
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            started: Instant::now(),
            last: None,
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn show(&mut self, status: &str) {
        let every = if self.tty { 200 } else { 2000 };
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(every))
        {
            return;
        }
        self.last = Some(Instant::now());
        let line = format!("[{:6.1} s] {status}", self.started.elapsed().as_secs_f64());
        let mut err = std::io::stderr().lock();
        let _ = match self.tty {
            true => write!(err, "\r{line}\x1b[K"),
            false => writeln!(err, "{line}"),
        };
    }

    pub fn done(&mut self) {
        if self.tty && self.last.is_some() {
            eprintln!();
        }
        self.last = None;
    }
}

/// The report in a few lines for people.
fn summary(r: &Value) -> String {
    let lat = &r["latency_ms"];
    let mut lines = Vec::new();
    if r["mode"] == "load" {
        lines.push(format!(
            "load ({}): {} clients x {} messages at {} msg/s each ({} bytes): {}",
            r["protocol"].as_str().unwrap_or("?"),
            r["clients"],
            r["messages"],
            r["rate"],
            r["size"],
            if r["ok"] == true { "OK" } else { "PROBLEMS" }
        ));
        lines.push(format!(
            "  deliveries {}/{} expected, lost {}, duplicated {}, reordered {}, send failures {}",
            r["received"],
            r["expected"],
            r["lost"],
            r["duplicates"],
            r["reordered"],
            r["send_failures"]
        ));
        lines.push(format!(
            "  {} deliveries/s over {} s; latency p50 {} ms, p99 {} ms, max {} ms",
            r["deliveries_per_sec"],
            r["send_to_last_delivery_secs"],
            lat["p50"],
            lat["p99"],
            lat["max"]
        ));
    } else {
        lines.push(format!(
            "connections ({}): {}/{} idle clients logged in ({} failed) in {} s: {}",
            r["protocol"].as_str().unwrap_or("?"),
            r["connected"],
            r["connections"],
            r["failed"],
            r["ramp_secs"],
            if r["ok"] == true { "OK" } else { "PROBLEMS" }
        ));
        if !r["connect_rate"].is_null() {
            lines.push(format!(
                "  offered {} connections/s; the latest started {} ms behind schedule",
                r["connect_rate"], r["connect_max_lag_ms"]
            ));
        }
        if !r["handshake_ms"].is_null() {
            let h = &r["handshake_ms"];
            lines.push(format!(
                "  TLS handshake and login, bench side: p50 {} ms, p99 {} ms",
                h["p50"], h["p99"]
            ));
        }
        lines.push(format!(
            "  broadcast to all: {} deliveries, p50 {} ms, p99 {} ms, max {} ms",
            lat["count"], lat["p50"], lat["p99"], lat["max"]
        ));
    }
    let s = &r["server"];
    if !s.is_null() {
        let mut line = format!(
            "  server: {} CPU s, peak RSS {} kB, RSS {} kB",
            s["cpu_secs"], s["peak_rss_kb"], s["rss_kb"]
        );
        if !s["cpu_us_per_delivery"].is_null() {
            line.push_str(&format!(
                ", {} us CPU per delivery",
                s["cpu_us_per_delivery"]
            ));
        }
        if !s["rss_kb_per_connection"].is_null() {
            line.push_str(&format!(
                ", {} kB per connection, {} CPU s while idle",
                s["rss_kb_per_connection"], s["idle_cpu_secs"]
            ));
        }
        if !s["stack_kb_per_waiting_thread"].is_null() {
            line.push_str(&format!(
                ", {} kB of stack per waiting thread",
                s["stack_kb_per_waiting_thread"]
            ));
        }
        lines.push(line);
    }
    lines.join("\n")
}
