//! Load mode's accounting, one for every protocol: what each client saw, and the report.
//!
//! Each client's connection thread records its own deliveries in its own [`Record`], so
//! recording needs no shared lock; the main thread only reads counters.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Value};

use crate::args::Protocol;
use crate::load::{nick, parse_payload, Load};
use crate::now_nanos;
use crate::stats::{self, Deliveries};

/// What one client saw.
pub struct Record {
    deliveries: Deliveries,
    latencies: Vec<u64>,
    last_delivery: u64,
    welcomed: bool,
    pub closed: Option<String>,
    pub errors: Vec<String>,
}

/// Something that happened on client `i`'s connection, whatever the protocol.
pub enum Seen<'a> {
    InRoom,
    Message(&'a str),
    Refused(String),
    Closed(String),
}

pub struct Records {
    pub protocol: Protocol,
    records: Vec<Mutex<Record>>,
    pub welcomed: AtomicUsize,
    pub closed: AtomicUsize,
    pub received: AtomicU64,
    pub send_failures: AtomicU64,
}

impl Records {
    pub fn new(load: &Load) -> Records {
        let n = load.clients;
        Records {
            protocol: load.protocol,
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
        }
    }

    pub fn clients(&self) -> usize {
        self.records.len()
    }

    pub fn record(&self, i: usize) -> MutexGuard<'_, Record> {
        self.records[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Deliveries a complete run has: IRC does not send a message back to its sender.
    pub fn expected(&self, messages: usize) -> u64 {
        let n = self.clients() as u64;
        let receivers = if self.protocol.echoes() {
            n
        } else {
            n.saturating_sub(1)
        };
        n * receivers * messages as u64
    }

    /// Records what client `i` saw; called on its connection thread.
    pub fn note(&self, i: usize, seen: Seen) {
        match seen {
            Seen::Message(text) => {
                let now = now_nanos();
                let mut record = self.record(i);
                match parse_payload(text) {
                    // A message back to its own sender is one too many where none is due.
                    Some((sender, _, _)) if sender == i && !self.protocol.echoes() => {
                        record.deliveries.record(usize::MAX, 0)
                    }
                    Some((sender, number, sent)) => {
                        record.deliveries.record(sender, number);
                        record.latencies.push(now.saturating_sub(sent));
                        record.last_delivery = now;
                    }
                    None => record.deliveries.record(usize::MAX, 0),
                }
                drop(record);
                self.received.fetch_add(1, Ordering::Relaxed);
            }
            Seen::InRoom => {
                self.record(i).welcomed = true;
                self.welcomed.fetch_add(1, Ordering::Relaxed);
            }
            Seen::Refused(message) => {
                let mut record = self.record(i);
                if record.errors.len() < 5 {
                    record.errors.push(format!("{}: {message}", nick(i)));
                }
            }
            Seen::Closed(reason) => {
                self.record(i).closed = Some(reason);
                self.closed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// How the run went, beside the records.
pub struct Outcome {
    pub expected: u64,
    pub send_start: u64,
    pub login_secs: f64,
    pub timed_out: bool,
    pub before: Option<crate::procfs::Usage>,
    pub after: Option<crate::procfs::Usage>,
}

pub fn report(load: &Load, shared: &Records, run: &Outcome) -> Value {
    let expected = run.expected;
    let (mut received, mut distinct, mut duplicates, mut reordered, mut strays) = (0, 0, 0, 0, 0);
    let mut latencies = Vec::with_capacity(expected as usize);
    let mut last = run.send_start;
    let mut errors = Vec::new();
    let mut disconnected = 0;
    for i in 0..shared.clients() {
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
    let secs = (last.saturating_sub(run.send_start)) as f64 / 1e9;
    let rate = if secs > 0.0 {
        received as f64 / secs
    } else {
        0.0
    };
    let send_failures = shared.send_failures.load(Ordering::Relaxed);
    let lost = expected.saturating_sub(distinct);
    let ok = !run.timed_out
        && lost == 0
        && duplicates == 0
        && reordered == 0
        && strays == 0
        && send_failures == 0
        && errors.is_empty();
    let mut out = json!({
        "mode": "load",
        "protocol": load.protocol.name(),
        "clients": load.clients,
        "messages": load.messages,
        "rate": load.rate,
        "size": load.size,
        "connect_rate": load.connect_rate,
        "ok": ok,
        "timed_out": run.timed_out,
        "login_secs": round(run.login_secs, 3),
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
    if let (Some(b), Some(a)) = (run.before, run.after) {
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
    use crate::load::payload;

    fn load(protocol: Protocol, clients: usize, messages: usize) -> Load {
        Load {
            protocol,
            clients,
            messages,
            rate: 0.0,
            size: 100,
            batch: 10,
            connect_rate: None,
        }
    }

    #[test]
    fn irc_expects_no_echo_and_counts_one_as_unexpected() {
        let irc = Records::new(&load(Protocol::Irc, 3, 2));
        assert_eq!(irc.expected(2), 3 * 2 * 2);
        assert_eq!(
            Records::new(&load(Protocol::Tlschat, 3, 2)).expected(2),
            3 * 3 * 2
        );
        assert_eq!(Records::new(&load(Protocol::Irc, 1, 5)).expected(5), 0);
        // Client 0 receives everything from 1 and 2, then its own message 0.
        for sender in 1..3 {
            for number in 0..2 {
                irc.note(0, Seen::Message(&payload(sender, number, now_nanos(), 100)));
            }
        }
        irc.note(0, Seen::Message(&payload(0, 0, now_nanos(), 100)));
        let r = irc.record(0);
        assert_eq!(r.deliveries.distinct(), 4);
        assert_eq!(r.deliveries.out_of_range, 1, "its own message");
        assert_eq!(r.latencies.len(), 4);
    }
}
