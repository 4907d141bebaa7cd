//! End to end: the real server, the real `client` binary driven by xdotool under X, and a
//! protocol-level test client on the other side of the room.
//!
//! Needs DISPLAY and xdotool (run under `xvfb-run -a`); without them it prints why and passes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tlschat::client::{self, ClientConfig, NetEvent};
use tlschat::{ClientMsg, ServerMsg};

/// Kills its processes when dropped, so a failing test leaves nothing behind.
struct Reaper(Vec<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn missing_prerequisite() -> Option<&'static str> {
    if std::env::var_os("DISPLAY").is_none() {
        return Some("DISPLAY is not set (run under xvfb-run -a)");
    }
    let xdotool = Command::new("xdotool").arg("version").output();
    if !xdotool.is_ok_and(|o| o.status.success()) {
        return Some("xdotool is not installed");
    }
    None
}

/// Starts the server on a free port and returns it with its `HOST:PORT`.
fn start_server(reaper: &mut Reaper) -> String {
    let exe = Path::new(env!("CARGO_BIN_EXE_client")).with_file_name("server");
    assert!(
        exe.exists(),
        "{} is missing: build it with `cargo build --bin server` or run `cargo test --workspace`",
        exe.display()
    );
    let mut server = Command::new(&exe)
        // In memory only: a shared history file would mix this test with other runs.
        .args(["--listen", "127.0.0.1:0", "--no-persist"])
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let stderr = server.stderr.take().expect("server stderr");
    reaper.0.push(server);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Draining (and echoing) all of it keeps the server from blocking on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("server: {line}");
            if let Some(at) = line.find("listening on 127.0.0.1:") {
                let rest = &line[at + "listening on ".len()..];
                let addr: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                    .collect();
                let _ = tx.send(addr);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(15))
        .expect("the server did not say where it listens")
}

/// Runs a command to completion within `limit`, killing it if it takes longer.
fn run_bounded(command: &mut Command, limit: Duration) -> String {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start a helper command");
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{command:?} took longer than {limit:?}");
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
    }
    out
}

fn xdotool(args: &[&str]) -> String {
    run_bounded(Command::new("xdotool").args(args), Duration::from_secs(20))
}

/// Waits for an event matching `pick` from the test client.
fn wait_for<T>(
    rx: &mpsc::Receiver<NetEvent>,
    deadline: Instant,
    what: &str,
    mut pick: impl FnMut(&NetEvent) -> Option<T>,
) -> T {
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(event) => {
                if let Some(found) = pick(&event) {
                    return found;
                }
                seen.push(event);
            }
            Err(e) => panic!("{e} while waiting for {what}; the tester saw {seen:#?}"),
        }
    }
}

#[test]
fn gui_sends_and_receives_through_the_real_server() {
    if let Some(why) = missing_prerequisite() {
        println!("skipping the GUI end-to-end test: {why}");
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(50);
    let mut reaper = Reaper(Vec::new());
    let server = start_server(&mut reaper);

    let (tx, rx) = mpsc::channel();
    let config = ClientConfig::new(&server, tlschat::connect::BUNDLED_CA, "tester", None);
    let tester = client::spawn(config, move |event| {
        let _ = tx.send(event);
    });
    wait_for(&rx, deadline, "the tester's welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });

    let log = std::env::temp_dir().join(format!("tlschat-e2e-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let gui = Command::new(env!("CARGO_BIN_EXE_client"))
        .args([
            "--server",
            &server,
            "--nickname",
            "gui",
            "--connect",
            "--log",
        ])
        .arg(&log)
        .current_dir(repo_root())
        .spawn()
        .expect("start the client");
    reaper.0.push(gui);

    // The title names the nickname once logged in, so this also waits for the login.
    let title = format!("tlschat: gui @ {server}");
    let window = xdotool(&["search", "--sync", "--onlyvisible", "--name", &title]);
    let window = window
        .lines()
        .next()
        .expect("the client window")
        .trim()
        .to_string();
    wait_for(&rx, deadline, "gui to join", |e| match e {
        NetEvent::Server(ServerMsg::Join { nickname, .. }) => (nickname == "gui").then_some(()),
        _ => None,
    });

    // Key auto-repeat on a busy Xvfb can double letters while xdotool types; best effort.
    let _ = Command::new("xset").args(["r", "off"]).status();
    // The message entry has the focus after login; the window needs the keyboard.
    xdotool(&["windowfocus", "--sync", &window]);
    xdotool(&["type", "--delay", "15", "hello from the gui"]);
    xdotool(&["key", "Return"]);
    wait_for(&rx, deadline, "the gui's message", |e| match e {
        NetEvent::Server(ServerMsg::Message(m)) if m.sender_nickname == "gui" => {
            assert_eq!(m.message, "hello from the gui");
            Some(())
        }
        _ => None,
    });

    tester
        .send(&ClientMsg::Broadcast {
            message: "hello gui".into(),
            action: false,
        })
        .expect("the tester sends");
    let expected = "<tester> hello gui";
    loop {
        let transcript = std::fs::read_to_string(&log).unwrap_or_default();
        if transcript.lines().any(|l| l.ends_with(expected)) {
            assert!(
                transcript.contains("<gui> hello from the gui"),
                "{transcript}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gui never showed {expected:?}:\n{transcript}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    tester.quit();
    let _ = std::fs::remove_file(&log);
}
