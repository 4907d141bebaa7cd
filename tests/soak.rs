//! Soak test (issue 5): many clients chat over TLS while some are cut off and come back,
//! misbehaving peers come and go, and the server is killed with SIGKILL and restarted once.
//! Afterwards, from every client's own record: no acknowledged message is lost, every room
//! message reached every client exactly once and in order, and the server's memory stayed
//! bounded.
//!
//! It chats for 20 s by default; `TLSCHAT_SOAK_SECS=600` soaks for ten minutes, and
//! `TLSCHAT_SOAK_SEED` replays a particular choice of victims and delays.

mod common;
// The soak test's parts, in tests/soak/ (an inline module's files live in its folder).
mod soak {
    pub mod misfits;
    pub mod peer;
    pub mod report;
}
use soak::{misfits, peer, report};

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{Server, TempDir};
use peer::{Control, Peer, Rng};
use report::Report;
use tlschat::wire::{ChatMessage, ServerMsg};

const PEERS: usize = 12;
/// The server's queue for one client; small, so the client that stops reading is cut off.
const SEND_BUDGET: &str = "262144";
const RSS_LIMIT_KB: u64 = 200 * 1024;
/// How long each phase of the start and the ending (everyone connected, every final marker
/// received, every message on file received) may take.
const SETTLE: Duration = Duration::from_secs(30);

/// The server process under test, restartable on the same port with the same history.
struct Host {
    dir: TempDir,
    args: Vec<String>,
    port: u16,
    server: Mutex<Server>,
    pid: AtomicU32,
    /// Log lines of servers that were killed.
    old_logs: Mutex<Vec<String>>,
}

impl Host {
    fn start(args: Vec<String>) -> Host {
        let dir = TempDir::new("soak");
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = Server::start_at("127.0.0.1:0", &argv, Some(dir.path()));
        Host {
            port: server.port,
            pid: AtomicU32::new(server.pid()),
            server: Mutex::new(server),
            dir,
            args,
            old_logs: Mutex::new(Vec::new()),
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// SIGKILL, a pause with the port closed, then a new server on the same port and data.
    fn kill_and_restart(&self, down_for: Duration) {
        let mut server = self.server.lock().unwrap();
        server.kill();
        self.old_logs.lock().unwrap().extend(server.log());
        thread::sleep(down_for);
        let argv: Vec<&str> = self.args.iter().map(String::as_str).collect();
        // A port just released can be briefly busy (one of our clients may even have been
        // given it as a local port): try a few times.
        for attempt in 1.. {
            let started = catch_unwind(AssertUnwindSafe(|| {
                Server::start_at(&self.addr(), &argv, Some(self.dir.path()))
            }));
            match started {
                Ok(new) => {
                    self.pid.store(new.pid(), Ordering::SeqCst);
                    *server = new;
                    return;
                }
                Err(_) if attempt < 10 => thread::sleep(Duration::from_millis(300)),
                Err(e) => std::panic::resume_unwind(e),
            }
        }
    }

    fn logs(&self) -> Vec<String> {
        let mut all = self.old_logs.lock().unwrap().clone();
        all.extend(self.server.lock().unwrap().log());
        all
    }

    /// The room messages in the history file, by `seq`. This test sends no private
    /// messages, so every line is a room message, and `seq` must grow from line to line,
    /// across the restart too.
    fn history_file(&self) -> BTreeMap<u64, ChatMessage> {
        let text = std::fs::read_to_string(self.dir.0.join("history.jsonl")).expect("history");
        let mut messages = BTreeMap::new();
        let mut last = 0;
        for line in text.lines() {
            match tlschat::wire::decode_server(line.as_bytes()) {
                Ok(ServerMsg::Message(m)) => {
                    assert!(
                        m.seq > last,
                        "seq {} after {last} in the history file",
                        m.seq
                    );
                    last = m.seq;
                    messages.insert(m.seq, m);
                }
                other => panic!("unexpected history line {line}: {other:?}"),
            }
        }
        messages
    }
}

/// Samples the server's resident memory (whichever process is current) until told to stop.
fn sample_rss(host: Arc<Host>, stop: Arc<AtomicBool>, peak_kb: Arc<AtomicU64>) {
    while !stop.load(Ordering::SeqCst) {
        let pid = host.pid.load(Ordering::SeqCst);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
        if let Some(kb) = rss {
            peak_kb.fetch_max(kb, Ordering::SeqCst);
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// What the chaos thread did.
#[derive(Debug, Default)]
struct Chaos {
    client_kills: u64,
    server_kills: u64,
    misfits: Vec<(&'static str, Result<String, String>)>,
}

/// For `secs` seconds: the misfits early on, a random peer cut off every so often, and the
/// server killed and restarted once, in the middle.
fn chaos(host: &Host, peers: &[Arc<Peer>], secs: u64, rng: &mut Rng) -> Chaos {
    let started = Instant::now();
    let port = host.port;
    let misfits: Vec<(&str, thread::JoinHandle<Result<String, String>>)> = vec![
        (
            "stalled handshake",
            thread::spawn(move || misfits::stalled_handshake(port)),
        ),
        (
            "client that stops reading",
            thread::spawn(move || misfits::sleeper(port)),
        ),
        ("flooder", thread::spawn(move || misfits::flooder(port))),
    ];
    let mut done = Chaos::default();
    let kill_at = Duration::from_secs(secs) / 2;
    // The misfits must be done with before the kill, or the kill would end them instead.
    let mut misfits = Some(misfits);
    while started.elapsed() < Duration::from_secs(secs) {
        thread::sleep(rng.millis(800, 2000));
        if done.server_kills == 0 && started.elapsed() >= kill_at {
            for (name, handle) in misfits.take().unwrap_or_default() {
                let outcome = handle.join().unwrap_or_else(|_| Err("panicked".into()));
                done.misfits.push((name, outcome));
            }
            // In the middle of a busy room: everyone has a few messages on the way.
            for p in peers {
                for k in 0..5 {
                    p.say(&format!("{}-burst-{k}", p.nick));
                }
            }
            thread::sleep(rng.millis(0, 10));
            host.kill_and_restart(rng.millis(200, 1000));
            done.server_kills += 1;
        } else if peers[rng.below(PEERS as u64) as usize].abort() {
            done.client_kills += 1;
        }
    }
    done
}

/// Waits until `done` holds for every peer's record, or panics with the server's log.
fn wait_all(peers: &[Arc<Peer>], what: &str, host: &Host, done: impl Fn(&peer::Record) -> bool) {
    let deadline = Instant::now() + SETTLE;
    for p in peers {
        if !p.wait_until(deadline, &done) {
            panic!(
                "{} never got to: {what}; server log: {:#?}",
                p.nick,
                host.logs()
            );
        }
    }
}

#[test]
fn a_busy_room_survives_drops_misfits_and_kill_9() {
    let secs: u64 = std::env::var("TLSCHAT_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("TLSCHAT_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| (tlschat::runtime::random_unit() * 1e15) as u64);
    println!("soak: {secs} s, seed {seed} (TLSCHAT_SOAK_SEED={seed} to repeat)");
    let mut rng = Rng(seed | 1);
    // Keep every message of the run, so the history file can be checked in full.
    let keep = (secs * 400).max(10_000).to_string();
    let args = [
        "--rate",
        "250",
        "--burst",
        "250",
        "--send-budget",
        SEND_BUDGET,
        "--handshake-timeout",
        "2",
        "--history-keep",
        &keep,
        // Every peer, and every reconnect, comes from 127.0.0.1.
        "--no-address-limits",
    ];
    let host = Arc::new(Host::start(args.iter().map(|a| a.to_string()).collect()));
    let (stop_sampler, peak_kb) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let sampler = {
        let (host, stop, peak) = (
            Arc::clone(&host),
            Arc::clone(&stop_sampler),
            Arc::clone(&peak_kb),
        );
        thread::spawn(move || sample_rss(host, stop, peak))
    };

    let ctl = Arc::new(Control::default());
    let peers: Vec<Arc<Peer>> = (0..PEERS)
        .map(|i| Peer::new(format!("c{i}"), host.addr()))
        .collect();
    let drivers: Vec<_> = peers
        .iter()
        .map(|p| {
            let (p, ctl, seed) = (Arc::clone(p), Arc::clone(&ctl), rng.next());
            thread::spawn(move || p.drive(ctl, seed))
        })
        .collect();
    // Everyone is in the room before the first message, so everyone must get every message.
    wait_all(&peers, "the first welcome", &host, |r| r.live);
    ctl.chatting.store(true, Ordering::SeqCst);
    let chaos = chaos(&host, &peers, secs, &mut rng);
    ctl.chatting.store(false, Ordering::SeqCst);

    // The ending: everyone back, then a marker from each, then everyone has every marker
    // and everything in the history file.
    wait_all(&peers, "a live connection after the chaos", &host, |r| {
        r.live
    });
    for p in &peers {
        let deadline = Instant::now() + SETTLE;
        while !p.say(&format!("{}-done", p.nick)) {
            assert!(
                Instant::now() < deadline,
                "{} could not send its marker",
                p.nick
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
    let markers = |r: &peer::Record| {
        r.received
            .iter()
            .filter(|m| m.message.ends_with("-done"))
            .count()
            >= PEERS
    };
    wait_all(&peers, "every final marker", &host, markers);
    let last_seq = *host.history_file().keys().next_back().expect("messages");
    wait_all(&peers, "the last message on file", &host, |r| {
        r.received.last().is_some_and(|m| m.seq >= last_seq)
    });
    ctl.stop.store(true, Ordering::SeqCst);
    for d in drivers {
        d.join().expect("driver");
    }
    for p in &peers {
        p.quit();
    }
    stop_sampler.store(true, Ordering::SeqCst);
    sampler.join().unwrap();

    let history = host.history_file();
    let mut report = Report::default();
    for p in &peers {
        report.check(p, &history);
    }
    let peak_mb = peak_kb.load(Ordering::SeqCst) / 1024;
    println!(
        "soak: {PEERS} clients, {} messages ({} acknowledged, {} unacknowledged), {} client kills, {} server kill, \
         {} replays ({} messages replayed), lost {}, duplicates {}, out of order {}, \
         peak server RSS {peak_mb} MB",
        history.len(),
        report.acknowledged,
        report.unacknowledged,
        chaos.client_kills,
        chaos.server_kills,
        report.replays,
        report.replayed,
        report.lost.len(),
        report.duplicates.len(),
        report.disorder.len(),
    );
    let burst = history.values().filter(|m| m.message.contains("-burst-"));
    println!(
        "soak: of {} messages sent just before the kill, {} made it to the file",
        PEERS * 5,
        burst.count()
    );
    for (name, outcome) in &chaos.misfits {
        println!("soak: {name}: {outcome:?}");
    }

    let logs = host.logs();
    let log_tail = || logs[logs.len().saturating_sub(60)..].join("\n");
    assert_eq!(chaos.server_kills, 1, "the server was not killed");
    assert!(chaos.client_kills > 0, "no client was cut off");
    for (name, outcome) in &chaos.misfits {
        assert!(outcome.is_ok(), "{name}: {outcome:?}\n{}", log_tail());
    }
    let too_slow = ("sleeper".to_string(), "too slow".to_string());
    let sleeper_left = peers.iter().any(|p| p.lock().leaves.contains(&too_slow));
    assert!(
        sleeper_left,
        "the room was not told the sleeper was too slow"
    );
    assert!(
        report.problems().is_empty(),
        "{:#?}\n{}",
        report.problems(),
        log_tail()
    );
    assert!(
        peak_mb * 1024 < RSS_LIMIT_KB,
        "server RSS peaked at {peak_mb} MB"
    );
}
