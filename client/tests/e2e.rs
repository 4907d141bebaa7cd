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

/// One GUI test at a time: they share the X display, and typing goes to the focused window.
static DISPLAY_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

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

/// Starts the server on a free port and returns its `HOST:PORT`.
fn start_server(reaper: &mut Reaper) -> String {
    // In memory only: a shared history file would mix this test with other runs.
    start_server_with(reaper, "127.0.0.1:0", &["--no-persist"])
}

/// Starts the server listening on `listen` with extra `args`; returns its `HOST:PORT`.
fn start_server_with(reaper: &mut Reaper, listen: &str, args: &[&str]) -> String {
    let exe = Path::new(env!("CARGO_BIN_EXE_client")).with_file_name("server");
    assert!(
        exe.exists(),
        "{} is missing: build it with `cargo build --bin server` or run `cargo test --workspace`",
        exe.display()
    );
    let mut server = Command::new(&exe)
        .args(["--listen", listen])
        .args(args)
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

/// Starts the real `client` logged in as `gui` with a transcript in `log`; returns its pid.
fn launch_gui(reaper: &mut Reaper, server: &str, log: &Path) -> u32 {
    let gui = Command::new(env!("CARGO_BIN_EXE_client"))
        .args([
            "--server",
            server,
            "--nickname",
            "gui",
            "--connect",
            "--log",
        ])
        .arg(log)
        .current_dir(repo_root())
        .spawn()
        .expect("start the client");
    let pid = gui.id();
    reaper.0.push(gui);
    pid
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
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(why) = missing_prerequisite() {
        println!("skipping the GUI end-to-end test: {why}");
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(50);
    let mut reaper = Reaper(Vec::new());
    let server = start_server(&mut reaper);

    let (tester, rx) = tester(&server);
    wait_for(&rx, deadline, "the tester's welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });

    let log = std::env::temp_dir().join(format!("tlschat-e2e-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    launch_gui(&mut reaper, &server, &log);

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

/// Waits until the transcript has a line ending in `expected`; returns the transcript.
fn wait_for_transcript(log: &Path, expected: &str, deadline: Instant) -> String {
    loop {
        let transcript = std::fs::read_to_string(log).unwrap_or_default();
        if transcript.lines().any(|l| l.ends_with(expected)) {
            return transcript;
        }
        assert!(
            Instant::now() < deadline,
            "the gui never showed {expected:?}:\n{transcript}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

/// A protocol-level participant that logs in as `tester`.
fn tester(server: &str) -> (client::ClientHandle, mpsc::Receiver<NetEvent>) {
    let (tx, rx) = mpsc::channel();
    let config = ClientConfig::new(server, tlschat::connect::BUNDLED_CA, "tester", None);
    let handle = client::spawn(config, move |event| {
        let _ = tx.send(event);
    });
    (handle, rx)
}

#[test]
fn gui_fills_the_gap_after_the_server_is_killed_and_restarted() {
    let _display = DISPLAY_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(why) = missing_prerequisite() {
        println!("skipping the GUI end-to-end test: {why}");
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(50);
    let data = std::env::temp_dir().join(format!("tlschat-e2e-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let data_arg = data.to_str().expect("UTF-8 temp path").to_string();
    let mut reaper = Reaper(Vec::new());
    let server = start_server_with(&mut reaper, "127.0.0.1:0", &["--data-dir", &data_arg]);

    let log = std::env::temp_dir().join(format!("tlschat-e2e-gap-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let gui_pid = launch_gui(&mut reaper, &server, &log);
    let (first, rx) = tester(&server);
    wait_for(&rx, deadline, "the tester's welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });
    let say = |who: &client::ClientHandle, text: &str| {
        who.send(&ClientMsg::Broadcast {
            message: text.into(),
            action: false,
        })
        .expect("the tester sends")
    };
    say(&first, "before the crash");
    wait_for_transcript(&log, "<tester> before the crash", deadline);

    // Freeze the GUI, so what follows happens while it cannot look, then crash the server.
    signal(gui_pid, "STOP");
    let server_pid = reaper.0[0].id();
    signal(server_pid, "KILL");
    let _ = reaper.0[0].wait();
    let listen = server.clone();
    let restarted = loop {
        // The old process's port can take a moment to be free again.
        let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut r = Reaper(Vec::new());
            let addr = start_server_with(&mut r, &listen, &["--data-dir", &data_arg]);
            (addr, r)
        }));
        match attempt {
            Ok((addr, r)) => break (addr, r),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => std::panic::resume_unwind(e),
        }
    };
    let (_, mut restarted_reaper) = restarted;
    reaper.0.append(&mut restarted_reaper.0);
    let (second, rx) = tester(&server);
    wait_for(&rx, deadline, "the tester's second welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });
    say(&second, "while you were away");
    wait_for(&rx, deadline, "the echo", |e| match e {
        NetEvent::Server(ServerMsg::Message(m)) => {
            (m.message == "while you were away").then_some(())
        }
        _ => None,
    });

    // Thawed, the GUI finds its connection dead, reconnects by itself and catches up.
    signal(gui_pid, "CONT");
    wait_for(&rx, deadline, "gui to come back", |e| match e {
        NetEvent::Server(ServerMsg::Join { nickname, .. }) => (nickname == "gui").then_some(()),
        _ => None,
    });
    say(&second, "after it came back");
    let transcript = wait_for_transcript(&log, "<tester> after it came back", deadline);
    for line in [
        "before the crash",
        "while you were away",
        "after it came back",
    ] {
        let count = transcript
            .lines()
            .filter(|l| l.ends_with(&format!("<tester> {line}")))
            .count();
        assert_eq!(count, 1, "{line:?} shown {count} times:\n{transcript}");
    }
    first.abort();
    second.quit();
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_dir_all(&data);
}
