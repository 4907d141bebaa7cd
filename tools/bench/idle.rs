//! Connections mode: C idle clients, then one broadcast timed to each of them.
//!
//! `tlschat::runtime::spawn` costs two threads per connection; with the server's own
//! threads, 10,000 clients would need more threads than the machine's pid_max allows. So
//! here a few connector threads make the verified TLS connections with
//! `tlschat::runtime::connect::connect_with` (the same code and checks as every client) and hand each
//! socket, switched to non-blocking, to one of a few poller threads that wait on epoll
//! ([`crate::poller`]):
//!
//! ```text
//!   connector threads ──handshake, login──▶ channel ──▶ poller threads (epoll, TLS reads,
//!                                                        pong, latency of probe messages)
//! ```
//!
//! The ramp either lets a batch of B clients log in at a time, or offers a fixed rate of
//! new connections (`--connect-rate`) whether or not the earlier ones are in yet.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::args::Protocol;
use crate::poller::{connect_all, poll};
use crate::record::round;
use crate::{stats, Progress, Target};

/// Connectors for the batched ramp (as in the earlier figures).
const CONNECTORS: usize = 4;
/// With an offered rate, enough connectors that handshakes taking up to this long (a busy
/// machine) do not hold the rate back.
const SLOWEST_HANDSHAKE_SECS: f64 = 0.25;
const MAX_CONNECTORS: usize = 64;
const POLLERS: usize = 2;

/// The workload.
pub struct Idle {
    pub protocol: Protocol,
    pub connections: usize,
    pub probes: usize,
    pub batch: usize,
    pub connect_rate: Option<f64>,
}

pub struct IdleRun {
    pub protocol: Protocol,
    pub count: usize,
    /// When connection `i` may start with an offered rate: `start + i / rate`.
    pub schedule: Option<(Instant, f64)>,
    /// How late a connection started against its schedule, at most, in microseconds.
    pub max_lag_us: AtomicU64,
    /// How long each TLS handshake and login took on the bench's side, in nanoseconds.
    pub connect_times: Mutex<Vec<u64>>,
    /// Connections the connectors may open so far (the batched ramp).
    pub allowed: AtomicUsize,
    pub next: AtomicUsize,
    pub welcomed: AtomicUsize,
    pub failed: AtomicUsize,
    failures: Mutex<Vec<String>>,
    pub bytes: AtomicU64,
    /// Probes the main thread asked connection 0 to send.
    pub probes_wanted: AtomicUsize,
    pub probe_latencies: Mutex<Vec<u64>>,
    pub probe_deliveries: AtomicUsize,
    pub stop: AtomicBool,
}

impl IdleRun {
    pub fn fail(&self, id: usize, why: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() < 10 {
            failures.push(format!("client {id}: {why}"));
        }
    }
}

pub fn run(idle: &Idle, target: &Target, deadline: Instant) -> Result<Value, String> {
    let (count, probes, batch) = (idle.connections, idle.probes, idle.batch);
    let before = target.usage();
    let ramp_start = Instant::now();
    let shared = Arc::new(IdleRun {
        protocol: idle.protocol,
        count,
        schedule: idle.connect_rate.map(|rate| (ramp_start, rate)),
        max_lag_us: AtomicU64::new(0),
        connect_times: Mutex::new(Vec::with_capacity(count)),
        allowed: AtomicUsize::new(if idle.connect_rate.is_some() {
            count
        } else {
            0
        }),
        next: AtomicUsize::new(0),
        welcomed: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        failures: Mutex::new(Vec::new()),
        bytes: AtomicU64::new(0),
        probes_wanted: AtomicUsize::new(0),
        probe_latencies: Mutex::new(Vec::new()),
        probe_deliveries: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let mut pollers = Vec::new();
    let mut inboxes = Vec::new();
    for p in 0..POLLERS {
        let (tx, rx) = mpsc::channel();
        inboxes.push(tx);
        let shared = Arc::clone(&shared);
        pollers.push(spawn_thread(&format!("poller-{p}"), move || {
            if let Err(e) = poll(&rx, &shared) {
                eprintln!("bench: poller stopped: {e}");
            }
        })?);
    }
    let connector_count = match idle.connect_rate {
        Some(rate) => {
            ((rate * SLOWEST_HANDSHAKE_SECS).ceil() as usize).clamp(CONNECTORS, MAX_CONNECTORS)
        }
        None => CONNECTORS,
    };
    let mut connectors = Vec::new();
    for c in 0..connector_count {
        let (shared, inboxes, addr) = (Arc::clone(&shared), inboxes.clone(), target.addr.clone());
        connectors.push(spawn_thread(&format!("connector-{c}"), move || {
            connect_all(&addr, &inboxes, &shared, deadline)
        })?);
    }
    let mut progress = Progress::new();
    let mut timed_out = false;
    let settled = loop {
        let (welcomed, failed) = (
            shared.welcomed.load(Ordering::Relaxed),
            shared.failed.load(Ordering::Relaxed),
        );
        progress.show(&format!("logged in {welcomed}/{count}, {failed} failed"));
        if welcomed + failed >= shared.allowed.load(Ordering::Relaxed) {
            shared
                .allowed
                .store((welcomed + failed + batch).min(count), Ordering::Relaxed);
        }
        if welcomed + failed >= count {
            break true;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            break false;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let ramp_secs = ramp_start.elapsed().as_secs_f64();
    let connected = shared.welcomed.load(Ordering::Relaxed);
    // Let the join notices of the ramp drain before measuring memory and idleness.
    if settled {
        wait_for_quiet(&shared, deadline, &mut progress);
    }
    let loaded = target.usage();
    let threads = target.pid.and_then(crate::procfs::threads);
    // The server must spend (almost) nothing on idle users: watch it for 10 s.
    let idle_window = Duration::from_secs(10);
    if settled {
        thread::sleep(idle_window.min(deadline.saturating_duration_since(Instant::now())));
    }
    let idle_usage = target.usage();
    let stack_kb = target.pid.and_then(crate::procfs::stack_kb_per_thread);
    // Connection 0 sends the probe; IRC does not send it back to it.
    let receivers = match idle.protocol.echoes() {
        true => connected,
        false => connected.saturating_sub(1),
    };
    let mut probe_timed_out = false;
    for k in 0..probes {
        if !settled || connected == 0 {
            break;
        }
        shared.probes_wanted.store(k + 1, Ordering::Relaxed);
        let want = receivers * (k + 1);
        while shared.probe_deliveries.load(Ordering::Relaxed) < want {
            progress.show(&format!(
                "probe {}: {}/{receivers} delivered",
                k + 1,
                shared.probe_deliveries.load(Ordering::Relaxed) - receivers * k
            ));
            if Instant::now() >= deadline {
                probe_timed_out = true;
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
        thread::sleep(Duration::from_millis(200));
    }
    progress.done();
    let after = target.usage();
    shared.stop.store(true, Ordering::Relaxed);
    shared.allowed.store(count, Ordering::Relaxed);
    for t in connectors.into_iter().chain(pollers) {
        let _ = t.join();
    }
    let mut latencies = shared
        .probe_latencies
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let latency = stats::summarize(&mut latencies);
    let failed = shared.failed.load(Ordering::Relaxed);
    let failures = shared
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let expected_probes = receivers * probes;
    let ok = !timed_out
        && !probe_timed_out
        && failed == 0
        && connected == count
        && latency.count == expected_probes;
    let lag_ms = shared.max_lag_us.load(Ordering::Relaxed) as f64 / 1e3;
    let mut connect_times = shared
        .connect_times
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let connect_times = stats::summarize(&mut connect_times);
    let mut out = json!({
        "mode": "connections",
        "protocol": idle.protocol.name(),
        "connections": count,
        "probes": probes,
        "batch": if idle.connect_rate.is_some() { None } else { Some(batch) },
        "connect_rate": idle.connect_rate,
        "connect_max_lag_ms": idle.connect_rate.map(|_| round(lag_ms, 1)),
        "handshake_ms": crate::latency_json(&connect_times),
        "ok": ok,
        "timed_out": timed_out || probe_timed_out,
        "connected": connected,
        "failed": failed,
        "failures": failures,
        "ramp_secs": round(ramp_secs, 3),
        "bytes_received": shared.bytes.load(Ordering::Relaxed),
        "server_threads_loaded": threads,
        "probe_receivers": receivers,
        "latency_ms": crate::latency_json(&latency),
    });
    if let (Some(b), Some(l), Some(i), Some(a)) = (before, loaded, idle_usage, after) {
        let per = if connected > 0 {
            (l.rss_kb.saturating_sub(b.rss_kb)) as f64 / connected as f64
        } else {
            0.0
        };
        out["server"] = json!({
            "rss_kb_before": b.rss_kb,
            "rss_kb": l.rss_kb,
            "rss_kb_per_connection": round(per, 2),
            "peak_rss_kb": a.hwm_kb,
            "cpu_secs": round(a.cpu_secs - b.cpu_secs, 3),
            "ramp_cpu_secs": round(l.cpu_secs - b.cpu_secs, 3),
            "idle_cpu_secs": round(i.cpu_secs - l.cpu_secs, 3),
            "idle_window_secs": idle_window.as_secs(),
            "stack_kb_per_waiting_thread": stack_kb.map(|kb| round(kb, 1)),
        });
    }
    Ok(out)
}

pub fn spawn_thread(
    name: &str,
    body: impl FnOnce() + Send + 'static,
) -> Result<thread::JoinHandle<()>, String> {
    thread::Builder::new()
        .name(name.into())
        .stack_size(256 * 1024)
        .spawn(body)
        .map_err(|e| format!("cannot start a thread: {e}"))
}

/// Waits until no bytes have arrived for half a second.
fn wait_for_quiet(shared: &IdleRun, deadline: Instant, progress: &mut Progress) {
    let mut last = shared.bytes.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < Duration::from_millis(500) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
        let now = shared.bytes.load(Ordering::Relaxed);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
        progress.show(&format!("settling: {} MB received", now >> 20));
    }
}
