//! What the controller does with the message entry: commands, recall, completion.

use std::time::SystemTime;

use tlschat::runtime::command::{self, Command, COMMANDS};
use tlschat::runtime::words::NOTHING_TO_RETRY;
use tlschat::wire::ClientMsg;

use super::Controller;
use crate::model::room::Update;
use crate::model::Line;
use crate::view::status_bar::Tone;

impl Controller {
    /// Enter with `raw` in the entry, which keeps it until it is sent.
    pub(super) fn submit(&mut self, raw: &str) {
        if let Some(problem) = command::too_long(raw) {
            // Kept in the entry as typed: the user decides what to cut.
            self.view.status_bar().set(&problem, Tone::Failed);
            return;
        }
        let Some(command) = command::parse(raw) else {
            return;
        };
        let sent = match command {
            Command::Nick(nick) => {
                self.view.connect_bar().set_nickname(&nick);
                if self.conn.is_live() {
                    let fields = self.view.connect_bar().fields();
                    self.login(&fields);
                } else {
                    self.local_notice(&format!(
                        "Your nickname will be {nick}: press Login to join"
                    ));
                }
                true
            }
            Command::Retry => match self.room.latest_failed() {
                Some(id) => {
                    self.retry(id);
                    true
                }
                None => {
                    self.local_error(NOTHING_TO_RETRY);
                    false
                }
            },
            Command::Quit(reason) => {
                self.quit(reason);
                true
            }
            Command::Help => {
                for help in COMMANDS {
                    self.local_notice(&format!("{}: {}", help.usage, help.meaning));
                }
                self.local_notice(
                    "Login comes back after /quit; Tab completes nicknames; Up and Down recall what you sent.",
                );
                true
            }
            other => match (other.chat_message(), other.mistake()) {
                (Some(msg), _) => self.send(msg),
                (None, Some(mistake)) => {
                    self.local_error(&mistake);
                    false
                }
                (None, None) => false,
            },
        };
        // A message that could not be sent stays in the entry, so nothing typed is lost.
        if sent {
            // Writing means reading: the "New messages" line has done its job.
            let mut update = Update::default();
            self.room.clear_unread(&mut update);
            self.show(update);
            self.recall.push(raw);
            self.view.compose().clear_sent(raw);
        }
    }

    fn send(&mut self, msg: ClientMsg) -> bool {
        let result = match &self.net {
            Some(net) if self.conn.is_live() => net.send(&msg),
            _ => Err(tlschat::runtime::SendError::NotConnected),
        };
        match result {
            Ok(sent) => {
                // Shown at once, as pending, until the server's echo takes its place.
                let mut update = Update::default();
                self.room.sending(&mut update, sent, msg);
                self.show(update);
                true
            }
            Err(e) => {
                let text = e.to_string();
                self.view.status_bar().set(&text, Tone::Failed);
                self.local_error(&text);
                false
            }
        }
    }

    /// Sends a message that was not delivered again, as a new line at the end.
    pub(super) fn retry(&mut self, id: u64) {
        if !self.conn.is_live() {
            let text = "Not connected: press Retry again once reconnected";
            self.view.status_bar().set(text, Tone::Failed);
            return;
        }
        let mut update = Update::default();
        let Some(msg) = self.room.retry(&mut update, id) else {
            return;
        };
        self.show(update);
        self.send(msg);
    }

    fn quit(&mut self, reason: Option<String>) {
        let Some(net) = self.net.take() else {
            self.local_notice("You are not connected");
            return;
        };
        self.conn.quitting();
        // Leaving on purpose: the next Login is a fresh arrival, not a resumed session.
        self.resume.forget_identity();
        net.quit_with_reason(reason);
        // Keep listening to this attempt: its Closed event ends the session cleanly.
        self.net = Some(net);
    }

    /// Up, with `current` in the entry (kept as the draft when browsing starts).
    pub(super) fn recall_previous(&mut self, current: &str) {
        if let Some(text) = self.recall.previous(current) {
            self.view.compose().set_text(&text);
        }
    }

    pub(super) fn recall_next(&mut self) {
        if let Some(text) = self.recall.next() {
            self.view.compose().set_text(&text);
        }
    }

    /// Tab, with `text` in the entry and the cursor at byte offset `cursor`.
    pub(super) fn complete(&mut self, text: &str, cursor: usize) {
        let names = self.room.nicknames();
        if let Some((new_text, new_cursor)) = self.completer.complete(text, cursor, &names) {
            self.view
                .compose()
                .set_text_with_cursor(&new_text, new_cursor);
        }
    }

    pub(super) fn query(&mut self, nick: &str) {
        let compose = self.view.compose();
        compose.set_text(&format!("/msg {nick} "));
        compose.focus_without_selecting();
    }

    fn local_notice(&mut self, text: &str) {
        let mut update = Update::default();
        self.room
            .local(&mut update, Line::notice(SystemTime::now(), text));
        self.show(update);
    }

    pub(super) fn local_error(&mut self, text: &str) {
        let mut update = Update::default();
        self.room
            .local(&mut update, Line::error(SystemTime::now(), text));
        self.show(update);
    }
}
