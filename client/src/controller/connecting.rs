//! Connecting, as the user drives it: the connection fields, the Login button (Login, Retry,
//! Disconnect, Reconnect now), switching servers, and the reconnect countdown.

use std::time::{Duration, Instant};

use gtk::glib;
use gtk::prelude::*;
use tlschat::runtime::{ClientConfig, Resume};
use tlschat::wire::ClientMsg;

use super::{Controller, Event};
use crate::model::connection::Button;
use crate::model::Phase;
use crate::network::Network;
use crate::view::status_bar::Tone;

impl Controller {
    /// Login: change nickname on a live connection to the same server, else (re)connect.
    pub(super) fn login(&mut self) {
        let bar = &self.view.connect_bar;
        let server = match tlschat::runtime::address::parse_server(&bar.server.text()) {
            Ok(server) => server,
            Err(why) => {
                let text = why.to_string();
                bar.show_server_problem(Some(&text));
                self.view.status.set(&text, Tone::Failed);
                bar.server.grab_focus();
                return;
            }
        };
        bar.show_server_problem(None);
        let nickname = bar.nickname.text().trim().to_string();
        if let Err(why) = tlschat::wire::validate_nickname(&nickname) {
            let text = format!("Choose a nickname first: {why}");
            self.view.status.set(&text, Tone::Failed);
            self.view.connect_bar.nickname.grab_focus();
            return;
        }
        bar.server.set_text(&server);
        let password = self.password();
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
            if let Err(e) = self.net.as_ref().map_or(Ok(()), |n| n.send(&login)) {
                self.view.status.set(&e.to_string(), Tone::Failed);
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
        self.connect(&server, &nickname);
    }

    /// The Login button, whose meaning follows the connection's phase.
    pub(super) fn button(&mut self) {
        match self.conn.button() {
            Button::Login | Button::Retry => self.login(),
            Button::Disconnect => self.disconnect(),
            Button::ReconnectNow => {
                let server = self.conn.server.clone();
                let nickname = self.view.connect_bar.nickname.text().trim().to_string();
                self.conn.start(&server);
                self.connect(&server, &nickname);
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
        self.view.users.set_users(&[], None);
    }

    fn password(&self) -> Option<String> {
        let text = self.view.connect_bar.password.text().to_string();
        (self.password_wanted && !text.is_empty()).then_some(text)
    }

    /// Starts a connection attempt (after `conn.start`), abandoning any previous one.
    fn connect(&mut self, server: &str, nickname: &str) {
        if let Some(old) = self.net.take() {
            // `quit` says goodbye on a live connection and abandons one still opening.
            old.quit();
        }
        self.generation += 1;
        let password = self.password();
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
            let nickname = self.view.connect_bar.nickname.text().trim().to_string();
            self.conn.start(&server);
            self.connect(&server, &nickname);
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
                Ok(()) => glib::ControlFlow::Continue,
                Err(_) => glib::ControlFlow::Break,
            }
        });
        self.ticker = Some(id);
    }
}
