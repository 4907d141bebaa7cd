//! Starting the server binary for a run, and stopping it afterwards.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Server log lines kept to explain a failure.
const LOG_TAIL: usize = 20;

/// The server binary, running until dropped.
pub struct SpawnedServer {
    child: Child,
    pub addr: String,
    pub pid: u32,
    pub command: String,
    data_dir: PathBuf,
    tail: Arc<Mutex<VecDeque<String>>>,
}

/// Starts `server --listen 127.0.0.1:0 ARGS...` from the directory of this executable.
pub fn start(args: &[String]) -> Result<SpawnedServer, String> {
    let path = server_path()?;
    // A data directory of its own, so runs never share (or fight over) a room's history.
    let data_dir = std::env::temp_dir().join(format!(
        "tlschat-bench-{}-{}",
        std::process::id(),
        crate::now_nanos()
    ));
    let mut child = Command::new(&path)
        .args(["--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data_dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
    let command = format!(
        "server --listen 127.0.0.1:0 --data-dir TMPDIR {}",
        args.join(" ")
    );
    let pid = child.id();
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let (port_tx, port_rx) = mpsc::channel();
    if let Some(stderr) = child.stderr.take() {
        let tail = Arc::clone(&tail);
        // The server logs a line per event; the pipe must be drained or the server blocks.
        thread::Builder::new()
            .name("server-log".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
                        let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                        let _ = port_tx.send(port);
                    }
                    let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    if tail.len() == LOG_TAIL {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
    }
    let mut server = SpawnedServer {
        child,
        addr: String::new(),
        pid,
        command,
        data_dir,
        tail,
    };
    match port_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(port) => {
            server.addr = format!("127.0.0.1:{port}");
            Ok(server)
        }
        Err(_) => Err(format!(
            "the server did not say where it listens; its last words:\n{}",
            server.log_tail()
        )),
    }
}

impl SpawnedServer {
    /// The last lines the server logged.
    pub fn log_tail(&self) -> String {
        let tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn server_path() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let path = me.with_file_name("server");
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "no server binary at {} (build it: cargo build --release --bin server)",
            path.display()
        ))
    }
}
