//! `chat`: the terminal client of tlschat, for SSH-only machines, scripts and bots.
//!
//! Run it as `cargo run --bin chat -- --nickname bot [--server HOST:PORT]`. It connects over
//! verified TLS through the same connection code as the GTK client (`tlschat::runtime`), logs
//! in, and then:
//!
//! ```text
//!   stdin ──lines──▶ stdin or editor thread ──┐
//!                                              ├──▶ main loop ──ClientMsg──▶ connection thread ──TLS──▶ server
//!   server ──TLS──▶ connection thread ─────────┘        │
//!                                                        └──one line per event──▶ stdout (`! ...` for errors)
//! ```
//!
//! At a terminal, lines are typed in a line editor (`editor`: history on Up, Tab completes
//! nicknames) and events are printed above its prompt; from a pipe or with `--json`, stdin
//! is read line by line, as scripts expect. Whatever the server relays is printed through
//! `safe`, so other people's text can never act on the terminal.
//!
//! Typed lines go to the room; `/me`, `/msg`, `/nick`, `/quit` and `/help` work as in the
//! GUI. With `--json` every server message is printed as its protocol JSON line instead, for
//! scripts.
//!
//! When an established connection drops (network lost, server restarted), `chat` says so,
//! waits with a jittered exponential `tlschat::runtime::Backoff` and reconnects with `resume`; the server
//! replays what was missed and `tlschat::runtime::shown::Shown` makes sure each message is printed once.
//! Lines typed meanwhile are reported as not sent. `--no-reconnect` turns this off.
//!
//! The exit status is 0 after `/quit` or end of input, and 1 with a sentence on stderr when
//! the server cannot be reached at start, refuses the login (or the comeback), or drops the
//! connection for good.

mod args;
mod editor;
mod output;
#[cfg(test)]
mod properties;
mod render;
mod safe;
mod session;
mod wrap;

use std::io::{self, BufRead};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::{self, Sender};

use tlschat::runtime::{ClientConfig, NetEvent, Resume};

use session::Session;

/// Everything the main loop reacts to, from whichever thread noticed it.
pub enum Event {
    Net(NetEvent),
    Line(String),
    /// End of standard input, or Ctrl-C: leave politely.
    EndOfInput,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // The reason may quote the server (a refusal, a goodbye): shown, never obeyed.
            eprintln!("chat: {}", safe::inline(&message));
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let options = match args::parse(std::env::args().skip(1)) {
        Ok(tlschat::args::Parsed::Help) => {
            print!("{}", args::usage());
            return Ok(());
        }
        Ok(tlschat::args::Parsed::Run(options)) => options,
        Err(e) => return Err(format!("{e} (see --help)")),
    };
    let ca = match &options.ca {
        Some(path) => std::fs::read(path)
            .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?,
        None => tlschat::runtime::connect::BUNDLED_CA.to_vec(),
    };
    let password = options
        .password_file
        .as_deref()
        .map(read_password)
        .transpose()?;
    let (events, inbox) = mpsc::channel();
    // One `Resume` for the whole run: every connection comes back as the identity, and from
    // the place in the history, that the previous one left.
    let resume = Resume::new();
    let mut config = ClientConfig::new(&options.server, &ca, &options.nickname, password);
    config.resume = Some(resume.clone());
    let mut session = Session::new(config, resume, &options, events.clone());
    session.connect();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = events.send(Event::EndOfInput);
    }) {
        eprintln!("chat: Ctrl-C will not quit politely: {e}");
    }
    // The editor puts the terminal in raw mode while it reads; whatever ends the program,
    // the terminal is given back as it was.
    let terminal = session.interactive().then(editor::TerminalMode::save);
    let outcome = session.run(&inbox);
    if let Some(terminal) = terminal {
        terminal.restore();
        if session.on_prompt() {
            // Off the prompt line, so the shell (or our last words) start on a line of their own.
            println!();
        }
    }
    outcome
}

/// Reads the first line of a password file.
fn read_password(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
    let password = text.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(format!("the password file {} is empty", path.display()));
    }
    Ok(password)
}

/// Sends each line of standard input to the main loop, then `EndOfInput`.
pub fn read_input(events: &Sender<Event>) {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line).into_owned();
                if events.send(Event::Line(text)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("chat: cannot read standard input: {e}");
                break;
            }
        }
    }
    let _ = events.send(Event::EndOfInput);
}
