//! Load mode: N clients in one room, each sending M numbered, timestamped messages.
//!
//! tlschat clients run on `tlschat::runtime::spawn`, the connection code of the GUI; IRC
//! clients on [`crate::pipe_client`], built the same way (a connection thread and a reader
//! thread per client, sends queued from any thread). Both report what they see to one
//! accounting, [`crate::record`].

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tlschat::runtime::{self, ClientConfig, ClientHandle, NetEvent};
use tlschat::wire::{ClientMsg, ServerMsg};

use crate::args::Protocol;
use crate::pipe_client;
use crate::record::{self, Outcome, Records, Seen};
use crate::{now_nanos, Progress, Target};

/// The workload.
pub struct Load {
    pub protocol: Protocol,
    pub clients: usize,
    pub messages: usize,
    pub rate: f64,
    pub size: usize,
    pub batch: usize,
    /// Connections opened per second instead of batches.
    pub connect_rate: Option<f64>,
}

/// A client's connection, whatever it speaks.
#[derive(Clone)]
enum Client {
    Tlschat(ClientHandle),
    Light(pipe_client::Handle),
}

impl Client {
    /// Queues a chat message; false if it could not be queued.
    fn send(&self, protocol: Protocol, text: String) -> bool {
        match self {
            Client::Tlschat(handle) => handle
                .send(&ClientMsg::Broadcast {
                    message: text,
                    action: false,
                })
                .is_ok(),
            Client::Light(handle) => handle.send(protocol.chat(&text)),
        }
    }

    fn quit(&self) {
        match self {
            Client::Tlschat(handle) => handle.quit(),
            Client::Light(handle) => handle.quit(),
        }
    }
}

/// Runs the workload against `target` until done or `deadline`; returns the JSON report.
pub fn run(load: &Load, target: &Target, deadline: Instant) -> Result<Value, String> {
    let n = load.clients;
    let shared = Arc::new(Records::new(load));
    let mut progress = Progress::new();
    let login_start = Instant::now();
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        if let Some(rate) = load.connect_rate {
            let at = login_start + Duration::from_secs_f64(i as f64 / rate);
            thread::sleep(at.saturating_duration_since(Instant::now()));
        }
        clients.push(connect(i, load.protocol, target, &shared));
        let batch_done = load.connect_rate.is_none() && clients.len() % load.batch == 0;
        if batch_done || clients.len() == n {
            wait_for_logins(&shared, clients.len(), deadline, &mut progress)?;
        }
    }
    let login_secs = login_start.elapsed().as_secs_f64();

    let before = target.usage();
    let expected = shared.expected(load.messages);
    let send_start = now_nanos();
    let senders: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, client)| start_sender(i, client.clone(), load, &shared))
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
    for client in &clients {
        client.quit();
    }
    let quit_deadline = Instant::now() + Duration::from_secs(3);
    while shared.closed.load(Ordering::Relaxed) < n && Instant::now() < quit_deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let outcome = Outcome {
        expected,
        send_start,
        login_secs,
        timed_out,
        before,
        after,
    };
    Ok(record::report(load, &shared, &outcome))
}

fn connect(i: usize, protocol: Protocol, target: &Target, shared: &Arc<Records>) -> Client {
    let shared = Arc::clone(shared);
    match protocol {
        Protocol::Tlschat => {
            let ca = tlschat::runtime::connect::BUNDLED_CA;
            let mut config = ClientConfig::new(&target.addr, ca, &nick(i), None);
            config.send_budget = 64 * 1024 * 1024;
            Client::Tlschat(runtime::spawn(config, move |event| {
                on_event(&shared, i, event)
            }))
        }
        Protocol::Irc => Client::Light(pipe_client::spawn(
            &target.addr,
            protocol,
            &nick(i),
            move |seen| shared.note(i, seen),
        )),
    }
}

pub fn nick(i: usize) -> String {
    format!("b{i}")
}

fn on_event(shared: &Records, i: usize, event: NetEvent) {
    match event {
        NetEvent::Server(ServerMsg::Message(m)) => shared.note(i, Seen::Message(&m.message)),
        NetEvent::Server(ServerMsg::Welcome(_)) => shared.note(i, Seen::InRoom),
        NetEvent::Server(ServerMsg::Error { code, message, .. }) => {
            shared.note(i, Seen::Refused(format!("{code:?}: {message}")))
        }
        NetEvent::Closed { reason, .. } => shared.note(i, Seen::Closed(reason)),
        _ => {}
    }
}

fn wait_for_logins(
    shared: &Records,
    count: usize,
    deadline: Instant,
    progress: &mut Progress,
) -> Result<(), String> {
    loop {
        let welcomed = shared.welcomed.load(Ordering::Relaxed);
        progress.show(&format!("logged in {welcomed}/{}", shared.clients()));
        if welcomed >= count {
            return Ok(());
        }
        if shared.closed.load(Ordering::Relaxed) > 0 {
            let why = (0..shared.clients())
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
    client: Client,
    load: &Load,
    shared: &Arc<Records>,
) -> Result<thread::JoinHandle<()>, String> {
    let (messages, rate, size, clients) = (load.messages, load.rate, load.size, load.clients);
    let protocol = load.protocol;
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
                let text = payload(i, number, now_nanos(), size);
                if !client.send(protocol, text) {
                    shared.send_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .map_err(|e| format!("cannot start a sender thread: {e}"))
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
