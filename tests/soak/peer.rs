//! A well-behaved chatter for the soak test: one `tlschat::runtime` connection at a time,
//! all sharing one `Resume`, so each reconnection catches up from where the last one stopped;
//! and a record of every room message it received, exactly as received (no de-duplication).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tlschat::runtime::{self, ClientConfig, ClientHandle, NetEvent, Resume};
use tlschat::wire::{ChatMessage, ClientMsg, ServerMsg};

/// A small xorshift generator: the soak test needs jitter, not cryptography.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from))
    }
}

/// Switches shared by the test and every peer's driver thread.
#[derive(Default)]
pub struct Control {
    /// Peers send their numbered messages only while this is set.
    pub chatting: AtomicBool,
    /// Drivers return when this is set.
    pub stop: AtomicBool,
}

/// Everything one peer saw and did.
#[derive(Default)]
pub struct Record {
    pub handle: Option<ClientHandle>,
    /// The current connection has had its `welcome`.
    pub live: bool,
    /// Every room message received, live, replayed or in a `welcome`, in arrival order.
    pub received: Vec<ChatMessage>,
    /// Room messages queued without an error (each may still die with its connection).
    pub sent: u64,
    /// Welcomes that replayed at least one message, and how many messages they replayed.
    pub replays: u64,
    pub replayed: u64,
    /// Anything unexpected: `missed` ranges, errors from the server, refusals.
    pub trouble: Vec<String>,
    /// `leave` notices seen: (nickname, reason).
    pub leaves: Vec<(String, String)>,
}

impl Record {
    /// Queues a room message on the current connection, counting it if that worked.
    fn send(&mut self, text: &str) -> bool {
        let msg = ClientMsg::Broadcast {
            message: text.to_string(),
            action: false,
        };
        let sent = self.handle.as_ref().is_some_and(|h| h.send(&msg).is_ok());
        self.sent += u64::from(sent);
        sent
    }
}

pub struct Peer {
    pub nick: String,
    addr: String,
    resume: Resume,
    record: Mutex<Record>,
    changed: Condvar,
}

impl Peer {
    pub fn new(nick: String, addr: String) -> Arc<Peer> {
        Arc::new(Peer {
            nick,
            addr,
            resume: Resume::new(),
            record: Mutex::new(Record::default()),
            changed: Condvar::new(),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `done` holds for this peer's record; false if `deadline` passes first.
    pub fn wait_until(&self, deadline: Instant, done: impl Fn(&Record) -> bool) -> bool {
        let mut rec = self.lock();
        while !done(&rec) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            rec = self.changed.wait_timeout(rec, left).unwrap().0;
        }
        true
    }

    /// Sends a room message on the live connection; false if there is none or it failed.
    pub fn say(&self, text: &str) -> bool {
        let mut rec = self.lock();
        rec.live && rec.send(text)
    }

    /// Drops the live connection without a word, like a lost network; false if not live.
    pub fn abort(&self) -> bool {
        let rec = self.lock();
        match (&rec.handle, rec.live) {
            (Some(handle), true) => {
                handle.abort();
                true
            }
            _ => false,
        }
    }

    pub fn quit(&self) {
        if let Some(handle) = &self.lock().handle {
            handle.quit();
        }
    }

    /// Keeps this peer connected (reconnecting after a short pause whenever a connection
    /// ends, whatever the reason) and, while `ctl.chatting`, sends "NICK-N" every 50-150 ms.
    pub fn drive(self: Arc<Self>, ctl: Arc<Control>, seed: u64) {
        let mut rng = Rng(seed | 1);
        let (mut next_connect, mut next_send) = (Instant::now(), Instant::now());
        let mut had_connection = false;
        let mut n = 0u64;
        while !ctl.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            let mut rec = self.lock();
            if rec.handle.is_none() {
                if had_connection {
                    had_connection = false;
                    next_connect = now + rng.millis(50, 250);
                }
                if now >= next_connect {
                    had_connection = true;
                    rec.handle = Some(self.connect());
                    continue;
                }
            } else if rec.live && ctl.chatting.load(Ordering::SeqCst) && now >= next_send {
                // Refused while the connection is going down: never sent, never acknowledged.
                if rec.send(&format!("{}-{n}", self.nick)) {
                    n += 1;
                }
                next_send = now + rng.millis(50, 150);
            }
            drop(self.changed.wait_timeout(rec, Duration::from_millis(10)));
        }
    }

    /// Starts a connection; called with the record locked, so its first event waits for us.
    fn connect(self: &Arc<Self>) -> ClientHandle {
        let mut config = ClientConfig::new(
            &self.addr,
            tlschat::runtime::connect::BUNDLED_CA,
            &self.nick,
            None,
        );
        config.resume = Some(self.resume.clone());
        config.connect_timeout = Duration::from_secs(5);
        let me = Arc::clone(self);
        runtime::spawn(config, move |event| me.on_event(event))
    }

    fn on_event(&self, event: NetEvent) {
        let mut rec = self.lock();
        match event {
            NetEvent::Server(ServerMsg::Welcome(w)) => {
                rec.live = true;
                if w.replay > 0 {
                    rec.replays += 1;
                    rec.replayed += w.replay;
                }
                if let Some(missed) = w.missed {
                    rec.trouble.push(format!("welcome says {missed:?} is gone"));
                }
                rec.received.extend(w.history);
            }
            NetEvent::Server(ServerMsg::Message(m)) => rec.received.push(m),
            NetEvent::Server(ServerMsg::Leave {
                nickname, reason, ..
            }) => rec.leaves.push((nickname, reason)),
            NetEvent::Server(ServerMsg::Error { code, message, .. }) => {
                rec.trouble.push(format!("error {code:?}: {message}"));
            }
            NetEvent::Closed { .. } => {
                rec.handle = None;
                rec.live = false;
            }
            _ => {}
        }
        drop(rec);
        self.changed.notify_all();
    }
}
