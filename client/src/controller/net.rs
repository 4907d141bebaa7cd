//! What the controller does with network events.

use std::time::{Instant, SystemTime};

use tlschat::runtime::words::{not_delivered, refusal_reason, CONNECTION_DROPPED, DISCONNECTED};
use tlschat::runtime::{random_unit, NetEvent};
use tlschat::wire::ServerMsg;

use super::Controller;
use crate::model::room::{Op, Update};
use crate::model::{Delivery, Kind, Line, Phase};
use crate::view::status_bar::Tone;

impl Controller {
    pub(super) fn on_net(&mut self, generation: u64, event: NetEvent) {
        if generation != self.generation {
            // A late event from an attempt we already abandoned.
            return;
        }
        match event {
            NetEvent::Connected {
                server,
                fingerprint,
            } => {
                self.conn.connected(fingerprint);
                let fp = self.conn.fingerprint.as_deref();
                self.view
                    .status_bar()
                    .set_connection(Some(&server), fp, None);
                self.refresh_status();
            }
            NetEvent::Server(msg) => self.on_server(msg),
            NetEvent::Delivered(sent) => {
                let mut update = Update::default();
                self.room.delivered(&mut update, sent);
                self.show(update);
            }
            NetEvent::Garbled(detail) => {
                eprintln!("client: ignored a line from the server: {detail}")
            }
            NetEvent::NotDelivered(messages) => {
                let mut update = Update::default();
                for sent in messages {
                    if self.room.failed(&mut update, sent.id, CONNECTION_DROPPED) {
                        continue;
                    }
                    if let Some(text) = not_delivered(&sent.message, CONNECTION_DROPPED) {
                        self.room
                            .local(&mut update, Line::error(SystemTime::now(), text));
                    }
                }
                self.view.status_bar().set(
                    "A message was not delivered: press Retry beside it",
                    Tone::Failed,
                );
                self.show(update);
            }
            NetEvent::Refused {
                id,
                code,
                reason,
                retry_after_ms,
                ..
            } => {
                let mut update = Update::default();
                let why = refusal_reason(code, &reason);
                if self.room.failed(&mut update, id, &why) {
                    self.view.status_bar().set(
                        &format!("A message was not delivered ({why}): press Retry beside it"),
                        Tone::Failed,
                    );
                    self.show(update);
                } else {
                    self.on_server(ServerMsg::Error {
                        code,
                        message: reason,
                        retry_after_ms,
                    });
                }
            }
            NetEvent::Closed {
                reason,
                retry,
                detail,
                fingerprint,
            } => {
                self.on_closed(&reason, retry, &detail);
                if let Some(fingerprint) = fingerprint {
                    self.view
                        .status_bar()
                        .set_untrusted(&self.conn.server, &fingerprint);
                }
            }
        }
    }

    fn on_server(&mut self, msg: ServerMsg) {
        let software = match &msg {
            ServerMsg::Welcome(w) => Some(format!("{} (protocol {})", w.server, w.protocol)),
            _ => None,
        };
        let from_others = match &msg {
            ServerMsg::Message(m) => Some(m.sender_id),
            ServerMsg::Private(p) => Some(p.sender_id),
            _ => None,
        }
        .is_some_and(|id| self.room.me.as_ref().is_some_and(|me| me.id != id));
        if from_others && !self.view.is_active() {
            let mut update = Update::default();
            self.room.mark_unread(&mut update);
            self.show(update);
        }
        if software.is_some() {
            let server = self.conn.server.clone();
            let previous = self.welcomed_server.replace(server.clone());
            if previous.is_some_and(|p| p != server) {
                let mut update = Update::default();
                let divider = Line::notice(SystemTime::now(), format!("— connected to {server} —"));
                self.room.local(&mut update, divider);
                self.show(update);
            }
        }
        let update = self.room.apply(msg);
        if let Some(software) = software {
            let fp = self.conn.fingerprint.clone();
            self.view.status_bar().set_connection(
                Some(&self.conn.server),
                fp.as_deref(),
                Some(&software),
            );
        }
        self.show(update);
    }

    /// Shows what a server message changed.
    pub(super) fn show(&mut self, update: Update) {
        self.write_transcript(&update.ops);
        self.view.messages().apply(&update.ops);
        if update.users_changed {
            let me = self.room.me.as_ref().map(|m| m.id);
            self.view.users().set_users(self.room.users(), me);
        }
        if update.welcomed {
            self.conn.welcomed();
            self.view.compose().focus();
        }
        if update.me_changed {
            if let Some(me) = &self.room.me {
                // Reconnects log in under the name we have now.
                self.view.connect_bar().set_nickname(&me.nickname);
            }
        }
        if update.password_needed {
            self.password_wanted = true;
            self.view.connect_bar().focus_password();
        }
        if update.welcomed || update.me_changed {
            self.refresh_status();
        }
        if let Some(status) = &update.status {
            if update.login_refused {
                self.conn.login_refused(status);
            }
            self.view.status_bar().set(status, Tone::Failed);
        }
        if update.delivered && self.room.me.is_some() {
            // A message got through: an earlier failure no longer describes the connection.
            self.refresh_status();
        }
        if let Some((title, body)) = &update.alert {
            self.alert(title, body);
        }
    }

    fn on_closed(&mut self, reason: &str, retry: bool, detail: &str) {
        eprintln!(
            "client: connection to {} closed: {reason} ({detail})",
            self.conn.server
        );
        self.net = None;
        let was_online = self.conn.phase == Phase::Online;
        self.room.disconnected();
        self.view.users().set_users(&[], None);
        self.view.status_bar().set_connection(None, None, None);
        // The refusal is already in the list as an error line; do not say it twice.
        let refused = self.conn.is_refused();
        let delay = self
            .conn
            .closed(reason, retry, Instant::now(), random_unit());
        let mut update = Update::default();
        let text = match (&self.conn.phase, delay) {
            (Phase::Offline { reason: None }, _) => DISCONNECTED.to_string(),
            (Phase::Offline { reason: Some(_) }, _) if refused => String::new(),
            (Phase::Offline { reason: Some(r) }, _) => r.clone(),
            (_, Some(_)) if was_online => format!("{reason}. Reconnecting…"),
            _ => String::new(),
        };
        if !text.is_empty() {
            self.room.local(
                &mut update,
                Line::notice(std::time::SystemTime::now(), text),
            );
        }
        self.show(update);
        if delay.is_some() {
            self.start_ticker();
        }
        self.refresh_status();
    }

    /// Appends new rows to the `--log` transcript; a failing disk stops the log, not the chat.
    fn write_transcript(&mut self, ops: &[Op]) {
        let Some(transcript) = &mut self.transcript else {
            return;
        };
        for op in ops {
            // A line waiting for its echo is written once the room has it (or failed).
            let line = match op {
                Op::Insert(_, line) if line.kind == Kind::Marker => continue,
                Op::Insert(_, line) if line.delivery == Delivery::Shown => line,
                Op::Replace(_, line) => line,
                _ => continue,
            };
            {
                if let Err(e) = transcript.write(line) {
                    eprintln!("client: stopped writing the transcript: {e}");
                    self.transcript = None;
                    let text = format!("The transcript could not be written: {e}");
                    self.view.status_bar().set(&text, Tone::Failed);
                    return;
                }
            }
        }
    }
}
