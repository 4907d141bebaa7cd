//! The main window: assembles the parts, turns their signals into [`Action`]s for the
//! controller, and offers the few window-wide operations (titles, focus, closing).
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

use std::time::Duration;

use async_channel::Sender;
use gtk::glib;
use gtk::prelude::*;

use super::action::{Action, ActionSender};
use super::compose::Compose;
use super::connect_bar::ConnectBar;
use super::message_list::MessageList;
use super::status_bar::StatusBar;
use super::user_list::UserList;

/// The window and its parts; the controller changes them through their methods.
pub struct View {
    window: gtk::ApplicationWindow,
    subtitle: gtk::Label,
    connect_bar: ConnectBar,
    messages: MessageList,
    users: UserList,
    compose: Compose,
    status: StatusBar,
    /// In the header bar of a narrow window: shows or hides the user list.
    users_toggle: gtk::ToggleButton,
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

        let chat = gtk::Box::new(gtk::Orientation::Vertical, 0);
        chat.add_css_class("chat-view");
        chat.append(messages.root());
        chat.append(compose.root());
        let paned = gtk::Paned::builder()
            .orientation(gtk::Orientation::Horizontal)
            .start_child(&chat)
            .end_child(users.root())
            .resize_end_child(false)
            .shrink_end_child(false)
            .vexpand(true)
            .build();
        let content = gtk::Box::new(gtk::Orientation::Vertical, 0);
        content.append(connect_bar.root());
        content.append(&paned);
        content.append(status.root());
        window.set_child(Some(&content));

        let view = View {
            window,
            subtitle,
            connect_bar,
            messages,
            users,
            compose,
            status,
            users_toggle,
        };
        view.fold_when_narrow();
        view
    }

    /// Folds the user list behind a header button when the window is narrow, so the
    /// conversation and the connection fields keep their room.
    fn fold_when_narrow(&self) {
        let (users, toggle) = (self.users.root().clone(), self.users_toggle.clone());
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

    /// Sends what the user does into `events`, the client's one channel, as [`Action`]s.
    pub fn connect_actions<E: From<Action> + 'static>(&self, events: Sender<E>) {
        let sender = ActionSender::new(events);
        let send = move |action: Action| sender.send(action);
        let (button, login) = (send.clone(), send.clone());
        self.connect_bar.connect_login(
            move |fields| button(Action::Button(fields)),
            move |fields| login(Action::Login(fields)),
        );
        self.compose.connect_actions(send.clone());
        let f = send.clone();
        self.messages.connect_retry(move |id| f(Action::Retry(id)));
        let f = send.clone();
        self.users
            .connect_activated(move |nick| f(Action::Query(nick.to_string())));
        let f = send.clone();
        self.window
            .connect_is_active_notify(move |w| f(Action::Focus(w.is_active())));
        self.window.connect_close_request(move |_| {
            send(Action::Close);
            // The controller says goodbye to the server, then closes the window.
            glib::Propagation::Stop
        });
    }

    pub fn connect_bar(&self) -> &ConnectBar {
        &self.connect_bar
    }

    pub fn messages(&self) -> &MessageList {
        &self.messages
    }

    pub fn users(&self) -> &UserList {
        &self.users
    }

    pub fn compose(&self) -> &Compose {
        &self.compose
    }

    pub fn status_bar(&self) -> &StatusBar {
        &self.status
    }

    /// Shows the window.
    pub fn present(&self) {
        self.window.present();
    }

    /// Whether the window is in front: notifications are only for when it is not.
    pub fn is_active(&self) -> bool {
        self.window.is_active()
    }

    /// The window's title (what the task bar shows) and the header's line under "tlschat".
    pub fn set_titles(&self, title: &str, subtitle: &str) {
        self.window.set_title(Some(title));
        self.subtitle.set_label(subtitle);
    }

    /// Closes the window after `delay`, which gives the connection time to say goodbye.
    pub fn close_after(&self, delay: Duration) {
        let window = self.window.downgrade();
        glib::timeout_add_local_once(delay, move || {
            if let Some(window) = window.upgrade() {
                window.destroy();
            }
        });
    }

    #[cfg(test)]
    /// Whether the user list and the header button that folds it are shown (each widget's
    /// own flag, so this works on a window never shown).
    pub fn users_and_toggle_shown(&self) -> (bool, bool) {
        (
            self.users.root().get_visible(),
            self.users_toggle.get_visible(),
        )
    }

    #[cfg(test)]
    /// Resizes the window, as the user would.
    pub fn resize(&self, width: i32, height: i32) {
        self.window.set_default_size(width, height);
    }

    #[cfg(test)]
    /// Presses (or releases) the header button that shows the user list.
    pub fn toggle_users(&self, active: bool) {
        self.users_toggle.set_active(active);
    }
}
