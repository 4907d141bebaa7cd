//! The connection row: server, nickname, optional password, Login.

use gtk::prelude::*;

/// The row of connection fields under the header bar.
#[derive(Clone)]
pub struct ConnectBar {
    pub root: gtk::Box,
    pub server: gtk::Entry,
    pub nickname: gtk::Entry,
    pub password: gtk::PasswordEntry,
    pub login: gtk::Button,
}

impl ConnectBar {
    pub fn new(server: &str, nickname: &str) -> ConnectBar {
        let root = gtk::Box::new(gtk::Orientation::Horizontal, 8);
        root.add_css_class("connect-bar");
        let server = gtk::Entry::builder()
            .text(server)
            .placeholder_text("host:port")
            .tooltip_text(SERVER_TIP)
            .css_classes(["server"])
            .build();
        let nickname = gtk::Entry::builder()
            .text(nickname)
            .placeholder_text("Nickname")
            .tooltip_text("Your nickname; Login on a live connection changes it")
            .max_length(tlschat::wire::MAX_NICKNAME_CHARS as i32)
            .width_chars(12)
            .hexpand(true)
            .build();
        let password = gtk::PasswordEntry::builder()
            .placeholder_text("Password (optional)")
            .tooltip_text("Only needed if the server asks for one")
            .show_peek_icon(true)
            .hexpand(true)
            .build();
        let login = gtk::Button::builder()
            .label("Login")
            .css_classes(["suggested-action"])
            .build();
        root.append(&caption("Server"));
        root.append(&server);
        root.append(&caption("Nickname"));
        root.append(&nickname);
        root.append(&password);
        root.append(&login);
        ConnectBar {
            root,
            server,
            nickname,
            password,
            login,
        }
    }

    /// Calls `button` when the button is pressed, `login` when Enter is hit in a field.
    pub fn connect_login(&self, button: impl Fn() + 'static, f: impl Fn() + Clone + 'static) {
        self.login.connect_clicked(move |_| button());
        let g = f.clone();
        self.server.connect_activate(move |_| g());
        let g = f.clone();
        self.nickname.connect_activate(move |_| g());
        self.password.connect_activate(move |_| f());
    }
}

impl ConnectBar {
    /// What the button says: Login, Retry, Disconnect, Reconnect now.
    pub fn set_button(&self, label: &str) {
        self.login.set_label(label);
        if label == "Disconnect" {
            self.login.remove_css_class("suggested-action");
        } else {
            self.login.add_css_class("suggested-action");
        }
    }

    /// Marks the server field as wrong, saying why in its tooltip (or clears the mark).
    pub fn show_server_problem(&self, problem: Option<&str>) {
        match problem {
            Some(text) => {
                self.server.add_css_class("error");
                self.server.set_tooltip_text(Some(text));
            }
            None => {
                self.server.remove_css_class("error");
                self.server.set_tooltip_text(Some(SERVER_TIP));
            }
        }
    }

    #[cfg(test)]
    /// The server field's complaint, if it has one.
    pub fn server_problem(&self) -> Option<String> {
        self.server
            .has_css_class("error")
            .then(|| self.server.tooltip_text().unwrap_or_default().to_string())
    }
}

const SERVER_TIP: &str = "Server address, HOST:PORT; Enter connects (to another server too)";

fn caption(text: &str) -> gtk::Label {
    gtk::Label::builder()
        .label(text)
        .css_classes(["dim-label"])
        .build()
}
