//! Connections mode: C idle clients, then one broadcast timed to each of them.
//!
//! `tlschat::client::spawn` costs two threads per connection; with the server's own two per
//! connection, 10,000 clients would need 40,000 threads on a machine whose pid_max is 32,768.
//! So here a few connector threads make the verified TLS connections with
//! `tlschat::connect::connect` (the same code and checks as every client) and hand each
//! socket, switched to non-blocking, to one of a few poller threads that wait on epoll:
//!
//! ```text
//!   connector threads ──handshake, login──▶ channel ──▶ poller threads (epoll, TLS reads,
//!                                                        pong, latency of probe messages)
//! ```

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use native_tls::TlsStream;
use serde_json::{json, Value};
use tlschat::framing::LineBuffer;
use tlschat::pipe::Transport;
use tlschat::{decode_server, encode, ClientMsg, ServerMsg};

use crate::load::round;
use crate::{now_nanos, stats, Progress, Target};

const CONNECTORS: usize = 4;
const POLLERS: usize = 2;
/// Welcome lines list everyone online, so they outgrow the protocol's line limit in a big
/// room; this tool only needs to find the line ends.
const BIG_LINE: usize = 64 << 20;
/// Send our own keep-alive after this long without writing.
const KEEPALIVE: Duration = Duration::from_secs(30);

struct Conn {
    id: usize,
    tls: TlsStream<Transport>,
    lines: LineBuffer,
    last_write: Instant,
}

#[derive(Default)]
struct Shared {
    /// Connections the connectors may open so far (the ramp).
    allowed: AtomicUsize,
    next: AtomicUsize,
    welcomed: AtomicUsize,
    failed: AtomicUsize,
    failures: Mutex<Vec<String>>,
    bytes: AtomicU64,
    /// Probes the main thread asked connection 0 to send.
    probes_wanted: AtomicUsize,
    probe_latencies: Mutex<Vec<u64>>,
    probe_deliveries: AtomicUsize,
    stop: AtomicBool,
}

impl Shared {
    fn fail(&self, id: usize, why: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() < 10 {
            failures.push(format!("client {id}: {why}"));
        }
    }
}

pub fn run(
    count: usize,
    probes: usize,
    batch: usize,
    target: &Target,
    deadline: Instant,
) -> Result<Value, String> {
    let shared = Arc::new(Shared::default());
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
    let mut connectors = Vec::new();
    for c in 0..CONNECTORS {
        let (shared, inboxes, addr) = (Arc::clone(&shared), inboxes.clone(), target.addr.clone());
        connectors.push(spawn_thread(&format!("connector-{c}"), move || {
            connect_all(count, &addr, &inboxes, &shared, deadline)
        })?);
    }
    let before = target.usage();
    let mut progress = Progress::new();
    let ramp_start = Instant::now();
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
    let idle_window = Duration::from_secs(3);
    if settled {
        thread::sleep(idle_window.min(deadline.saturating_duration_since(Instant::now())));
    }
    let idle = target.usage();
    let mut probe_timed_out = false;
    for k in 0..probes {
        if !settled || connected == 0 {
            break;
        }
        shared.probes_wanted.store(k + 1, Ordering::Relaxed);
        let want = connected * (k + 1);
        while shared.probe_deliveries.load(Ordering::Relaxed) < want {
            progress.show(&format!(
                "probe {}: {}/{connected} delivered",
                k + 1,
                shared.probe_deliveries.load(Ordering::Relaxed) - connected * k
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
    let expected_probes = connected * probes;
    let ok = !timed_out
        && !probe_timed_out
        && failed == 0
        && connected == count
        && latency.count == expected_probes;
    let mut out = json!({
        "mode": "connections",
        "connections": count,
        "probes": probes,
        "batch": batch,
        "ok": ok,
        "timed_out": timed_out || probe_timed_out,
        "connected": connected,
        "failed": failed,
        "failures": failures,
        "ramp_secs": round(ramp_secs, 3),
        "bytes_received": shared.bytes.load(Ordering::Relaxed),
        "server_threads_loaded": threads,
        "latency_ms": crate::latency_json(&latency),
    });
    if let (Some(b), Some(l), Some(i), Some(a)) = (before, loaded, idle, after) {
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
        });
    }
    Ok(out)
}

fn spawn_thread(
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
fn wait_for_quiet(shared: &Shared, deadline: Instant, progress: &mut Progress) {
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

/// A connector: takes the next client number, connects, logs in, hands the socket over.
fn connect_all(
    count: usize,
    addr: &str,
    pollers: &[Sender<Conn>],
    shared: &Shared,
    deadline: Instant,
) {
    loop {
        let id = shared.next.fetch_add(1, Ordering::Relaxed);
        if id >= count {
            return;
        }
        while id >= shared.allowed.load(Ordering::Relaxed) {
            if shared.stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                return;
            }
            thread::sleep(Duration::from_millis(2));
        }
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        match open(id, addr, deadline) {
            Ok(conn) => {
                if pollers[id % pollers.len()].send(conn).is_err() {
                    return;
                }
            }
            Err(why) => shared.fail(id, why),
        }
    }
}

fn open(id: usize, addr: &str, deadline: Instant) -> Result<Conn, String> {
    // The transport's handshake deadline also bounds later reads: make it the run's end.
    let left = deadline.saturating_duration_since(Instant::now());
    let connected = tlschat::connect::connect(addr, tlschat::connect::BUNDLED_CA, left)
        .map_err(|e| e.to_string())?;
    let mut tls = connected.tls;
    let login = encode(&ClientMsg::Login {
        nickname: format!("i{id}"),
        password: None,
    });
    tls.write_all(&login)
        .map_err(|e| format!("sending login: {e}"))?;
    tls.get_ref()
        .socket()
        .set_nonblocking(true)
        .map_err(|e| format!("non-blocking: {e}"))?;
    Ok(Conn {
        id,
        tls,
        lines: LineBuffer::new(BIG_LINE),
        last_write: Instant::now(),
    })
}

/// A poller: owns its connections and reads whatever arrives on them.
fn poll(inbox: &Receiver<Conn>, shared: &Shared) -> io::Result<()> {
    // SAFETY: plain system calls on a descriptor this function owns and closes.
    let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if epoll < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut conns: HashMap<u64, Conn> = HashMap::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    let mut chunk = vec![0u8; 64 * 1024];
    let mut probes_sent = 0;
    let mut last_keepalive = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        while let Ok(conn) = inbox.try_recv() {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: conn.id as u64,
            };
            let fd = conn.tls.get_ref().socket().as_raw_fd();
            // SAFETY: `fd` stays open while the connection is in `conns`.
            if unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
                shared.fail(conn.id, format!("epoll: {}", io::Error::last_os_error()));
                continue;
            }
            // Bytes may have arrived with the handshake; read them now.
            let id = conn.id as u64;
            conns.insert(id, conn);
            service(&mut conns, id, &mut chunk, shared);
        }
        let wanted = shared.probes_wanted.load(Ordering::Relaxed);
        if wanted > probes_sent {
            if let Some(conn) = conns.get_mut(&0) {
                let text = format!("p {} {}", wanted, now_nanos());
                let line = encode(&ClientMsg::Broadcast {
                    message: text,
                    action: false,
                });
                if let Err(e) = write_all(conn, &line) {
                    shared.fail(0, format!("sending the probe: {e}"));
                }
                probes_sent = wanted;
            }
        }
        // SAFETY: `events` has room for its length of entries.
        let n = unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), events.len() as i32, 20) };
        for ev in events.iter().take(n.max(0) as usize) {
            let id = ev.u64;
            service(&mut conns, id, &mut chunk, shared);
        }
        if last_keepalive.elapsed() > Duration::from_secs(1) {
            last_keepalive = Instant::now();
            let ping = encode(&ClientMsg::Ping);
            for conn in conns.values_mut() {
                if conn.last_write.elapsed() > KEEPALIVE {
                    let _ = write_all(conn, &ping);
                }
            }
        }
    }
    // SAFETY: closing the descriptor created above, once.
    unsafe { libc::close(epoll) };
    Ok(())
}

/// Reads and handles everything available on one connection; drops it if it closed.
fn service(conns: &mut HashMap<u64, Conn>, id: u64, chunk: &mut [u8], shared: &Shared) {
    let Some(conn) = conns.get_mut(&id) else {
        return;
    };
    let closed = loop {
        match conn.tls.read(chunk) {
            Ok(0) => break Some("the server closed the connection".to_string()),
            Ok(n) => {
                shared.bytes.fetch_add(n as u64, Ordering::Relaxed);
                conn.lines.extend(&chunk[..n]);
                if let Err(why) = handle_lines(conn, shared) {
                    break Some(why);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Some(format!("read: {e}")),
        }
    };
    if let Some(why) = closed {
        shared.fail(conn.id, why);
        conns.remove(&id);
    }
}

fn handle_lines(conn: &mut Conn, shared: &Shared) -> Result<(), String> {
    let mut pong = false;
    loop {
        let line = match conn.lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(_) => return Err("a line longer than 64 MiB".into()),
        };
        // Join notices are the bulk of the traffic: classify by prefix, decode only the few
        // lines that matter.
        if line.starts_with(br#"{"type":"join""#) {
            continue;
        }
        if line.starts_with(br#"{"type":"welcome""#) {
            shared.welcomed.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        match decode_server(line) {
            Ok(ServerMsg::Message(m)) => {
                let now = now_nanos();
                let sent = m
                    .message
                    .split(' ')
                    .nth(2)
                    .and_then(|t| t.parse::<u64>().ok());
                if let Some(sent) = sent.filter(|_| m.message.starts_with("p ")) {
                    let mut lat = shared
                        .probe_latencies
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    lat.push(now.saturating_sub(sent));
                    shared.probe_deliveries.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(ServerMsg::Ping) => pong = true,
            Ok(ServerMsg::Error { message, .. }) => return Err(message),
            Ok(ServerMsg::Bye { reason, .. }) => return Err(format!("bye: {reason}")),
            _ => {}
        }
    }
    if pong {
        write_all(conn, &encode(&ClientMsg::Pong)).map_err(|e| format!("pong: {e}"))?;
    }
    Ok(())
}

/// Writes a small line on a non-blocking socket; it fits the empty send buffer of an idle
/// connection, so waiting is rare and short.
fn write_all(conn: &mut Conn, bytes: &[u8]) -> io::Result<()> {
    let give_up = Instant::now() + Duration::from_secs(5);
    let mut left = bytes;
    while !left.is_empty() {
        match conn.tls.write(left) {
            Ok(n) => left = &left[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < give_up => {
                thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
    conn.last_write = Instant::now();
    Ok(())
}
