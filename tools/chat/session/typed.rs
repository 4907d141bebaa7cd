//! What the user typed: commands and messages, and leaving on purpose.

use std::time::{Duration, Instant};

use tlschat::runtime::command::{self, Command, COMMANDS};
use tlschat::runtime::words::NOTHING_TO_RETRY;
use tlschat::runtime::{self, SendError};
use tlschat::wire::ClientMsg;

use super::Session;

/// How long to wait for the server to close after we said `quit`.
const QUIT_GRACE: Duration = Duration::from_secs(2);

impl Session {
    pub(super) fn command(&mut self, line: &str) {
        let Some(command) = command::parse(line) else {
            return;
        };
        let msg = match command {
            Command::Nick(nickname) => match tlschat::wire::validate_nickname(&nickname) {
                Ok(()) => ClientMsg::Login {
                    nickname,
                    password: None,
                },
                Err(e) => return self.note(&format!("! Bad nickname: {e}")),
            },
            Command::Retry => match self.refused.take() {
                Some(msg) => msg,
                None => return self.note(&format!("! {NOTHING_TO_RETRY}")),
            },
            Command::Quit(reason) => return self.leave(reason),
            Command::Help => {
                self.note("Commands:");
                self.note("  TEXT              send TEXT to the room");
                for help in COMMANDS {
                    self.note(&format!("  {:<18}{}", help.usage, help.meaning));
                }
                self.note("End of input (Ctrl-D) leaves too. At a terminal: Up recalls what you sent, Tab completes nicknames.");
                return;
            }
            other => match (other.chat_message(), other.mistake()) {
                (Some(msg), _) => msg,
                (_, Some(mistake)) => return self.note(&format!("! {mistake}")),
                (None, None) => return,
            },
        };
        let sent = match &self.handle {
            Some(handle) if self.online => handle.send(&msg),
            _ => Err(SendError::NotConnected),
        };
        match sent {
            Ok(_) => {
                let held = self.handle.as_ref().map_or(0, runtime::ClientHandle::held);
                if held > 0 {
                    self.note(&format!(
                        "-- {held} waiting: sent as fast as the server's flood limit allows"
                    ));
                }
            }
            Err(SendError::NotConnected) => {
                let text = line.trim_end_matches(['\r', '\n']);
                self.note(&format!("! Not connected: not sent: {text}"));
            }
            Err(e) => self.note(&format!("! {e}")),
        }
    }

    pub(super) fn leave(&mut self, reason: Option<String>) {
        if self.leaving.is_some() {
            return;
        }
        // A deliberate goodbye: the server may forget us at once, and so do we.
        self.resume.forget_identity();
        if let Some(handle) = &self.handle {
            handle.quit_with_reason(reason);
        }
        // Between two connections there is nobody to say goodbye to.
        let waiting = self.retry_at.take().is_some();
        let grace = if waiting { Duration::ZERO } else { QUIT_GRACE };
        self.leaving = Some(Instant::now() + grace);
    }
}
