//! Drives the real `chat` binary through pipes, as a script would.

#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use super::{Server, PATIENCE};

/// The `chat` binary with piped stdin and stdout; killed on drop.
pub struct Chat {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    seen: Vec<String>,
}

impl Chat {
    pub fn start(args: &[&str]) -> Chat {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the chat binary");
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("chat stdout");
        let (tx, stdout) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Chat {
            child,
            stdin,
            stdout,
            seen: Vec::new(),
        }
    }

    pub fn join(server: &Server, nickname: &str) -> Chat {
        let mut chat = Chat::start(&["--server", &server.addr(), "--nickname", nickname]);
        chat.expect(&format!("You are {nickname} on the server"));
        chat
    }

    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to chat stdin");
    }

    /// Waits for an output line containing `needle`, returning it.
    pub fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("chat never printed {needle:?}; it printed {:#?}", self.seen),
            }
        }
    }

    /// The next output line, whatever it is.
    pub fn next_line(&mut self) -> String {
        match self.stdout.recv_timeout(PATIENCE) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(_) => panic!("chat printed nothing more after {:#?}", self.seen),
        }
    }

    /// Closes stdin (unless done already) and waits for the exit status and stderr.
    pub fn finish(&mut self) -> (ExitStatus, String) {
        self.stdin = None;
        self.exit()
    }

    /// Waits for the program to exit by itself, with stdin left open.
    pub fn exit(&mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for chat") {
                break status;
            }
            assert!(Instant::now() < deadline, "chat did not exit");
            thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut stderr);
        }
        (status, stderr)
    }

    /// Every line printed, once the program has exited.
    pub fn everything(&mut self) -> Vec<String> {
        while let Ok(line) = self.stdout.recv_timeout(PATIENCE) {
            self.seen.push(line);
        }
        self.seen.clone()
    }

    /// Freezes (`STOP`) or thaws (`CONT`) the process, so that a drop goes unnoticed for a
    /// while.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid}");
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
