//! The controller: the one place that reads events and changes state. It owns the model,
//! the view and the current connection; the run loop takes one [`Event`] at a time from the
//! channel and hands it to one method, which changes the model and then tells the view's
//! parts what to show through their methods.

mod connecting;
mod input;
mod net;

use std::time::{Duration, Instant};

use async_channel::{Receiver, Sender};
use gtk::prelude::*;
use gtk::{gio, glib};
use tlschat::runtime::Resume;

use crate::event::Event;
use crate::model::room::Update;
use crate::model::{Completer, Connection, InputRecall, Phase, Room};
use crate::network::Network;
use crate::transcript::Transcript;
use crate::view::status_bar::Tone;
use crate::view::{Action, View};

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
    recall: InputRecall,
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
    /// Takes over `view`, shows what it starts with, and presents the window.
    pub fn new(
        app: &gtk::Application,
        view: View,
        events: Sender<Event>,
        ca_pem: Vec<u8>,
        transcript: Option<Transcript>,
    ) -> Controller {
        view.connect_actions(events.clone());
        let controller = Controller {
            app: app.clone(),
            view,
            events,
            ca_pem,
            room: Room::default(),
            conn: Connection::default(),
            net: None,
            generation: 0,
            recall: InputRecall::default(),
            completer: Completer::default(),
            transcript,
            password_wanted: false,
            ticker: None,
            resume: Resume::new(),
            welcomed_server: None,
        };
        controller.refresh_status();
        controller.view.present();
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
            Event::User(action) => self.on_action(action),
            Event::Tick => self.tick(),
        }
    }

    fn on_action(&mut self, action: Action) {
        match action {
            Action::Login(fields) => self.login(&fields),
            Action::Button(fields) => self.button(&fields),
            Action::Submit(text) => self.submit(&text),
            Action::RecallPrevious(current) => self.recall_previous(&current),
            Action::RecallNext => self.recall_next(),
            Action::Complete { text, cursor } => self.complete(&text, cursor),
            Action::Query(nick) => self.query(&nick),
            Action::Retry(id) => self.retry(id),
            Action::Focus(active) => self.focus(active),
            Action::Close => self.close(),
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
        self.view.close_after(delay);
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
        self.view.status_bar().set(&text, tone);
        let subtitle = match (&self.conn.phase, me) {
            (Phase::Online, Some(nick)) => format!("{nick} on {}", self.conn.server),
            _ => self.conn.server.clone(),
        };
        let title = match (&self.conn.phase, me) {
            (Phase::Online, Some(nick)) => format!("tlschat: {nick} @ {}", self.conn.server),
            _ => "tlschat".to_string(),
        };
        self.view.set_titles(&title, &subtitle);
        self.view.connect_bar().set_button(self.conn.button());
        let who = self.room.me.as_ref().map(|m| (m.nickname.as_str(), m.id));
        self.view.status_bar().set_identity(who);
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
        if self.view.is_active() {
            return;
        }
        let notification = gio::Notification::new(title);
        notification.set_body(Some(body));
        self.app
            .send_notification(Some("tlschat-message"), &notification);
    }
}
