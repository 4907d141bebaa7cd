//! Helpers for end-to-end tests: the real server binary on an ephemeral loopback port, and a
//! small blocking TLS client that can send anything, well-formed or not.

#![allow(dead_code)] // each test file uses a different subset

pub mod chat;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use native_tls::{Certificate, TlsConnector, TlsStream};
use tlschat::wire::framing::LineBuffer;
use tlschat::wire::{decode_server, ServerMsg, Welcome};

/// How long any single expectation may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Waits (up to [`PATIENCE`]) until `done` holds.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh directory for one test's server data, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("tlschat-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 temp path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server binary, running until dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
    _data: Option<TempDir>,
}

impl Server {
    /// Starts the server on 127.0.0.1 with an ephemeral port and extra `args`. Unless the
    /// args say where to keep history, it goes to a temporary directory of its own.
    pub fn start(args: &[&str]) -> Server {
        let own_data = !args
            .iter()
            .any(|a| *a == "--data-dir" || *a == "--no-persist");
        let data = own_data.then(|| TempDir::new("data"));
        let mut server = Server::start_at("127.0.0.1:0", args, data.as_ref().map(TempDir::path));
        server._data = data;
        server
    }

    /// Starts the server listening on `listen` (to restart one on the same port).
    pub fn start_at(listen: &str, args: &[&str], data_dir: Option<&str>) -> Server {
        Server::start_with(listen, args, data_dir, |_| {})
    }

    /// Like [`Server::start_at`], with a last say on the command (limits, environment).
    pub fn start_with(
        listen: &str,
        args: &[&str],
        data_dir: Option<&str>,
        tweak: impl FnOnce(&mut Command),
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command.args(["--listen", listen]).args(args);
        if let Some(dir) = data_dir {
            command.args(["--data-dir", dir]);
        }
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        tweak(&mut command);
        let mut child = command.spawn().expect("start the server binary");
        let stderr = child.stderr.take().expect("server stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let thread_log = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split(" listening on 127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = port_tx.send(port.parse::<u16>().unwrap_or(0));
                }
                thread_log.lock().unwrap().push(line);
            }
        });
        let port = match port_rx.recv_timeout(PATIENCE) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start: {:#?}", log.lock().unwrap());
            }
        };
        Server {
            child,
            port,
            log,
            _data: None,
        }
    }

    /// Kills the server at once, as a crash or `kill -9` would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connects and logs in; panics unless `welcome` arrives.
    pub fn join(&self, nickname: &str) -> (Client, Welcome) {
        let mut client = Client::connect(self.port);
        let welcome = client.login(nickname);
        (client, welcome)
    }

    /// Waits until a server log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?}: {:#?}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for server") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit after SIGTERM"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking test client over real TLS, trusting the bundled CA.
pub struct Client {
    pub tls: TlsStream<TcpStream>,
    lines: LineBuffer,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        let socket = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        Client::handshake(socket).expect("TLS handshake")
    }

    /// Completes the TLS handshake on a connected socket, or says why it failed.
    pub fn handshake(socket: TcpStream) -> Result<Client, String> {
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
        socket.set_write_timeout(Some(PATIENCE)).unwrap();
        let ca = Certificate::from_pem(tlschat::runtime::connect::BUNDLED_CA).unwrap();
        let connector = TlsConnector::builder()
            .add_root_certificate(ca)
            .build()
            .unwrap();
        let tls = connector
            .connect("localhost", socket)
            .map_err(|e| e.to_string())?;
        Ok(Client {
            tls,
            lines: LineBuffer::new(1 << 24),
        })
    }

    /// Sends raw bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.tls.write_all(bytes).expect("send");
        self.tls.flush().expect("flush");
    }

    /// Sends one line; the `\n` is added.
    pub fn send(&mut self, json: &str) {
        self.send_raw(format!("{json}\n").as_bytes());
    }

    pub fn say(&mut self, text: &str) {
        self.send(&serde_json::json!({"type": "broadcast", "message": text}).to_string());
    }

    pub fn login(&mut self, nickname: &str) -> Welcome {
        self.send(&serde_json::json!({"type": "login", "nickname": nickname}).to_string());
        match self.recv() {
            ServerMsg::Welcome(w) => w,
            other => panic!("expected welcome for {nickname}, got {other:?}"),
        }
    }

    /// The next line as raw text, or `None` when the server closed the connection.
    pub fn recv_line(&mut self) -> Option<String> {
        let mut chunk = [0u8; 16384];
        loop {
            if let Some(line) = self.lines.next_line().expect("line within limit") {
                return Some(String::from_utf8(line.to_vec()).expect("UTF-8 from server"));
            }
            match self.tls.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.lines.extend(&chunk[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    panic!("nothing from the server within {PATIENCE:?}")
                }
                Err(_) => return None,
            }
        }
    }

    /// The next message; panics on timeout or close.
    pub fn recv(&mut self) -> ServerMsg {
        let line = self.recv_line().expect("connection closed while waiting");
        decode_server(line.as_bytes()).unwrap_or_else(|e| panic!("bad line {line}: {e:?}"))
    }

    /// Skips messages until one matches, returning it.
    pub fn recv_until(&mut self, what: &str, pred: impl Fn(&ServerMsg) -> bool) -> ServerMsg {
        let deadline = Instant::now() + PATIENCE;
        loop {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            let msg = self.recv();
            if pred(&msg) {
                return msg;
            }
        }
    }

    /// The next error's code, skipping other traffic.
    pub fn recv_error(&mut self) -> (tlschat::wire::ErrorCode, String) {
        match self.recv_until("an error", |m| matches!(m, ServerMsg::Error { .. })) {
            ServerMsg::Error { code, message, .. } => (code, message),
            _ => unreachable!(),
        }
    }

    /// The next broadcast message's text and sender, skipping notices.
    pub fn recv_message(&mut self) -> tlschat::wire::ChatMessage {
        match self.recv_until("a message", |m| matches!(m, ServerMsg::Message(_))) {
            ServerMsg::Message(m) => m,
            _ => unreachable!(),
        }
    }

    /// Reads until the server closes or the connection fails: what it sent, and the error
    /// if it did not end cleanly (a reset, say).
    pub fn recv_until_end(&mut self) -> (Vec<ServerMsg>, Option<std::io::Error>) {
        let mut all = Vec::new();
        let mut chunk = [0u8; 16384];
        loop {
            while let Some(line) = self.lines.next_line().expect("line within limit") {
                if let Ok(msg) = decode_server(line) {
                    all.push(msg);
                }
            }
            match self.tls.read(&mut chunk) {
                Ok(0) => return (all, None),
                Ok(n) => self.lines.extend(&chunk[..n]),
                Err(e) => return (all, Some(e)),
            }
        }
    }

    /// Reads until the server closes, returning everything it sent last.
    pub fn recv_all_until_close(&mut self) -> Vec<ServerMsg> {
        let mut all = Vec::new();
        while let Some(line) = self.recv_line() {
            if let Ok(msg) = decode_server(line.as_bytes()) {
                all.push(msg);
            }
        }
        all
    }
}

/// Asserts that the last of `rest` (what a client read until the close) is `bye` `code`.
#[track_caller]
pub fn assert_last_bye(rest: &[ServerMsg], code: tlschat::wire::ByeCode) {
    assert!(
        matches!(rest.last(), Some(ServerMsg::Bye { code: got, .. }) if *got == code),
        "expected bye {code:?} last: {rest:?}"
    );
}

/// Asserts that the first of `rest` is `error` `code`.
#[track_caller]
pub fn assert_first_error(rest: &[ServerMsg], code: tlschat::wire::ErrorCode) {
    assert!(
        matches!(rest.first(), Some(ServerMsg::Error { code: got, .. }) if *got == code),
        "expected error {code:?} first: {rest:?}"
    );
}
