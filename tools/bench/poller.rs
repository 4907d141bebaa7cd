//! Connections mode's connectors and pollers: many idle connections on a few threads.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use native_tls::{TlsConnector, TlsStream};
use tlschat::runtime::pipe::Transport;
// Our own keep-alive after this long without writing, as every client sends it.
use tlschat::runtime::KEEPALIVE;
use tlschat::wire::framing::LineBuffer;

use crate::idle::IdleRun;
use crate::now_nanos;
use crate::proto::{Event, ProtocolState};

/// Welcome lines list everyone online, so they outgrow the protocol's line limit in a big
/// room; this tool only needs to find the line ends.
const BIG_LINE: usize = 64 << 20;

pub struct Conn {
    id: usize,
    tls: TlsStream<Transport>,
    protocol: ProtocolState,
    lines: LineBuffer,
    last_write: Instant,
}

/// A connector: takes the next client number, connects, logs in, hands the socket over.
pub fn connect_all(addr: &str, pollers: &[Sender<Conn>], shared: &IdleRun, deadline: Instant) {
    // One connector for all: building one costs more CPU than a handshake.
    let connector =
        match tlschat::runtime::connect::connector(tlschat::runtime::connect::BUNDLED_CA) {
            Ok(c) => c,
            Err(e) => {
                let id = shared.next.fetch_add(1, Ordering::Relaxed);
                return shared.fail(id, e.to_string());
            }
        };
    loop {
        let id = shared.next.fetch_add(1, Ordering::Relaxed);
        if id >= shared.count {
            return;
        }
        while id >= shared.allowed.load(Ordering::Relaxed) {
            if shared.stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                return;
            }
            thread::sleep(Duration::from_millis(2));
        }
        if let Some((start, rate)) = shared.schedule {
            let at = start + Duration::from_secs_f64(id as f64 / rate);
            thread::sleep(at.saturating_duration_since(Instant::now()));
            let lag = Instant::now().saturating_duration_since(at).as_micros() as u64;
            shared.max_lag_us.fetch_max(lag, Ordering::Relaxed);
        }
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        let started = Instant::now();
        match open(id, &connector, addr, shared, deadline) {
            Ok(conn) => {
                let took = started.elapsed().as_nanos() as u64;
                let mut times = shared
                    .connect_times
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                times.push(took);
                drop(times);
                if pollers[id % pollers.len()].send(conn).is_err() {
                    return;
                }
            }
            Err(why) => shared.fail(id, why),
        }
    }
}

fn open(
    id: usize,
    connector: &TlsConnector,
    addr: &str,
    shared: &IdleRun,
    deadline: Instant,
) -> Result<Conn, String> {
    // The transport's handshake deadline also bounds later reads: make it the run's end.
    let left = deadline.saturating_duration_since(Instant::now());
    let connected = tlschat::runtime::connect::connect_with(connector, addr, left)
        .map_err(|e| e.to_string())?;
    let mut tls = connected.tls;
    tls.write_all(&shared.protocol.login(&format!("i{id}")))
        .map_err(|e| format!("sending login: {e}"))?;
    tls.get_ref()
        .socket()
        .set_nonblocking(true)
        .map_err(|e| format!("non-blocking: {e}"))?;
    Ok(Conn {
        id,
        tls,
        protocol: ProtocolState::new(shared.protocol),
        lines: LineBuffer::new(BIG_LINE),
        last_write: Instant::now(),
    })
}

/// A poller: owns its connections and reads whatever arrives on them.
pub fn poll(inbox: &Receiver<Conn>, shared: &IdleRun) -> io::Result<()> {
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
                let line = shared.protocol.chat(&probe_text(wanted, now_nanos()));
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
            let ping = shared.protocol.ping();
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
fn service(conns: &mut HashMap<u64, Conn>, id: u64, chunk: &mut [u8], shared: &IdleRun) {
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

fn handle_lines(conn: &mut Conn, shared: &IdleRun) -> Result<(), String> {
    let mut replies = Vec::new();
    loop {
        let line = match conn.lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(_) => return Err("a line longer than 64 MiB".into()),
        };
        match conn.protocol.handle(line, &mut replies) {
            Some(Event::InRoom) => {
                shared.welcomed.fetch_add(1, Ordering::Relaxed);
            }
            Some(Event::Message(text)) => {
                let now = now_nanos();
                if let Some(sent) = parse_probe(&text) {
                    let mut lat = shared
                        .probe_latencies
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    lat.push(now.saturating_sub(sent));
                    shared.probe_deliveries.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(Event::Refused(message)) => return Err(message),
            Some(Event::Closing(reason)) => return Err(format!("closed by the server: {reason}")),
            Some(Event::Garbled) | None => {}
        }
    }
    if !replies.is_empty() {
        write_all(conn, &replies).map_err(|e| format!("replying: {e}"))?;
    }
    Ok(())
}

/// The probe's text: `p NUMBER SEND_NANOS`.
fn probe_text(number: usize, sent: u64) -> String {
    format!("p {number} {sent}")
}

/// The send time of a probe, `None` for anything else.
fn parse_probe(text: &str) -> Option<u64> {
    let mut words = text.split(' ');
    if words.next()? != "p" {
        return None;
    }
    words.nth(1)?.parse().ok()
}

/// Writes a few small lines on a non-blocking socket; they fit the empty send buffer of
/// an idle connection, so waiting is rare and short.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_round_trip() {
        assert_eq!(parse_probe(&probe_text(3, 123_456)), Some(123_456));
        assert_eq!(parse_probe("b 1 2 3"), None);
        assert_eq!(parse_probe("p 1"), None);
        assert_eq!(parse_probe("p 1 x"), None);
    }
}
