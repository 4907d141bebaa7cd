//! `chat`: the terminal client of tlschat, for SSH-only machines, scripts and bots.
//!
//! Run it as `cargo run --bin chat -- --nickname bot [--server HOST:PORT]`. It connects over
//! verified TLS through the same connection code as the GTK client (`tlschat::client`), logs
//! in, and then:
//!
//! ```text
//!   stdin ──lines──▶ stdin thread ──┐
//!                                    ├──▶ main loop ──ClientMsg──▶ connection thread ──TLS──▶ server
//!   server ──TLS──▶ connection thread┘        │
//!                                              └──one line per event──▶ stdout (`! ...` for errors)
//! ```
//!
//! Typed lines go to the room; `/me`, `/msg`, `/nick`, `/quit` and `/help` work as in the
//! GUI. With `--json` every server message is printed as its protocol JSON line instead, for
//! scripts. The exit status is 0 after `/quit` or end of input, and 1 with a sentence on
//! stderr when the server cannot be reached, refuses the login, or drops the connection.

#[path = "chat/args.rs"]
mod args;
#[path = "chat/command.rs"]
mod command;
#[path = "chat/render.rs"]
mod render;

use std::io::{self, BufRead, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use tlschat::client::{self, ClientConfig, ClientHandle, NetEvent};
use tlschat::{ClientMsg, ServerMsg};

use command::Command;

/// How long to wait for the server to close after we said `quit`.
const QUIT_GRACE: Duration = Duration::from_secs(2);

/// Everything the main loop reacts to, from whichever thread noticed it.
enum Event {
    Net(NetEvent),
    Line(String),
    /// End of standard input, or Ctrl-C: leave politely.
    EndOfInput,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("chat: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let options = match args::parse(std::env::args().skip(1))? {
        args::Parsed::Help => {
            println!("{}", args::USAGE);
            return Ok(());
        }
        args::Parsed::Run(options) => options,
    };
    let ca = match &options.ca {
        Some(path) => std::fs::read(path)
            .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?,
        None => tlschat::connect::BUNDLED_CA.to_vec(),
    };
    let password = options
        .password_file
        .as_deref()
        .map(read_password)
        .transpose()?;
    let (events, inbox) = mpsc::channel();
    let net_events = events.clone();
    let config = ClientConfig::new(&options.server, &ca, &options.nickname, password);
    let handle = client::spawn(config, move |event| {
        // The main loop may already be gone after a quit; nothing is left to tell then.
        let _ = net_events.send(Event::Net(event));
    });
    let interrupt = events.clone();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = interrupt.send(Event::EndOfInput);
    }) {
        eprintln!("chat: Ctrl-C will not quit politely: {e}");
    }
    let mut session = Session {
        handle,
        server: options.server.clone(),
        json: options.json,
        me: None,
        refusal: None,
        leaving: None,
        events,
        stdout: io::stdout(),
    };
    session.run(&inbox)
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

struct Session {
    handle: ClientHandle,
    server: String,
    json: bool,
    /// Our user id, once welcomed.
    me: Option<u64>,
    /// The server's explanation of why it is refusing our login, if it gave one.
    refusal: Option<String>,
    /// When we stop waiting for the server to close after our `quit`.
    leaving: Option<Instant>,
    events: Sender<Event>,
    stdout: io::Stdout,
}

impl Session {
    fn run(&mut self, inbox: &mpsc::Receiver<Event>) -> Result<(), String> {
        loop {
            let event = match self.leaving {
                None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(deadline) => {
                    inbox.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                }
            };
            let event = match event {
                Ok(event) => event,
                // The server did not close in time after our quit: we are done anyway.
                Err(RecvTimeoutError::Timeout) => return Ok(()),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err("the connection thread stopped unexpectedly".into())
                }
            };
            match event {
                Event::Net(NetEvent::Closed { reason, .. }) => return self.closed(reason),
                Event::Net(net) => self.net_event(net),
                Event::Line(line) => self.command(command::parse(&line)),
                Event::EndOfInput => self.leave(),
            }
        }
    }

    fn closed(&mut self, reason: String) -> Result<(), String> {
        if self.leaving.is_some() {
            return Ok(());
        }
        match (self.me, self.refusal.take()) {
            (None, Some(refusal)) => Err(format!("{} refused the login: {refusal}", self.server)),
            _ => Err(reason),
        }
    }

    fn net_event(&mut self, event: NetEvent) {
        match event {
            NetEvent::Connected { server, .. } if !self.json => {
                self.print(&format!(
                    "[{}] * Connected to {server}, logging in",
                    render::clock(SystemTime::now())
                ));
            }
            NetEvent::Connected { .. } => {}
            NetEvent::Server(msg) => self.server_msg(msg),
            NetEvent::Garbled(detail) => {
                self.note(&format!(
                    "! The server sent a line this client does not understand: {detail}"
                ));
            }
            NetEvent::Closed { .. } => {}
        }
    }

    fn server_msg(&mut self, msg: ServerMsg) {
        if let ServerMsg::Error { message, .. } = &msg {
            if self.me.is_none() {
                self.refusal = Some(message.clone());
            }
        }
        if self.json {
            let line = tlschat::encode(&msg);
            self.write(&String::from_utf8_lossy(&line));
        } else {
            for line in render::server_msg(&msg, self.me) {
                self.print(&line);
            }
        }
        if let ServerMsg::Welcome(welcome) = &msg {
            if self.me.is_none() {
                self.me = Some(welcome.id);
                self.start_reading_input();
            }
        }
    }

    fn command(&mut self, command: Command) {
        let msg = match command {
            Command::Say(message) => ClientMsg::Broadcast {
                message,
                action: false,
            },
            Command::Action(message) => ClientMsg::Broadcast {
                message,
                action: true,
            },
            Command::Private { to, text } => ClientMsg::Private {
                to,
                message: text,
                action: false,
            },
            Command::Nick(nickname) => match tlschat::validate_nickname(&nickname) {
                Ok(()) => ClientMsg::Login {
                    nickname,
                    password: None,
                },
                Err(e) => return self.note(&format!("! Bad nickname: {e}")),
            },
            Command::Quit => return self.leave(),
            Command::Help => {
                for line in command::HELP {
                    self.note(line);
                }
                return;
            }
            Command::Nothing => return,
            Command::Invalid(why) => return self.note(&format!("! {why}")),
        };
        if let Err(e) = self.handle.send(&msg) {
            self.note(&format!("! {e}"));
        }
    }

    fn leave(&mut self) {
        if self.leaving.is_none() {
            self.handle.quit();
            self.leaving = Some(Instant::now() + QUIT_GRACE);
        }
    }

    /// Reads stdin on its own thread once logged in, so that lines typed (or piped) early
    /// are sent after the login rather than refused.
    fn start_reading_input(&self) {
        let events = self.events.clone();
        let spawned = thread::Builder::new()
            .name("stdin".into())
            .spawn(move || read_input(&events));
        if let Err(e) = spawned {
            eprintln!("chat: cannot read standard input: {e}");
            let _ = self.events.send(Event::EndOfInput);
        }
    }

    /// An event line on stdout.
    fn print(&mut self, line: &str) {
        self.write(&format!("{line}\n"));
    }

    /// A line from this program rather than the server: stdout, or stderr when stdout is
    /// reserved for JSON.
    fn note(&mut self, line: &str) {
        if self.json {
            eprintln!("{line}");
        } else {
            self.print(line);
        }
    }

    fn write(&mut self, text: &str) {
        let mut out = self.stdout.lock();
        if out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            // Nobody reads our output any more (a closed pipe): leave the room.
            drop(out);
            self.leave();
        }
    }
}

fn read_input(events: &Sender<Event>) {
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
