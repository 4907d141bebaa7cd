//! The main window: assembles the parts and turns their signals into controller events.
//!
//! ```text
//! ┌ header bar: tlschat · who and where ───────────────────┐
//! │ connection row: server, nickname, password, Login      │
//! ├───────────────────────────────────────┬────────────────┤
//! │ message list           [jump button]  │ user list      │
//! │ message entry                  [Send] │                │
//! ├───────────────────────────────────────┴────────────────┤
//! │ status bar                                   [padlock] │
//! └────────────────────────────────────────────────────────┘
//! ```

use async_channel::Sender;
use gtk::prelude::*;
use gtk::{gdk, glib};

use super::compose::Compose;
use super::connect_bar::ConnectBar;
use super::message_list::MessageList;
use super::status_bar::StatusBar;
use super::user_list::UserList;
use crate::controller::Event;

/// Every widget the controller updates.
pub struct View {
    pub window: gtk::ApplicationWindow,
    pub subtitle: gtk::Label,
    pub connect_bar: ConnectBar,
    pub messages: MessageList,
    pub users: UserList,
    pub entry: gtk::Entry,
    pub send: gtk::Button,
    pub status: StatusBar,
    /// In the header bar of a narrow window: shows or hides the user list.
    pub users_toggle: gtk::ToggleButton,
}

/// Below this width the user list folds away behind [`View::users_toggle`].
const NARROW: i32 = 700;

impl View {
    /// Builds the window (not yet shown) with the connection fields filled in.
    pub fn new(app: &gtk::Application, server: &str, nickname: &str) -> View {
        let window = gtk::ApplicationWindow::builder()
            .application(app)
            .title("tlschat")
            .default_width(1000)
            .default_height(680)
            .build();
        let subtitle = gtk::Label::builder()
            .css_classes(["caption", "dim-label"])
            .ellipsize(gtk::pango::EllipsizeMode::End)
            .build();
        let title = gtk::Label::builder()
            .label("tlschat")
            .css_classes(["title"])
            .build();
        let titles = gtk::Box::new(gtk::Orientation::Vertical, 0);
        titles.set_valign(gtk::Align::Center);
        titles.append(&title);
        titles.append(&subtitle);
        let header = gtk::HeaderBar::builder().title_widget(&titles).build();
        let users_toggle = gtk::ToggleButton::builder()
            .icon_name("system-users-symbolic")
            .tooltip_text("Show who is online")
            .visible(false)
            .build();
        header.pack_end(&users_toggle);
        window.set_titlebar(Some(&header));

        let connect_bar = ConnectBar::new(server, nickname);
        let messages = MessageList::new();
        let users = UserList::new();
        let status = StatusBar::new();
        let compose = Compose::new();
        let (entry, send) = (compose.entry.clone(), compose.send.clone());

        let chat = gtk::Box::new(gtk::Orientation::Vertical, 0);
        chat.add_css_class("chat-view");
        chat.append(&messages.root);
        chat.append(&compose.root);
        let paned = gtk::Paned::builder()
            .orientation(gtk::Orientation::Horizontal)
            .start_child(&chat)
            .end_child(&users.root)
            .resize_end_child(false)
            .shrink_end_child(false)
            .vexpand(true)
            .build();
        let content = gtk::Box::new(gtk::Orientation::Vertical, 0);
        content.append(&connect_bar.root);
        content.append(&paned);
        content.append(&status.root);
        window.set_child(Some(&content));

        let view = View {
            window,
            subtitle,
            connect_bar,
            messages,
            users,
            entry,
            send,
            status,
            users_toggle,
        };
        view.fold_when_narrow();
        view
    }

    /// Folds the user list behind a header button when the window is narrow, so the
    /// conversation and the connection fields keep their room.
    fn fold_when_narrow(&self) {
        let (users, toggle) = (self.users.root.clone(), self.users_toggle.clone());
        let apply = move |window: &gtk::ApplicationWindow| {
            let narrow = window.default_width() < NARROW;
            toggle.set_visible(narrow);
            users.set_visible(!narrow || toggle.is_active());
        };
        apply(&self.window);
        let again = apply.clone();
        self.window
            .connect_default_width_notify(move |window| again(window));
        let window = self.window.clone();
        self.users_toggle.connect_toggled(move |_| apply(&window));
    }

    /// Routes widget signals to the controller as [`Event`]s.
    pub fn connect_events(&self, events: &Sender<Event>) {
        let send = move |events: &Sender<Event>, event: Event| {
            // Unbounded, so this never blocks the UI; it fails only once the loop is gone.
            let _ = events.try_send(event);
        };
        let (tx, tx2) = (events.clone(), events.clone());
        self.connect_bar.connect_login(
            move || send(&tx2, Event::Button),
            move || send(&tx, Event::Login),
        );
        let tx = events.clone();
        self.entry
            .connect_activate(move |_| send(&tx, Event::Submit));
        let tx = events.clone();
        self.send.connect_clicked(move |_| send(&tx, Event::Submit));
        let tx = events.clone();
        self.messages
            .connect_retry(move |id| send(&tx, Event::Retry(id)));
        let tx = events.clone();
        self.users
            .connect_activated(move |nick| send(&tx, Event::Query(nick.to_string())));

        let keys = gtk::EventControllerKey::new();
        // Capture phase: Tab would otherwise move the focus before the entry sees it.
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        let tx = events.clone();
        keys.connect_key_pressed(move |_, key, _, modifiers| {
            if modifiers.intersects(gdk::ModifierType::CONTROL_MASK | gdk::ModifierType::ALT_MASK) {
                return glib::Propagation::Proceed;
            }
            let event = match key {
                gdk::Key::Tab => Event::Complete,
                gdk::Key::Up => Event::HistoryPrevious,
                gdk::Key::Down => Event::HistoryNext,
                _ => return glib::Propagation::Proceed,
            };
            send(&tx, event);
            glib::Propagation::Stop
        });
        self.entry.add_controller(keys);

        let tx = events.clone();
        self.window
            .connect_is_active_notify(move |w| send(&tx, Event::Focus(w.is_active())));
        let tx = events.clone();
        self.window.connect_close_request(move |_| {
            send(&tx, Event::Close);
            // The controller says goodbye to the server, then closes the window.
            glib::Propagation::Stop
        });
    }

    /// Puts `text` in the message entry with the cursor at the end.
    pub fn set_entry(&self, text: &str) {
        self.entry.set_text(text);
        self.entry.set_position(-1);
    }
}
