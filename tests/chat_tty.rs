//! The terminal client as a person uses it: the real `chat` binary in a real terminal (a tmux
//! pane), typed at with `send-keys` and read back with `capture-pane`, against the real
//! server on an ephemeral loopback port. Every wait is on what the screen shows, bounded.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{Server, TempDir, PATIENCE};

/// A tmux server of our own with one 100×30 pane running `chat`; killed on drop.
struct Pane {
    socket: String,
    dir: TempDir,
}

impl Pane {
    /// Runs `chat` with `args` in a fresh pane. The shell around it records the terminal
    /// settings before and after, and says how `chat` exited, then keeps the pane open.
    fn start(args: &[&str]) -> Pane {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let socket = format!("tlschat-test-{}-{n}", std::process::id());
        let dir = TempDir::new("tty");
        let chat = std::iter::once(env!("CARGO_BIN_EXE_chat"))
            .chain(args.iter().copied())
            .map(|word| format!("'{word}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let script = format!(
            "stty -g > {dir}/before; {chat}; status=$?; stty -g > {dir}/after; \
             echo \"chat exited $status\"; sleep 600",
            dir = dir.path()
        );
        let pane = Pane { socket, dir };
        pane.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "chat",
            "-x",
            "100",
            "-y",
            "30",
            "sh",
            "-c",
            &script,
        ]);
        pane
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux must be installed to test the terminal client (apt-get install tmux)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` as it is.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "chat", "-l", text]);
    }

    /// Presses keys by name: `Enter`, `Tab`, `Up`, `Left`, `C-d`.
    fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "chat"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "chat"])
    }

    /// The last line on the screen with anything on it: the prompt while `chat` reads.
    fn last_line(screen: &str) -> &str {
        screen
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }

    /// Waits until the screen satisfies `ready`, and returns it.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what}; it shows:\n{screen}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_for_text(&self, needle: &str) -> String {
        self.wait_for(&format!("{needle:?}"), |s| s.contains(needle))
    }

    fn wait_for_prompt(&self, line: &str) -> String {
        self.wait_for(&format!("the prompt line {line:?}"), |s| {
            Pane::last_line(s) == line
        })
    }

    fn title(&self) -> String {
        self.tmux(&["display-message", "-p", "-t", "chat", "#{pane_title}"])
    }

    /// The terminal settings before `chat` started and after it ended.
    fn terminal_modes(&self) -> (String, String) {
        let read = |name: &str| {
            std::fs::read_to_string(self.dir.0.join(name)).expect("the pane recorded stty")
        };
        (read("before"), read("after"))
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .env_remove("TMUX")
            .output();
    }
}

fn join(server: &Server, nickname: &str, extra: &[&str]) -> Pane {
    let addr = server.addr();
    let mut args = vec!["--server", addr.as_str(), "--nickname", nickname];
    args.extend_from_slice(extra);
    let pane = Pane::start(&args);
    pane.wait_for_text(&format!("You are {nickname} on the server"));
    pane.wait_for_prompt(">");
    pane
}

/// The next room message from someone other than `me`.
fn next_from_others(client: &mut common::Client, me: &str) -> String {
    loop {
        let m = client.recv_message();
        if m.sender_nickname != me {
            return m.message;
        }
    }
}

#[test]
fn incoming_lines_print_above_what_is_being_typed() {
    let server = Server::start(&[]);
    let pane = join(&server, "alice", &[]);
    let (mut bob, _) = server.join("bob");
    pane.wait_for_text("-- bob joined");

    pane.type_text("hello wor");
    pane.wait_for_prompt("> hello wor");
    bob.say("first interruption");
    bob.say("second interruption");
    let screen = pane.wait_for_text("<bob> second interruption");
    assert_eq!(Pane::last_line(&screen), "> hello wor", "{screen}");
    let typed: Vec<&str> = screen.lines().filter(|l| l.contains("hello wor")).collect();
    assert_eq!(typed, vec!["> hello wor"], "{screen}");

    pane.type_text("ld");
    pane.press(&["Enter"]);
    assert_eq!(next_from_others(&mut bob, "bob"), "hello world");
    pane.wait_for_text("<alice> hello world");

    // Ctrl-D on an empty line leaves the room and gives the terminal back as it was.
    pane.wait_for_prompt(">");
    pane.press(&["C-d"]);
    let screen = pane.wait_for_text("chat exited 0");
    assert_eq!(line_before(&screen, "chat exited 0"), ">", "{screen}");
    let (before, after) = pane.terminal_modes();
    assert_eq!(before, after);
}

/// The screen line just above the first one containing `needle`.
fn line_before<'a>(screen: &'a str, needle: &str) -> &'a str {
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(needle))
        .expect("the needle is on the screen");
    lines[..at].last().copied().unwrap_or("")
}

#[test]
fn up_recalls_edits_and_tab_completes_nicknames() {
    let server = Server::start(&[]);
    let (mut bobby, _) = server.join("bobby");
    let pane = join(&server, "alice", &[]);

    pane.type_text("bo");
    pane.press(&["Tab"]);
    pane.wait_for_prompt("> bobby:");
    pane.type_text("hi");
    pane.press(&["Enter"]);
    assert_eq!(next_from_others(&mut bobby, "bobby"), "bobby: hi");

    // Lines typed ahead, before the prompt is back, are kept.
    pane.type_text("one");
    pane.press(&["Enter"]);
    pane.type_text("two");
    pane.press(&["Enter"]);
    assert_eq!(next_from_others(&mut bobby, "bobby"), "one");
    assert_eq!(next_from_others(&mut bobby, "bobby"), "two");

    pane.wait_for_prompt(">");
    pane.press(&["Up", "Up", "Up"]);
    pane.wait_for_prompt("> bobby: hi");
    pane.press(&["Left", "Left"]);
    pane.type_text("oh ");
    pane.wait_for_prompt("> bobby: oh hi");
    pane.press(&["Enter"]);
    assert_eq!(next_from_others(&mut bobby, "bobby"), "bobby: oh hi");
    // Nothing was echoed as raw escape codes.
    assert!(!pane.screen().contains("^[[A"), "{}", pane.screen());

    // After /quit the shell goes on right below: no prompt again, no blank line.
    pane.type_text("/quit");
    pane.press(&["Enter"]);
    let screen = pane.wait_for_text("chat exited 0");
    assert_eq!(line_before(&screen, "chat exited 0"), "> /quit", "{screen}");
}

#[test]
fn escapes_from_others_are_shown_not_obeyed() {
    let server = Server::start(&[]);
    let pane = join(&server, "alice", &[]);
    let (mut bob, _) = server.join("bob");
    pane.wait_for_text("-- bob joined");
    let title = pane.title();
    bob.send(concat!(
        r#"{"type":"broadcast","message":"\u001b]2;PWNED\u0007\u001b[2J\u001b[31mred"#,
        r#"\n[21:59:00] <carol> my password is hunter2"}"#
    ));
    let screen = pane.wait_for_text("^[]2;PWNED^G^[[2J^[[31mred");
    assert_eq!(pane.title(), title);
    let forged = screen
        .lines()
        .find(|l| l.contains("<carol>"))
        .expect("the second line is shown");
    assert_eq!(
        forged.trim_end(),
        "             [21:59:00] <carol> my password is hunter2"
    );
    // The clear-screen sequence did not clear the screen.
    assert!(screen.contains("-- bob joined"), "{screen}");
}

#[test]
fn a_message_padded_to_the_width_cannot_start_a_row_of_its_own() {
    let server = Server::start(&[]);
    let pane = join(&server, "alice", &[]);
    let (mut bob, _) = server.join("bob");
    pane.wait_for_text("-- bob joined");
    // `[HH:MM:SS] <bob> ` is 17 columns: the forgery would start the second row of 100.
    bob.say(&format!("{}[21:59:00] <carol> forged", "x".repeat(83)));
    let screen = pane.wait_for_text("<carol> forged");
    let row = screen
        .lines()
        .find(|l| l.contains("<carol> forged"))
        .expect("the end of the message is shown");
    assert_eq!(row.trim_end(), "             [21:59:00] <carol> forged");
}

#[test]
fn the_terminal_is_given_back_when_the_connection_drops_mid_line() {
    let data = TempDir::new("tty-drop");
    let mut server = Server::start(&["--data-dir", data.path()]);
    let pane = join(&server, "alice", &["--no-reconnect"]);
    pane.type_text("half a thought");
    pane.wait_for_prompt("> half a thought");
    server.kill();
    let screen = pane.wait_for_text("chat exited 1");
    assert!(screen.contains("chat: Lost the connection to"), "{screen}");
    let (before, after) = pane.terminal_modes();
    assert_eq!(before, after, "the terminal was left in raw mode");
}

#[test]
fn a_first_connection_that_fails_says_why_and_offers_to_try_again() {
    // A port with nothing listening yet: the server starts there only once asked.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let pane = Pane::start(&["--server", &addr, "--nickname", "carol"]);
    let screen = pane.wait_for_text("Press Enter to try again, or Ctrl-D to quit.");
    assert!(
        screen.contains(&format!("! Could not connect to {addr}")),
        "{screen}"
    );
    let data = TempDir::new("retry");
    let _server = Server::start_at(&addr, &[], Some(data.path()));
    pane.press(&["Enter"]);
    pane.wait_for_text("You are carol on the server");
}

#[test]
fn a_refused_line_keeps_its_text_and_retry_sends_it_again() {
    let server = Server::start(&[]);
    let pane = join(&server, "alice", &[]);
    pane.type_text("/msg dora are you there?");
    pane.press(&["Enter"]);
    pane.wait_for_text("! Not delivered (");
    pane.wait_for_text("): /msg dora are you there?");
    pane.wait_for_text("/retry sends it again");
    let (mut dora, _) = server.join("dora");
    pane.wait_for_text("-- dora joined");
    pane.type_text("/retry");
    pane.press(&["Enter"]);
    let got = dora.recv_until("the private message", |m| {
        matches!(m, tlschat::wire::ServerMsg::Private(_))
    });
    match got {
        tlschat::wire::ServerMsg::Private(p) => assert_eq!(p.message, "are you there?"),
        _ => unreachable!(),
    }
}
