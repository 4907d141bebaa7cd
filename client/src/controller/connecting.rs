//! Connecting, as the user drives it: the connection fields, the Login button (Login, Retry,
//! Disconnect, Reconnect now), switching servers, and the reconnect countdown.

use std::time::{Duration, Instant};

use async_channel::TrySendError;
use gtk::glib;
use tlschat::runtime::{ClientConfig, Resume};
use tlschat::wire::ClientMsg;

use super::Controller;
use crate::event::Event;
use crate::model::connection::Button;
use crate::model::Phase;
use crate::network::Network;
use crate::view::connect_bar::LoginFields;
use crate::view::status_bar::Tone;

impl Controller {
    /// Login with what the connection fields hold: change nickname on a live connection to
    /// the same server, else (re)connect.
    pub(super) fn login(&mut self, fields: &LoginFields) {
        let bar = self.view.connect_bar();
        let server = match tlschat::runtime::address::parse_server(&fields.server) {
            Ok(server) => server,
            Err(why) => {
                let text = why.to_string();
                bar.show_server_problem(Some(&text));
                self.view.status_bar().set(&text, Tone::Failed);
                bar.focus_server();
                return;
            }
        };
        bar.show_server_problem(None);
        let nickname = fields.nickname.trim().to_string();
        if let Err(why) = tlschat::wire::validate_nickname(&nickname) {
            let text = format!("Choose a nickname first: {why}");
            self.view.status_bar().set(&text, Tone::Failed);
            bar.focus_nickname();
            return;
        }
        bar.set_server(&server);
        let password = self.password(&fields.password);
        if self.conn.is_live() && server == self.conn.server {
            if self
                .room
                .me
                .as_ref()
                .is_some_and(|me| me.nickname == nickname)
            {
                return;
            }
            self.room.requested_nickname = nickname.clone();
            self.room.sent_password = password.is_some();
            let login = ClientMsg::Login { nickname, password };
            if let Some(Err(e)) = self.net.as_ref().map(|n| n.send(&login)) {
                self.view.status_bar().set(&e.to_string(), Tone::Failed);
            }
            return;
        }
        let switching = self.conn.is_live() && server != self.conn.server;
        if server != self.conn.server {
            self.resume = Resume::new();
        }
        if switching {
            // Leave the old room on purpose, so it sees a quit rather than a ghost.
            self.leave_quietly();
        }
        self.conn.user_started(&server);
        self.connect(&server, &nickname, &fields.password);
    }

    /// The Login button, whose meaning follows the connection's phase.
    pub(super) fn button(&mut self, fields: &LoginFields) {
        match self.conn.button() {
            Button::Login | Button::Retry => self.login(fields),
            Button::Disconnect => self.disconnect(),
            Button::ReconnectNow => {
                let server = self.conn.server.clone();
                self.conn.start(&server);
                self.connect(&server, fields.nickname.trim(), &fields.password);
            }
        }
    }

    /// Leaves the room cleanly; Login comes back as a fresh arrival.
    fn disconnect(&mut self) {
        if self.net.is_none() {
            return;
        }
        self.conn.quitting();
        self.resume.forget_identity();
        if let Some(net) = &self.net {
            net.quit();
        }
        self.refresh_status();
    }

    /// Quits the current connection and forgets it: its late events are ignored.
    fn leave_quietly(&mut self) {
        if let Some(old) = self.net.take() {
            old.quit();
        }
        self.generation += 1;
        self.room.disconnected();
        self.view.users().set_users(&[], None);
    }

    /// The password to send: what was `typed`, once the server has asked for one.
    fn password(&self, typed: &str) -> Option<String> {
        (self.password_wanted && !typed.is_empty()).then(|| typed.to_string())
    }

    /// Starts a connection attempt (after `conn.start`), abandoning any previous one.
    fn connect(&mut self, server: &str, nickname: &str, typed_password: &str) {
        if let Some(old) = self.net.take() {
            // `quit` says goodbye on a live connection and abandons one still opening.
            old.quit();
        }
        self.generation += 1;
        let password = self.password(typed_password);
        self.room.requested_nickname = nickname.to_string();
        self.room.sent_password = password.is_some();
        let mut config = ClientConfig::new(server, &self.ca_pem, nickname, password);
        config.resume = Some(self.resume.clone());
        self.net = Some(Network::start(config, self.generation, self.events.clone()));
        self.refresh_status();
    }

    /// The countdown to the next reconnect attempt.
    pub(super) fn tick(&mut self) {
        if !matches!(self.conn.phase, Phase::Waiting { .. }) {
            if let Some(ticker) = self.ticker.take() {
                ticker.remove();
            }
            return;
        }
        if self.conn.due(Instant::now()) {
            let server = self.conn.server.clone();
            // The fields as the user left them, as a Login would use them.
            let fields = self.view.connect_bar().fields();
            self.conn.start(&server);
            self.connect(&server, fields.nickname.trim(), &fields.password);
        } else {
            self.refresh_status();
        }
    }

    pub(super) fn start_ticker(&mut self) {
        if self.ticker.is_some() {
            return;
        }
        let events = self.events.clone();
        let id = glib::timeout_add_local(Duration::from_millis(250), move || {
            match events.try_send(Event::Tick) {
                // Full: the controller is busy; the next tick comes soon enough.
                Ok(()) | Err(TrySendError::Full(_)) => glib::ControlFlow::Continue,
                Err(TrySendError::Closed(_)) => glib::ControlFlow::Break,
            }
        });
        self.ticker = Some(id);
    }
}
