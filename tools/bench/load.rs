//! Load mode: N clients in one room, each sending M numbered, timestamped messages.
//!
//! Every client runs on `tlschat::client::spawn`, the connection code of the GUI. Its event
//! callback (on the connection thread) records each delivery in that client's own
//! [`Record`], so recording needs no shared lock; the main thread only reads counters.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tlschat::client::{self, ClientConfig, ClientHandle, NetEvent};
use tlschat::{ClientMsg, ServerMsg};

use crate::stats::{self, Deliveries};
use crate::{now_nanos, Progress, Target};

/// What one client saw.
struct Record {
    deliveries: Deliveries,
    latencies: Vec<u64>,
    last_delivery: u64,
    welcomed: bool,
    closed: Option<String>,
    errors: Vec<String>,
}

struct Shared {
    records: Vec<Mutex<Record>>,
    welcomed: AtomicUsize,
    closed: AtomicUsize,
    received: AtomicU64,
    send_failures: AtomicU64,
}

impl Shared {
    fn record(&self, i: usize) -> MutexGuard<'_, Record> {
        self.records[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The workload.
pub struct Load {
    pub clients: usize,
    pub messages: usize,
    pub rate: f64,
    pub size: usize,
    pub batch: usize,
}

/// Runs the workload against `target` until done or `deadline`; returns the JSON report.
pub fn run(load: &Load, target: &Target, deadline: Instant) -> Result<Value, String> {
    let n = load.clients;
    let shared = Arc::new(Shared {
        records: (0..n)
            .map(|_| {
                Mutex::new(Record {
                    deliveries: Deliveries::new(n, load.messages),
                    latencies: Vec::with_capacity(n * load.messages),
                    last_delivery: 0,
                    welcomed: false,
                    closed: None,
                    errors: Vec::new(),
                })
            })
            .collect(),
        welcomed: AtomicUsize::new(0),
        closed: AtomicUsize::new(0),
        received: AtomicU64::new(0),
        send_failures: AtomicU64::new(0),
    });
    let mut progress = Progress::new();
    let login_start = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        handles.push(connect(i, target, &shared));
        if handles.len() % load.batch == 0 || handles.len() == n {
            wait_for_logins(&shared, handles.len(), deadline, &mut progress)?;
        }
    }
    let login_secs = login_start.elapsed().as_secs_f64();

    let before = target.usage();
    let expected = (n * n * load.messages) as u64;
    let send_start = now_nanos();
    let senders: Vec<_> = handles
        .iter()
        .enumerate()
        .map(|(i, handle)| start_sender(i, handle.clone(), load, &shared))
        .collect::<Result<_, _>>()?;
    let mut timed_out = false;
    loop {
        let received = shared.received.load(Ordering::Relaxed);
        let closed = shared.closed.load(Ordering::Relaxed);
        progress.show(&format!(
            "deliveries {received}/{expected}, {closed} disconnected"
        ));
        if received >= expected || closed == n {
            break;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    // A short grace so that duplicates arriving after the last expected delivery count too.
    thread::sleep(Duration::from_millis(200));
    let after = target.usage();
    progress.done();
    for sender in senders {
        let _ = sender.join();
    }
    for handle in &handles {
        handle.quit();
    }
    let quit_deadline = Instant::now() + Duration::from_secs(3);
    while shared.closed.load(Ordering::Relaxed) < n && Instant::now() < quit_deadline {
        thread::sleep(Duration::from_millis(10));
    }
    Ok(report(
        load, &shared, expected, send_start, login_secs, timed_out, before, after,
    ))
}

fn connect(i: usize, target: &Target, shared: &Arc<Shared>) -> ClientHandle {
    let mut config = ClientConfig::new(&target.addr, tlschat::connect::BUNDLED_CA, &nick(i), None);
    config.send_budget = 64 * 1024 * 1024;
    let shared = Arc::clone(shared);
    client::spawn(config, move |event| on_event(&shared, i, event))
}

fn nick(i: usize) -> String {
    format!("b{i}")
}

fn on_event(shared: &Shared, i: usize, event: NetEvent) {
    match event {
        NetEvent::Server(ServerMsg::Message(m)) => {
            let now = now_nanos();
            let mut record = shared.record(i);
            match parse_payload(&m.message) {
                Some((sender, number, sent)) => {
                    record.deliveries.record(sender, number);
                    record.latencies.push(now.saturating_sub(sent));
                    record.last_delivery = now;
                }
                None => record.deliveries.record(usize::MAX, 0),
            }
            drop(record);
            shared.received.fetch_add(1, Ordering::Relaxed);
        }
        NetEvent::Server(ServerMsg::Welcome(_)) => {
            shared.record(i).welcomed = true;
            shared.welcomed.fetch_add(1, Ordering::Relaxed);
        }
        NetEvent::Server(ServerMsg::Error { code, message, .. }) => {
            let mut record = shared.record(i);
            if record.errors.len() < 5 {
                record
                    .errors
                    .push(format!("{}: {code:?}: {message}", nick(i)));
            }
        }
        NetEvent::Closed { reason, .. } => {
            shared.record(i).closed = Some(reason);
            shared.closed.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
}

fn wait_for_logins(
    shared: &Shared,
    count: usize,
    deadline: Instant,
    progress: &mut Progress,
) -> Result<(), String> {
    loop {
        let welcomed = shared.welcomed.load(Ordering::Relaxed);
        progress.show(&format!("logged in {welcomed}/{}", shared.records.len()));
        if welcomed >= count {
            return Ok(());
        }
        if shared.closed.load(Ordering::Relaxed) > 0 {
            let why = (0..shared.records.len())
                .find_map(|i| {
                    let r = shared.record(i);
                    r.closed
                        .clone()
                        .map(|c| format!("{}: {c} {:?}", nick(i), r.errors))
                })
                .unwrap_or_default();
            return Err(format!("a client could not log in: {why}"));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "timed out with {welcomed}/{count} clients logged in"
            ));
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The message text: `b SENDER NUMBER SEND_NANOS ` and padding up to `size` bytes.
pub fn payload(sender: usize, number: usize, sent: u64, size: usize) -> String {
    let mut text = format!("b {sender} {number} {sent} ");
    let pad = size.saturating_sub(text.len());
    text.extend(std::iter::repeat_n('x', pad));
    text
}

/// Reads back what [`payload`] wrote.
pub fn parse_payload(text: &str) -> Option<(usize, usize, u64)> {
    let mut words = text.split(' ');
    if words.next()? != "b" {
        return None;
    }
    let sender = words.next()?.parse().ok()?;
    let number = words.next()?.parse().ok()?;
    let sent = words.next()?.parse().ok()?;
    Some((sender, number, sent))
}

fn start_sender(
    i: usize,
    handle: ClientHandle,
    load: &Load,
    shared: &Arc<Shared>,
) -> Result<thread::JoinHandle<()>, String> {
    let (messages, rate, size, clients) = (load.messages, load.rate, load.size, load.clients);
    let shared = Arc::clone(shared);
    thread::Builder::new()
        .name(format!("sender-{i}"))
        .stack_size(64 * 1024)
        .spawn(move || {
            let start = Instant::now();
            // Clients start at evenly spread phases, as independent people would.
            let interval = (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
            let phase = interval.map(|d| d.mul_f64(i as f64 / clients as f64));
            for number in 0..messages {
                if let (Some(interval), Some(phase)) = (interval, phase) {
                    let at = start + phase + interval * number as u32;
                    thread::sleep(at.saturating_duration_since(Instant::now()));
                }
                let message = payload(i, number, now_nanos(), size);
                let msg = ClientMsg::Broadcast {
                    message,
                    action: false,
                };
                if handle.send(&msg).is_err() {
                    shared.send_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .map_err(|e| format!("cannot start a sender thread: {e}"))
}

#[allow(clippy::too_many_arguments)]
fn report(
    load: &Load,
    shared: &Shared,
    expected: u64,
    send_start: u64,
    login_secs: f64,
    timed_out: bool,
    before: Option<crate::procfs::Usage>,
    after: Option<crate::procfs::Usage>,
) -> Value {
    let (mut received, mut distinct, mut duplicates, mut reordered, mut strays) = (0, 0, 0, 0, 0);
    let mut latencies = Vec::with_capacity(expected as usize);
    let mut last = send_start;
    let mut errors = Vec::new();
    let mut disconnected = 0;
    for i in 0..shared.records.len() {
        let r = shared.record(i);
        received += r.deliveries.received;
        distinct += r.deliveries.distinct();
        duplicates += r.deliveries.duplicates;
        reordered += r.deliveries.reordered;
        strays += r.deliveries.out_of_range;
        latencies.extend_from_slice(&r.latencies);
        last = last.max(r.last_delivery);
        errors.extend(r.errors.iter().take(5 - errors.len().min(5)).cloned());
        disconnected += usize::from(r.closed.is_some() && !r.welcomed);
    }
    let latency = stats::summarize(&mut latencies);
    let secs = (last.saturating_sub(send_start)) as f64 / 1e9;
    let rate = if secs > 0.0 {
        received as f64 / secs
    } else {
        0.0
    };
    let send_failures = shared.send_failures.load(Ordering::Relaxed);
    let lost = expected.saturating_sub(distinct);
    let ok = !timed_out
        && lost == 0
        && duplicates == 0
        && reordered == 0
        && strays == 0
        && send_failures == 0
        && errors.is_empty();
    let mut out = json!({
        "mode": "load",
        "clients": load.clients,
        "messages": load.messages,
        "rate": load.rate,
        "size": load.size,
        "ok": ok,
        "timed_out": timed_out,
        "login_secs": round(login_secs, 3),
        "expected": expected,
        "received": received,
        "lost": lost,
        "duplicates": duplicates,
        "reordered": reordered,
        "unexpected": strays,
        "send_failures": send_failures,
        "errors": errors,
        "failed_logins": disconnected,
        "send_to_last_delivery_secs": round(secs, 3),
        "deliveries_per_sec": rate.round(),
        "latency_ms": crate::latency_json(&latency),
    });
    if let (Some(b), Some(a)) = (before, after) {
        let cpu = a.cpu_secs - b.cpu_secs;
        out["server"] = json!({
            "cpu_secs": round(cpu, 3),
            "cpu_us_per_delivery": if received > 0 { round(cpu * 1e6 / received as f64, 3) } else { 0.0 },
            "peak_rss_kb": a.hwm_kb,
            "rss_kb": a.rss_kb,
        });
    }
    out
}

pub fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip() {
        let text = payload(12, 345, 6_789_000_111, 100);
        assert_eq!(text.len(), 100);
        assert!(text.starts_with("b 12 345 6789000111 x"));
        assert_eq!(parse_payload(&text), Some((12, 345, 6_789_000_111)));
        assert_eq!(parse_payload("hello there"), None);
        assert_eq!(parse_payload("b 1 x 3"), None);
    }
}
