//! The controller: the one place that reads events and changes state. It owns the model,
//! the view and the current connection; the run loop takes one [`Event`] at a time from the
//! channel and hands it to one method.

mod connecting;
mod input;
mod net;

use std::time::{Duration, Instant};

use async_channel::{Receiver, Sender};
use gtk::prelude::*;
use gtk::{gio, glib};
use tlschat::runtime::{NetEvent, Resume};

use crate::model::room::Update;
use crate::model::{Completer, Connection, History, Phase, Room};
use crate::network::Network;
use crate::transcript::Transcript;
use crate::view::status_bar::Tone;
use crate::view::View;

/// Everything that can happen to the client, from the network, the widgets or the clock.
#[derive(Debug)]
pub enum Event {
    /// Something happened on connection attempt `generation`.
    Net { generation: u64, event: NetEvent },
    /// Enter in a connection field (or `--connect`): connect, switch servers, or change
    /// nickname.
    Login,
    /// The Login button: Login, Retry, Disconnect or Reconnect now, by the phase.
    Button,
    /// Enter in the message entry.
    Submit,
    /// Up in the message entry.
    HistoryPrevious,
    /// Down in the message entry.
    HistoryNext,
    /// Tab in the message entry.
    Complete,
    /// A user in the sidebar was activated: start a private message.
    Query(String),
    /// Retry pressed on a message that was not delivered (its id).
    Retry(u64),
    /// The window came to the front (true) or went to the background.
    Focus(bool),
    /// The reconnect countdown ticks.
    Tick,
    /// The window is being closed.
    Close,
}

/// The controller's state: model, view and connection.
pub struct Controller {
    app: gtk::Application,
    view: View,
    events: Sender<Event>,
    ca_pem: Vec<u8>,
    room: Room,
    conn: Connection,
    net: Option<Network>,
    generation: u64,
    history: History,
    completer: Completer,
    transcript: Option<Transcript>,
    /// The server asked for a password, so the password field is sent from now on.
    password_wanted: bool,
    /// Counts down while waiting to reconnect.
    ticker: Option<glib::SourceId>,
    /// Our identity and place in the history, so a reconnect resumes the session seamlessly.
    resume: Resume,
    /// The server of the last `welcome`, to mark a change of server in the list.
    welcomed_server: Option<String>,
}

impl Controller {
    pub fn new(
        app: &gtk::Application,
        view: View,
        events: Sender<Event>,
        ca_pem: Vec<u8>,
        transcript: Option<Transcript>,
    ) -> Controller {
        view.connect_events(&events);
        let controller = Controller {
            app: app.clone(),
            view,
            events,
            ca_pem,
            room: Room::default(),
            conn: Connection::default(),
            net: None,
            generation: 0,
            history: History::default(),
            completer: Completer::default(),
            transcript,
            password_wanted: false,
            ticker: None,
            resume: Resume::new(),
            welcomed_server: None,
        };
        controller.refresh_status();
        controller
    }

    /// Handles events until the channel closes.
    pub async fn run(mut self, events: Receiver<Event>) {
        while let Ok(event) = events.recv().await {
            self.handle(event);
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Net { generation, event } => self.on_net(generation, event),
            Event::Login => self.login(),
            Event::Button => self.button(),
            Event::Submit => self.submit(),
            Event::HistoryPrevious => self.history_previous(),
            Event::HistoryNext => self.history_next(),
            Event::Complete => self.complete(),
            Event::Query(nick) => self.query(&nick),
            Event::Retry(id) => self.retry(id),
            Event::Focus(active) => self.focus(active),
            Event::Tick => self.tick(),
            Event::Close => self.close(),
        }
    }

    /// Says goodbye to the server, then lets the window close.
    fn close(&mut self) {
        let delay = match self.net.take() {
            Some(net) => {
                self.conn.quitting();
                net.quit();
                // Time for the connection thread to write `quit` before the process exits.
                Duration::from_millis(150)
            }
            None => Duration::ZERO,
        };
        let window = self.view.window.downgrade();
        glib::timeout_add_local_once(delay, move || {
            if let Some(window) = window.upgrade() {
                window.destroy();
            }
        });
    }

    /// Shows the connection state in the status bar and the header.
    fn refresh_status(&self) {
        let me = self.room.me.as_ref().map(|m| m.nickname.as_str());
        let text = self.conn.status(me, Instant::now());
        let tone = match &self.conn.phase {
            Phase::Online => Tone::Online,
            Phase::Connecting | Phase::LoggingIn | Phase::Waiting { .. } => Tone::Busy,
            Phase::Offline { reason: None } => Tone::Offline,
            Phase::Offline { reason: Some(_) } => Tone::Failed,
        };
        self.view.status.set(&text, tone);
        let subtitle = match (&self.conn.phase, me) {
            (Phase::Online, Some(nick)) => format!("{nick} on {}", self.conn.server),
            _ => self.conn.server.clone(),
        };
        self.view.subtitle.set_label(&subtitle);
        let title = match (&self.conn.phase, me) {
            (Phase::Online, Some(nick)) => format!("tlschat: {nick} @ {}", self.conn.server),
            _ => "tlschat".to_string(),
        };
        self.view.window.set_title(Some(&title));
        self.view.connect_bar.set_button(self.conn.button().label());
        let who = self.room.me.as_ref().map(|m| (m.nickname.as_str(), m.id));
        self.view.status.set_identity(who);
    }

    /// Leaving the window clears the old "New messages" line, so that the next one marks
    /// where the user leaves off this time; coming back keeps it in view while they read.
    fn focus(&mut self, active: bool) {
        if !active {
            let mut update = Update::default();
            self.room.clear_unread(&mut update);
            self.show(update);
        }
    }

    /// A desktop notification, only when the window is not in front.
    fn alert(&self, title: &str, body: &str) {
        if self.view.window.is_active() {
            return;
        }
        let notification = gio::Notification::new(title);
        notification.set_body(Some(body));
        self.app
            .send_notification(Some("tlschat-message"), &notification);
    }
}
