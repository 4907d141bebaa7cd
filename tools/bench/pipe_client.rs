//! A light client for load mode, for a protocol that is not tlschat's (IRC): the same
//! thread layout as `tlschat::runtime::spawn` (a connection thread owning the TLS stream
//! through `tlschat::runtime::pipe::Pipe`, plus its reader thread; sends queued from any thread),
//! so that each server is loaded by clients that cost the bench the same.
//!
//! Unlike tlschat's client, it writes one TLS record per line, as IRC clients commonly do.
//! ngIRCd 26 (GnuTLS) reads a coalesced record of many lines partly, and the rest waits
//! inside GnuTLS until the socket next becomes readable: runs stalled for 30 s, until a
//! keep-alive arrived. One record per line measures the server instead of that stall.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use tlschat::runtime::pipe::{Frame, Mailbox, Pipe};
use tlschat::runtime::{KEEPALIVE, QUIT_DRAIN, SILENCE_LIMIT};

use crate::args::Protocol;
use crate::proto::{Event, ProtocolState};
use crate::record::Seen;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes a sender may queue before sending fails: a lagging client is measured, not cut.
const SEND_BUDGET: usize = 64 << 20;
/// Longest line accepted from the server (IRC's are at most 512 bytes, tags aside).
const MAX_LINE: usize = 64 * 1024;

/// Sends on a connection and closes it; cheap to clone.
#[derive(Clone)]
pub struct Handle {
    link: Arc<Mutex<HandleState>>,
    protocol: Protocol,
}

#[derive(Default)]
struct HandleState {
    mailbox: Option<Arc<Mailbox>>,
    cancelled: bool,
}

impl Handle {
    /// Queues one encoded line; false if the connection is not up or is backlogged.
    pub fn send(&self, line: Vec<u8>) -> bool {
        match &self.lock().mailbox {
            Some(m) => m.push(Frame::from(line)).is_ok(),
            None => false,
        }
    }

    /// Says goodbye and closes; a connection still being made is abandoned.
    pub fn quit(&self) {
        let mut link = self.lock();
        link.cancelled = true;
        if let Some(m) = &link.mailbox {
            m.close(self.protocol.quit());
        }
    }

    fn lock(&self) -> MutexGuard<'_, HandleState> {
        self.link.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Starts a connection thread that logs in as `nick` and reports to `on_seen` (on that
/// thread) everything that happens, ending with one [`Seen::Closed`].
pub fn spawn<F>(addr: &str, protocol: Protocol, nick: &str, mut on_seen: F) -> Handle
where
    F: FnMut(Seen) + Send + 'static,
{
    let handle = Handle {
        link: Arc::default(),
        protocol,
    };
    let (addr, nick, link) = (addr.to_string(), nick.to_string(), handle.clone());
    let spawned = thread::Builder::new()
        .name("connection".into())
        .spawn(move || {
            let reason = talk(&addr, protocol, &nick, &link, &mut on_seen);
            link.lock().mailbox = None;
            on_seen(Seen::Closed(reason));
        });
    if let Err(e) = spawned {
        eprintln!("bench: cannot start a connection thread: {e}");
    }
    handle
}

/// The whole connection; returns why it ended.
fn talk<F: FnMut(Seen)>(
    addr: &str,
    protocol: Protocol,
    nick: &str,
    link: &Handle,
    on_seen: &mut F,
) -> String {
    let ca = tlschat::runtime::connect::BUNDLED_CA;
    let connected = match tlschat::runtime::connect::connect(addr, ca, CONNECT_TIMEOUT) {
        Ok(c) => c,
        Err(e) => return e.to_string(),
    };
    let mut pipe = match Pipe::start(connected.tls, SEND_BUDGET, CONNECT_TIMEOUT, MAX_LINE) {
        Ok(p) => p,
        Err(e) => return format!("cannot start the connection: {e}"),
    };
    {
        let mut l = link.lock();
        if l.cancelled {
            return "cancelled before login".into();
        }
        l.mailbox = Some(Arc::clone(pipe.mailbox()));
    }
    pipe.out.extend_from_slice(&protocol.login(nick));
    if let Err(e) = flush_lines(&mut pipe) {
        return format!("sending the login: {e}");
    }
    let mut session = ProtocolState::new(protocol);
    let mut last_heard = Instant::now();
    let mut pinged = false;
    let mut closing: Option<String> = None;
    let mut quitting: Option<Instant> = None;
    loop {
        let keepalive = last_heard + if pinged { SILENCE_LIMIT } else { KEEPALIVE };
        let deadline = quitting.map_or(keepalive, |q| q.min(keepalive));
        let wake = match pipe.wait(Some(deadline)) {
            Ok(w) => w,
            Err(e) => return closing.unwrap_or(format!("reading: {e}")),
        };
        if wake.input {
            last_heard = Instant::now();
            pinged = false;
        }
        loop {
            let line = match pipe.lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(_) => return format!("the server sent a line longer than {MAX_LINE} bytes"),
            };
            match session.handle(line, &mut pipe.out) {
                Some(Event::InRoom) => on_seen(Seen::InRoom),
                Some(Event::Message(text)) => on_seen(Seen::Message(&text)),
                Some(Event::Refused(why)) => on_seen(Seen::Refused(why)),
                Some(Event::Closing(why)) => closing = Some(why),
                // As in tlschat mode: a line this client cannot read is not a failure.
                Some(Event::Garbled) | None => {}
            }
        }
        if let Some(last_words) = wake.close_requested {
            if pipe.send_now(&last_words).is_err() {
                return "disconnected".into();
            }
            quitting = Some(Instant::now() + QUIT_DRAIN);
            continue;
        }
        if quitting.is_some() && (wake.timed_out || wake.peer_gone.is_some()) {
            return "disconnected".into();
        }
        if wake.timed_out {
            if pinged {
                return "the server stopped answering".into();
            }
            pinged = true;
            pipe.out.extend_from_slice(&protocol.ping());
        }
        if let Err(e) = flush_lines(&mut pipe) {
            return closing.unwrap_or(format!("writing: {e}"));
        }
        if let Some(why) = wake.peer_gone {
            return closing.unwrap_or_else(|| why.to_string());
        }
    }
}

/// Writes what is queued in `pipe.out`, one TLS record per line.
fn flush_lines(pipe: &mut Pipe) -> std::io::Result<()> {
    let pending = std::mem::take(&mut pipe.out);
    for line in pending.split_inclusive(|&b| b == b'\n') {
        pipe.out.extend_from_slice(line);
        pipe.flush()?;
    }
    Ok(())
}
