//! The tlschat server: a TLS group chat room.
//!
//! Run it with `cargo run --bin server` (port 8888, the development certificate in `certs/`);
//! `--help` lists the options. Clients connect over TLS and speak one JSON object per line
//! (PROTOCOL.md). A client sends `login` with a nickname and gets `welcome` with the people
//! online and the recent history; after that, each `broadcast` it sends is stamped by the
//! server with a sequence number, the time and the sender's identity, and delivered to
//! everyone in the room, the sender included. `join`, `leave` and `rename` notices keep every
//! user list current.
//!
//! ```text
//!  accept loop ──spawns──▶ user thread (one per connection: handshake, login, then
//!                           │    read its socket ─▶ decrypt under its TLS lock ─▶ handle lines)
//!                           │ say / whisper / join / leave
//!                           ▼
//!       Room lock: history, members ──same bytes──▶ each member's queue (queue lock)
//!                           │ after the room lock: the members whose queue was empty
//!                           ▼
//!       Flusher: one broadcaster at a time takes each member's TLS lock (if free), encrypts
//!                all it has queued in one write, send(MSG_DONTWAIT) ──▶ member's socket
//!                           │ socket full: the rest of the ciphertext stays with the member
//!                           ▼
//!       writer thread: epoll until writable, then flushes it the same way
//! ```
//!
//! Who touches what: a user's thread alone *reads* its socket, holding no lock while blocked.
//! Anyone holding a connection's TLS lock may decrypt or encrypt and *send*, never blocking:
//! the user's own thread, the broadcaster flushing, the writer thread. Nobody is woken to
//! deliver a message, and a slow or hostile client cannot stall the others: its queue is
//! bounded by `--send-budget`, past which it is cut off as too slow.

// The design asks for a top-level server.rs with its modules in server/: an inline module
// named after the folder finds them there (and their own parts in their folders), and the
// `use` below lets every file name them from the crate root.
mod server {
    pub mod addresses;
    pub mod capacity;
    pub mod conn;
    pub mod ending;
    pub mod error;
    pub mod flood;
    pub mod flusher;
    pub mod handshake;
    pub mod history;
    pub mod members;
    pub mod options;
    pub mod room;
    pub mod session;
    pub mod slim;
    pub mod tls;
    pub mod writer;
}
use server::{
    addresses, capacity, conn, ending, error, flood, flusher, handshake, history, members, options,
    room, session, slim, tls, writer,
};

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use addresses::{Addresses, TurnedAway};
use error::Error;
use history::HistoryStore;
use options::Options;
use room::{Room, RoomConfig};
use session::ServerContext;
use tlschat::args::Parsed;
use writer::Writer;

/// Logs one line to stderr, prefixed with the time.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        eprintln!("{} {}", tlschat::wire::time::now(), format_args!($($arg)*))
    };
}

/// Connections still in their handshake or login beyond the room's size are turned away, so
/// a flood of half-open connections cannot exhaust threads.
const EXTRA_CONNECTIONS: usize = 256;
/// Stack of a connection thread: enough for the TLS handshake, small enough for thousands.
const SESSION_STACK: usize = 256 * 1024;

fn main() -> ExitCode {
    slim::tune_malloc();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), Error> {
    let options = match options::parse(std::env::args().skip(1))? {
        Parsed::Help => {
            print!("{}", options::usage());
            return Ok(());
        }
        Parsed::Run(options) => options,
    };
    let tls = tls::load(&options.cert, &options.key)?;
    let capacity = capacity::connections();
    if capacity.most < options.max_users + EXTRA_CONNECTIONS {
        log!(
            "note: this machine allows about {} connections ({}); more are turned away",
            capacity.most,
            capacity.bound_by
        );
    }
    let password = match &options.password_file {
        None => None,
        Some(path) => Some(read_password(path)?),
    };
    let history = match &options.data_dir {
        Some(dir) => {
            let history = HistoryStore::open(dir, options.history_keep)?;
            log!(
                "history: {} (keeping {} messages; last seq {})",
                dir.join("history.jsonl").display(),
                options.history_keep,
                history.last_seq()
            );
            history
        }
        None => {
            log!("history: in memory only (--no-persist)");
            HistoryStore::in_memory(options.history_keep)
        }
    };
    let listener = TcpListener::bind(options.listen).map_err(|source| Error::Listen {
        addr: options.listen,
        source,
    })?;
    let local = listener.local_addr().map_err(|source| Error::Io {
        doing: "reading the listening address",
        source,
    })?;
    log!("tlschat server listening on {local} (TLS)");
    log!("certificate SHA-256 fingerprint: {}", tls.fingerprint);
    if options.cert == Options::default().cert {
        log!("using the bundled development certificate; ./ca_gen.sh makes your own");
    }
    if password.is_some() {
        log!("the room is private: logins need the password");
    }

    let writer = Arc::new(Writer::new().map_err(|source| Error::Io {
        doing: "setting up the writer thread",
        source,
    })?);
    let writer_thread = Arc::clone(&writer);
    thread::Builder::new()
        .name("writer".into())
        .spawn(move || writer_thread.run())
        .map_err(|source| Error::Io {
            doing: "starting the writer thread",
            source,
        })?;
    let addresses = Arc::new(Addresses::new(options.per_address));
    let reporter = Arc::clone(&addresses);
    thread::Builder::new()
        .name("addresses".into())
        .spawn(move || reporter.run_reporter())
        .map_err(|source| Error::Io {
            doing: "starting the per-address bookkeeping thread",
            source,
        })?;
    let server = Arc::new(ServerContext {
        addresses,
        room: Room::new(
            RoomConfig {
                max_users: options.max_users,
                welcome_history: options.history,
                resume_grace: options.resume_grace,
                flood: options.flood,
            },
            history,
        ),
        acceptor: tls.acceptor,
        options,
        password,
        writer,
        next_conn: AtomicU64::new(1),
    });
    let janitor_server = Arc::clone(&server);
    let janitor = thread::Builder::new()
        .name("janitor".into())
        .spawn(move || janitor_server.room.run_janitor())
        .map_err(|source| Error::Io {
            doing: "starting the janitor thread",
            source,
        })?;
    let stopping = Arc::new(AtomicBool::new(false));
    install_signal_handler(local, Arc::clone(&stopping))?;
    let live = Arc::new(LiveCount::default());
    accept_loop(&listener, &server, &stopping, &live);

    log!("shutting down: telling {} users", server.room.len());
    server.room.shut_down("server shutting down");
    let _ = janitor.join();
    if !live.wait_for_zero(Duration::from_secs(3)) {
        log!("some connections did not close in time; exiting anyway");
    }
    log!("stopped");
    Ok(())
}

fn accept_loop(
    listener: &TcpListener,
    server: &Arc<ServerContext>,
    stopping: &AtomicBool,
    live: &Arc<LiveCount>,
) {
    let limit = (server.options.max_users + EXTRA_CONNECTIONS).min(capacity::connections().most);
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let socket = match stream {
            Ok(s) => s,
            Err(e) => {
                // Usually out of file descriptors; pausing lets some connections close.
                log!("accept failed: {e}");
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let peer = socket
            .peer_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        // Turned away before TLS with a plain close, logged once a minute per address.
        let now = Instant::now();
        if live.count.load(Ordering::SeqCst) >= limit {
            let why = TurnedAway::ServerFull(limit);
            server.addresses.turned_away(peer.ip(), why, now);
            continue;
        }
        let Some(slot) = server.addresses.admit(peer.ip(), now) else {
            continue;
        };
        spawn_user_thread(socket, peer, slot, server, live);
    }
}

fn spawn_user_thread(
    socket: TcpStream,
    peer: SocketAddr,
    slot: addresses::Slot,
    server: &Arc<ServerContext>,
    live: &Arc<LiveCount>,
) {
    live.add();
    let server = Arc::clone(server);
    let thread_live = Arc::clone(live);
    let spawned = thread::Builder::new()
        .name(format!("conn {peer}"))
        .stack_size(SESSION_STACK)
        .spawn(move || {
            let outcome = session::serve(socket, peer, slot, &server);
            log!("{peer}: {outcome}");
            thread_live.remove();
        });
    if let Err(e) = spawned {
        log!("{peer}: could not start a thread: {e}");
        live.remove();
    }
}

fn read_password(path: &std::path::Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::File {
        path: path.to_path_buf(),
        source,
    })?;
    let password = text.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(Error::Usage(format!(
            "the password file {} is empty",
            path.display()
        )));
    }
    Ok(password)
}

/// On Ctrl-C or SIGTERM, stop accepting: set the flag, then wake `accept` with a connection.
fn install_signal_handler(local: SocketAddr, stopping: Arc<AtomicBool>) -> Result<(), Error> {
    let mut wake_addr = local;
    if wake_addr.ip().is_unspecified() {
        wake_addr.set_ip(if local.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    ctrlc::set_handler(move || {
        if !stopping.swap(true, Ordering::SeqCst) {
            let _ = TcpStream::connect_timeout(&wake_addr, Duration::from_secs(1));
        }
    })
    .map_err(|e| Error::Io {
        doing: "installing the Ctrl-C handler",
        source: std::io::Error::other(e),
    })
}

/// How many connection threads are alive, so shutdown can wait for them.
#[derive(Default)]
struct LiveCount {
    count: AtomicUsize,
    lock: Mutex<()>,
    zero: Condvar,
}

impl LiveCount {
    fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    fn remove(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.zero.notify_all();
        }
    }

    fn wait_for_zero(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        while self.count.load(Ordering::SeqCst) > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = self
                .zero
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}
