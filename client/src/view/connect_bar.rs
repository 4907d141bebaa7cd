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
            .tooltip_text("Server address, HOST:PORT")
            .css_classes(["server"])
            .build();
        let nickname = gtk::Entry::builder()
            .text(nickname)
            .placeholder_text("Nickname")
            .tooltip_text("Your nickname; Login on a live connection changes it")
            .max_length(tlschat::MAX_NICKNAME_CHARS as i32)
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

    /// Calls `f` when Login is pressed or Enter is hit in any field.
    pub fn connect_login(&self, f: impl Fn() + Clone + 'static) {
        let g = f.clone();
        self.login.connect_clicked(move |_| g());
        let g = f.clone();
        self.server.connect_activate(move |_| g());
        let g = f.clone();
        self.nickname.connect_activate(move |_| g());
        self.password.connect_activate(move |_| f());
    }
}

fn caption(text: &str) -> gtk::Label {
    gtk::Label::builder()
        .label(text)
        .css_classes(["dim-label"])
        .build()
}
