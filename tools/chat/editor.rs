//! Typing at a terminal: a line editor (rustyline) with history on Up, the usual editing
//! keys and Tab completion of nicknames, that prints incoming lines above the prompt so they
//! never splice into what is being typed (issue 10, item 4).
//!
//! Only when both standard input and output are terminals: scripts, pipes and `--json`
//! keep reading plain lines ([`crate::read_input`]).

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Config, Context, Editor, ExternalPrinter};
use tlschat::runtime::completion::nickname_completions;

use tlschat::wire::ServerMsg;

use crate::Event;
use tlschat::runtime::command::{self, Command};

const PROMPT: &str = "> ";
/// How many typed lines Up can bring back.
const HISTORY: usize = 500;

/// Whether to use the line editor: a person at a terminal, not a script.
pub fn wanted(json: bool) -> bool {
    !json && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Who is in the room, for Tab: kept up to date by the session, read by the editor.
#[derive(Debug, Clone, Default)]
pub struct Names(Arc<Mutex<Vec<(u64, String)>>>);

impl Names {
    pub fn set(&self, users: impl IntoIterator<Item = (u64, String)>) {
        *self.lock() = users.into_iter().collect();
    }

    /// Adds or renames user `id`.
    pub fn put(&self, id: u64, nickname: &str) {
        let mut names = self.lock();
        match names.iter_mut().find(|(i, _)| *i == id) {
            Some(entry) => entry.1 = nickname.to_string(),
            None => names.push((id, nickname.to_string())),
        }
    }

    pub fn remove(&self, id: u64) {
        self.lock().retain(|(i, _)| *i != id);
    }

    /// Follows arrivals, departures and renames; `me` is left out (nobody completes
    /// their own name).
    pub fn observe(&self, msg: &ServerMsg) {
        match msg {
            ServerMsg::Welcome(w) => self.set(
                w.users
                    .iter()
                    .filter(|u| u.id != w.id)
                    .map(|u| (u.id, u.nickname.clone())),
            ),
            ServerMsg::Join { id, nickname, .. } => self.put(*id, nickname),
            ServerMsg::Leave { id, .. } => self.remove(*id),
            ServerMsg::Rename {
                id, new_nickname, ..
            } if self.lock().iter().any(|(i, _)| i == id) => self.put(*id, new_nickname),
            _ => {}
        }
    }

    pub fn list(&self) -> Vec<String> {
        self.lock().iter().map(|(_, n)| n.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, String)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Helper {
    names: Names,
}

impl Completer for Helper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(nickname_completions(line, pos, &self.names.list()))
    }
}

impl Hinter for Helper {
    type Hint = String;
}

impl Highlighter for Helper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for Helper {}

impl rustyline::Helper for Helper {}

/// Where the session's lines go while the editor runs: a thread that hands them to the
/// editor's printer, so that the session never waits on the terminal.
pub struct Printer {
    lines: Option<Sender<String>>,
    thread: Option<JoinHandle<()>>,
    /// The cursor is on the prompt line (not after an Enter).
    on_prompt: Arc<AtomicBool>,
}

impl Printer {
    pub fn print(&self, line: String) {
        if let Some(lines) = &self.lines {
            let _ = lines.send(line);
        }
    }

    /// Whether the cursor is still on the prompt line, so that whatever comes after the
    /// editor needs a line of its own.
    pub fn on_prompt(&self) -> bool {
        self.on_prompt.load(Ordering::SeqCst)
    }

    /// Waits (briefly) until what was printed is on the screen.
    pub fn finish(&mut self) {
        self.lines = None;
        if let Some(thread) = self.thread.take() {
            let deadline = Instant::now() + Duration::from_millis(500);
            while !thread.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// Starts the editor on its own thread: each line typed becomes an [`Event::Line`], end of
/// input (Ctrl-D) or Ctrl-C an [`Event::EndOfInput`].
pub fn start(events: Sender<Event>, names: Names) -> Result<Printer, ReadlineError> {
    let config = Config::builder()
        .max_history_size(HISTORY)?
        .auto_add_history(false)
        .build();
    let mut editor: Editor<Helper, DefaultHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(Helper { names }));
    let mut printer = editor.create_external_printer()?;
    let (lines, queued) = mpsc::channel::<String>();
    let printing = thread::Builder::new()
        .name("printer".into())
        .spawn(move || {
            for line in queued {
                if printer.print(line).is_err() {
                    return;
                }
            }
        })?;
    let on_prompt = Arc::new(AtomicBool::new(true));
    let editing = Arc::clone(&on_prompt);
    thread::Builder::new()
        .name("editor".into())
        .spawn(move || edit(&mut editor, &events, &editing))?;
    Ok(Printer {
        lines: Some(lines),
        thread: Some(printing),
        on_prompt,
    })
}

fn edit(
    editor: &mut Editor<Helper, DefaultHistory>,
    events: &Sender<Event>,
    on_prompt: &AtomicBool,
) {
    loop {
        on_prompt.store(true, Ordering::SeqCst);
        let read = editor.readline(PROMPT);
        // However it ended (Enter, Ctrl-D, Ctrl-C), the editor moved to a fresh line.
        on_prompt.store(false, Ordering::SeqCst);
        match read {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let quit = matches!(command::parse(&line), Some(Command::Quit(_)));
                if events.send(Event::Line(line)).is_err() || quit {
                    // No prompt after /quit: the session is leaving.
                    return;
                }
            }
            Err(ReadlineError::Eof | ReadlineError::Interrupted) => break,
            Err(e) => {
                eprintln!("chat: cannot read the terminal: {e}");
                break;
            }
        }
    }
    let _ = events.send(Event::EndOfInput);
}

/// The terminal's settings at start, put back at exit: the editor switches the terminal to
/// raw mode while it reads, and the program may end (a dropped connection) in mid-read.
pub struct TerminalMode(Option<libc::termios>);

impl TerminalMode {
    pub fn save() -> TerminalMode {
        // SAFETY: tcgetattr only writes into the termios we own, for a valid descriptor.
        let mut mode: libc::termios = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut mode) } == 0;
        TerminalMode(ok.then_some(mode))
    }

    pub fn restore(&self) {
        if let Some(mode) = &self.0 {
            // SAFETY: tcsetattr reads the termios saved above; nothing else is touched.
            unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, mode) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_follow_the_room() {
        let n = Names::default();
        n.set([(1, "alice".to_string()), (2, "bob".to_string())]);
        n.put(3, "carol");
        n.put(2, "robert");
        n.remove(1);
        assert_eq!(n.list(), names(&["robert", "carol"]));
    }
}
