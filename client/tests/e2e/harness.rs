//! What the end-to-end tests share: the real server and `client` binaries, xdotool, a
//! protocol-level tester, and waits on what the GUI wrote (transcript, drawn rows).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tlschat::runtime::{self, ClientConfig, ClientHandle, NetEvent};
use tlschat::wire::{ClientMsg, ServerMsg};

/// One GUI test at a time: they share the X display, and typing goes to the focused window.
pub static DISPLAY_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Kills its processes when dropped, so a failing test leaves nothing behind.
pub struct Reaper(pub Vec<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The GUI tests need an X display and xdotool; CI always has both, so a missing one is a
/// failure with the reason, never a silent pass.
pub fn require_display() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "DISPLAY is not set: run the GUI tests under `xvfb-run -a -s '-screen 0 1280x800x24'`"
    );
    // Each way this can fail says what it was: a busy machine can fail to start a process,
    // which "not installed" would misreport.
    match Command::new("xdotool").arg("version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`xdotool version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("xdotool is not installed (apt-get install xdotool)")
        }
        Err(e) => panic!("cannot run xdotool: {e}"),
    }
}

/// Starts the server listening on `listen` with extra `args`; returns its `HOST:PORT`.
pub fn start_server_with(reaper: &mut Reaper, listen: &str, args: &[&str]) -> String {
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
pub fn launch_gui(reaper: &mut Reaper, server: &str, log: &Path) -> u32 {
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
        .env("TLSCHAT_CLIENT_DRAWN_ROWS", drawn_file(log))
        .current_dir(repo_root())
        .spawn()
        .expect("start the client");
    let pid = gui.id();
    reaper.0.push(gui);
    pid
}

/// Runs a command to completion within `limit`, killing it if it takes longer.
pub fn run_bounded(command: &mut Command, limit: Duration) -> String {
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

pub fn xdotool(args: &[&str]) -> String {
    run_bounded(Command::new("xdotool").args(args), Duration::from_secs(20))
}

/// Waits for an event matching `pick` from the test client.
pub fn wait_for<T>(
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

/// Waits until the transcript has a line ending in `expected`; returns the transcript.
pub fn wait_for_transcript(log: &Path, expected: &str, deadline: Instant) -> String {
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

pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

/// A protocol-level participant that logs in as `tester`.
pub fn tester(server: &str) -> (runtime::ClientHandle, mpsc::Receiver<NetEvent>) {
    tester_with(server, None)
}

/// The tester, coming back as the identity `resume` holds (as the GUI does after a crash).
pub fn resuming_tester(
    server: &str,
    resume: &runtime::Resume,
) -> (runtime::ClientHandle, mpsc::Receiver<NetEvent>) {
    tester_with(server, Some(resume.clone()))
}

fn tester_with(
    server: &str,
    resume: Option<runtime::Resume>,
) -> (runtime::ClientHandle, mpsc::Receiver<NetEvent>) {
    let (tx, rx) = mpsc::channel();
    let mut config = ClientConfig::new(
        server,
        tlschat::runtime::connect::BUNDLED_CA,
        "tester",
        None,
    );
    config.resume = resume;
    let handle = runtime::spawn(config, move |event| {
        let _ = tx.send(event);
    });
    (handle, rx)
}

/// Where the GUI started with transcript `log` writes the rows it draws.
pub fn drawn_file(log: &Path) -> PathBuf {
    let mut path = log.as_os_str().to_owned();
    path.push(".drawn.json");
    PathBuf::from(path)
}

/// A row the GUI drew: its text, and whether it lies wholly inside the viewport.
#[derive(Debug)]
pub struct Drawn {
    pub text: String,
    /// The delivery note under a message of ours ("Sending…", "Not delivered: …").
    pub note: Option<String>,
    pub whole: bool,
}

/// What the GUI last reported showing (see the client's `probe.rs`).
fn shown(log: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(drawn_file(log)).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_default()
}

/// The status bar's sentence and the Login button's label, as the GUI last showed them.
pub fn status_and_button(log: &Path) -> (String, String) {
    let shown = shown(log);
    let text = |key: &str| shown[key].as_str().unwrap_or_default().to_string();
    (text("status"), text("button"))
}

/// The rows the GUI last reported drawing, top to bottom.
pub fn drawn(log: &Path) -> Vec<Drawn> {
    let shown = shown(log);
    let rows = shown["rows"].as_array().cloned().unwrap_or_default();
    rows.iter()
        .map(|r| Drawn {
            text: r["text"].as_str().unwrap_or_default().to_string(),
            note: r["note"].as_str().map(str::to_string),
            whole: r["whole"].as_bool().unwrap_or(false),
        })
        .collect()
}

/// Waits until the bottom row the GUI draws is `text`, wholly inside the message list.
pub fn wait_drawn_last(log: &Path, text: &str, deadline: Instant) {
    wait_drawn(log, deadline, &format!("{text:?} at the bottom"), |rows| {
        rows.last().is_some_and(|r| r.whole && r.text == text)
    });
}

/// Waits until the rows the GUI draws satisfy `done`.
pub fn wait_drawn(log: &Path, deadline: Instant, what: &str, done: impl Fn(&[Drawn]) -> bool) {
    loop {
        let rows = drawn(log);
        if done(&rows) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the gui does not draw {what}; it draws {rows:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A room set up for one test: a server in memory, a GUI joining it, and their files.
/// (Not the client's `model::Room`, which is the room as the client sees it.)
pub struct TestRoom {
    pub server: String,
    pub reaper: Reaper,
    pub log: PathBuf,
}

impl TestRoom {
    /// A room with flood control off, so the tester can post quickly.
    pub fn new(name: &str) -> TestRoom {
        TestRoom::with_args(name, &["--no-persist", "--no-flood-control"])
    }

    /// A room whose server runs with `args`.
    pub fn with_args(name: &str, args: &[&str]) -> TestRoom {
        let mut reaper = Reaper(Vec::new());
        let server = start_server_with(&mut reaper, "127.0.0.1:0", args);
        let log =
            std::env::temp_dir().join(format!("tlschat-e2e-{name}-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let _ = std::fs::remove_file(drawn_file(&log));
        TestRoom {
            server,
            reaper,
            log,
        }
    }

    /// Starts the GUI, waits until its window is up and logged in; returns the window id.
    pub fn launch_gui(&mut self, deadline: Instant, rx: &mpsc::Receiver<NetEvent>) -> String {
        launch_gui(&mut self.reaper, &self.server, &self.log);
        let title = format!("tlschat: gui @ {}", self.server);
        let found = xdotool(&["search", "--sync", "--onlyvisible", "--name", &title]);
        let window = found.lines().next().unwrap_or_default().trim().to_string();
        wait_joined(rx, deadline, "gui");
        window
    }
}

impl Drop for TestRoom {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_file(drawn_file(&self.log));
    }
}

/// Waits until `nickname` joins the room `rx` listens to.
pub fn wait_joined(rx: &mpsc::Receiver<NetEvent>, deadline: Instant, nickname: &str) {
    wait_for(rx, deadline, &format!("{nickname} to join"), |e| match e {
        NetEvent::Server(ServerMsg::Join { nickname: who, .. }) => (who == nickname).then_some(()),
        _ => None,
    });
}

/// Waits until `nickname` leaves the room `rx` listens to; returns the reason given.
pub fn wait_left(rx: &mpsc::Receiver<NetEvent>, deadline: Instant, nickname: &str) -> String {
    wait_for(rx, deadline, &format!("{nickname} to leave"), |e| match e {
        NetEvent::Server(ServerMsg::Leave {
            nickname: who,
            reason,
            ..
        }) if who == nickname => Some(reason.clone()),
        _ => None,
    })
}

/// Says `text` as the tester and waits for the server's echo, so it is in the history.
pub fn say(tester: &ClientHandle, rx: &mpsc::Receiver<NetEvent>, text: &str, deadline: Instant) {
    tester
        .send(&ClientMsg::Broadcast {
            message: text.into(),
            action: false,
        })
        .expect("the tester sends");
    wait_for(rx, deadline, text, |e| match e {
        NetEvent::Server(ServerMsg::Message(m)) => (m.message == text).then_some(()),
        _ => None,
    });
}

pub fn joined_tester(server: &str, deadline: Instant) -> (ClientHandle, mpsc::Receiver<NetEvent>) {
    let (tester, rx) = tester(server);
    wait_for(&rx, deadline, "the tester's welcome", |e| {
        matches!(e, NetEvent::Server(ServerMsg::Welcome(_))).then_some(())
    });
    (tester, rx)
}
