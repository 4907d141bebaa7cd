//! The main loop of the terminal client: one connection at a time, printed one line per
//! event, and the policy for coming back after a drop.

use std::ops::ControlFlow;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Instant, SystemTime};

use tlschat::runtime::reconnect::reconnects_by_itself;
use tlschat::runtime::{self, Backoff, ClientConfig, ClientHandle, NetEvent, Resume};
use tlschat::wire::{ClientMsg, ServerMsg, Welcome};

use crate::args::Options;
use crate::output::Output;
use crate::{editor, read_input, render, safe, Event};
use tlschat::runtime::words::{not_delivered, refusal_reason, CONNECTION_DROPPED};

mod typed;

/// Everything the client remembers while it runs.
pub struct Session {
    /// The current connection (or the last one, while waiting to reconnect).
    handle: Option<ClientHandle>,
    config: ClientConfig,
    resume: Resume,
    server: String,
    json: bool,
    /// Reconnect by ourselves after a connection that had logged in drops.
    reconnect: bool,
    /// Our user id, once welcomed.
    me: Option<u64>,
    /// Welcomed on the current connection.
    online: bool,
    /// The server's explanation of why it is refusing our login, if it gave one.
    refusal: Option<String>,
    /// When we stop waiting for the server to close after our `quit`.
    leaving: Option<Instant>,
    /// When to try connecting again after a drop.
    retry_at: Option<Instant>,
    /// The latest message that was not delivered, for `/retry`.
    refused: Option<ClientMsg>,
    backoff: Backoff,
    shown: tlschat::runtime::shown::Shown,
    events: Sender<Event>,
    output: Output,
    /// Use the line editor once logged in (a person at a terminal).
    interactive: bool,
    /// Who is online, for the editor's Tab completion.
    names: editor::Names,
}

impl Session {
    /// A session that connects with `config` (whose `resume` is `resume`) once
    /// [`Session::connect`] is called; `events` feeds the main loop.
    pub fn new(
        config: ClientConfig,
        resume: Resume,
        options: &Options,
        events: Sender<Event>,
    ) -> Session {
        Session {
            handle: None,
            config,
            resume,
            server: options.server.clone(),
            json: options.json,
            reconnect: options.reconnect,
            me: None,
            online: false,
            refusal: None,
            leaving: None,
            retry_at: None,
            refused: None,
            backoff: Backoff::default(),
            shown: tlschat::runtime::shown::Shown::default(),
            events,
            output: Output::plain(options.json),
            interactive: editor::wanted(options.json),
            names: editor::Names::default(),
        }
    }

    /// Reacts to events until the program is done, with its outcome.
    pub fn run(&mut self, inbox: &mpsc::Receiver<Event>) -> Result<(), String> {
        let outcome = self.react(inbox);
        self.output.finish();
        outcome
    }

    /// Whether the line editor is (going to be) in use.
    pub fn interactive(&self) -> bool {
        self.interactive
    }

    /// Whether the editor's prompt is still on the last line of the screen.
    pub fn on_prompt(&self) -> bool {
        self.output.on_prompt()
    }

    fn react(&mut self, inbox: &mpsc::Receiver<Event>) -> Result<(), String> {
        loop {
            let deadline = match (self.leaving, self.retry_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let event = match deadline {
                None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(deadline) => {
                    inbox.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                }
            };
            let event = match event {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => {
                    let now = Instant::now();
                    // The server did not close in time after our quit: we are done anyway.
                    if self.leaving.is_some_and(|at| at <= now) {
                        return Ok(());
                    }
                    if self.retry_at.is_some_and(|at| at <= now) {
                        self.retry_at = None;
                        self.connect();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err("the connection thread stopped unexpectedly".into())
                }
            };
            match event {
                Event::Net(NetEvent::Closed { reason, retry, .. }) => {
                    if let ControlFlow::Break(outcome) = self.closed(reason, retry) {
                        return outcome;
                    }
                }
                Event::Net(net) => self.net_event(net),
                Event::Line(line) => self.command(&line),
                Event::EndOfInput => self.leave(None),
            }
        }
    }

    /// Starts a connection; it logs in, or resumes once we have been welcomed.
    pub fn connect(&mut self) {
        let events = self.events.clone();
        self.handle = Some(runtime::spawn(self.config.clone(), move |event| {
            // The main loop may already be gone after a quit; nothing is left to tell then.
            let _ = events.send(Event::Net(event));
        }));
    }

    /// The connection is over: stop with the outcome, or wait to reconnect.
    fn closed(&mut self, reason: String, retry: bool) -> ControlFlow<Result<(), String>> {
        let was_online = std::mem::replace(&mut self.online, false);
        let refusal = self.refusal.take();
        if self.leaving.is_some() {
            return ControlFlow::Break(Ok(()));
        }
        if let (false, Some(refusal)) = (was_online, refusal) {
            let refused = format!("{} refused the login: {refusal}", self.server);
            return ControlFlow::Break(Err(refused));
        }
        // A server unreachable at start is an error to report, not a reason to wait: scripts
        // rely on that, and a person at a terminal is asked, as the GUI offers Retry. Once we
        // have been in the room, we come back by ourselves unless told not to.
        if self.me.is_none() && retry && self.interactive {
            self.note(&format!("! {reason}"));
            if ask_to_try_again() {
                self.connect();
                return ControlFlow::Continue(());
            }
            return ControlFlow::Break(Err(reason));
        }
        // `retry` already says whether the server's goodbye invites coming back.
        if !reconnects_by_itself(self.me.is_some(), retry) || !self.reconnect {
            return ControlFlow::Break(Err(reason));
        }
        let delay = self.backoff.next_delay();
        self.note(&format!(
            "! {reason}; reconnecting in {} (attempt {})",
            tlschat::runtime::words::delay(delay),
            self.backoff.attempt
        ));
        self.retry_at = Some(Instant::now() + delay);
        ControlFlow::Continue(())
    }

    fn net_event(&mut self, event: NetEvent) {
        match event {
            // A comeback is announced by "! Reconnected" once welcomed.
            NetEvent::Connected { server, .. } if !self.json && self.me.is_none() => {
                self.print(&format!(
                    "[{}] -- Connected to {server}, logging in",
                    render::clock(SystemTime::now())
                ));
            }
            NetEvent::Connected { .. } => {}
            NetEvent::Server(msg) => self.server_msg(msg),
            // Its echo was printed just before, as the room's.
            NetEvent::Delivered(_) => {}
            NetEvent::Garbled(detail) => {
                self.note(&format!(
                    "! The server sent a line this client does not understand: {detail}"
                ));
            }
            NetEvent::NotDelivered(messages) => {
                for sent in messages {
                    if let Some(text) = not_delivered(&sent.message, CONNECTION_DROPPED) {
                        self.note(&format!("! {text}; /retry sends it again"));
                        self.refused = Some(sent.message);
                    }
                }
            }
            // Nothing typed is lost: the line is shown with why, and /retry sends it again.
            NetEvent::Refused {
                message,
                code,
                reason,
                ..
            } => match not_delivered(&message, &refusal_reason(code, &reason)) {
                Some(text) => {
                    self.note(&format!("! {text}; /retry sends it again"));
                    self.refused = Some(message);
                }
                None => self.note(&format!("! {reason}")),
            },
            NetEvent::Closed { .. } => {}
        }
    }

    fn server_msg(&mut self, msg: ServerMsg) {
        match &msg {
            ServerMsg::Error { message, .. } if !self.online => {
                self.refusal = Some(message.clone());
            }
            _ => {}
        }
        self.names.observe(&msg);
        // What a replay repeats of what we already printed is not printed again.
        let Some(msg) = self.shown.fresh(msg) else {
            return;
        };
        if let ServerMsg::Welcome(welcome) = &msg {
            self.welcomed(welcome);
        }
        if self.json {
            let line = tlschat::wire::encode(&msg);
            self.write(&safe::json(&String::from_utf8_lossy(&line)));
        } else {
            for line in render::server_msg(&msg, self.me) {
                self.print(&line);
            }
        }
    }

    fn welcomed(&mut self, welcome: &Welcome) {
        self.online = true;
        self.backoff.reset();
        if self.me.replace(welcome.id).is_none() {
            self.start_reading_input();
            return;
        }
        self.note("! Reconnected");
        if let Some(missed) = welcome.missed {
            self.note(&format!(
                "! Messages #{} to #{} are no longer kept on the server",
                missed.from, missed.to
            ));
        }
    }

    /// Reads stdin on its own thread once logged in, so that lines typed (or piped) early
    /// are sent after the login rather than refused.
    fn start_reading_input(&mut self) {
        if self.interactive {
            match editor::start(self.events.clone(), self.names.clone()) {
                Ok(printer) => {
                    self.output = Output::Editor(printer);
                    return;
                }
                Err(e) => {
                    self.interactive = false;
                    self.note(&format!("! No line editing on this terminal ({e})"));
                }
            }
        }
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
    /// reserved for JSON. Notes quote the server (reasons, garbled lines) and what was
    /// typed, so they go through [`safe::inline`] too.
    fn note(&mut self, line: &str) {
        let line = &safe::inline(line);
        if self.json {
            eprintln!("{line}");
        } else {
            self.print(line);
        }
    }

    fn write(&mut self, text: &str) {
        if self.output.write(text).is_err() {
            // Nobody reads our output any more (a closed pipe): leave the room.
            self.leave(None);
        }
    }
}

/// Asks the person at the terminal whether to try connecting again: Enter for yes, end of
/// input (Ctrl-D) for no. Only before the first login, when nothing else reads stdin.
fn ask_to_try_again() -> bool {
    use std::io::Write;
    print!("Press Enter to try again, or Ctrl-D to quit. ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let answered = matches!(std::io::stdin().read_line(&mut line), Ok(n) if n > 0);
    println!();
    answered
}
