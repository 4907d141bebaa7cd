//! The connection row: server, nickname, optional password, Login.

use gtk::prelude::*;

use crate::model::connection::Button;

/// The row of connection fields under the header bar.
#[derive(Clone)]
pub struct ConnectBar {
    root: gtk::Box,
    server: gtk::Entry,
    nickname: gtk::Entry,
    password: gtk::PasswordEntry,
    login: gtk::Button,
}

/// What the connection fields hold, as typed.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginFields {
    pub server: String,
    pub nickname: String,
    /// Empty when nothing was typed.
    pub password: String,
}

/// Leaves the password out, so that no debug print of an event can log it.
impl std::fmt::Debug for LoginFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginFields")
            .field("server", &self.server)
            .field("nickname", &self.nickname)
            .field("password", &if self.password.is_empty() { "" } else { "…" })
            .finish()
    }
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

    /// The row, to place in the window.
    pub fn root(&self) -> &gtk::Box {
        &self.root
    }

    /// Calls `button` when the button is pressed, `login` when Enter is hit in a field, each
    /// with what the fields hold at that moment.
    pub fn connect_login(
        &self,
        button: impl Fn(LoginFields) + 'static,
        login: impl Fn(LoginFields) + Clone + 'static,
    ) {
        let bar = self.clone();
        self.login.connect_clicked(move |_| button(bar.fields()));
        let (bar, f) = (self.clone(), login.clone());
        self.server.connect_activate(move |_| f(bar.fields()));
        let (bar, f) = (self.clone(), login.clone());
        self.nickname.connect_activate(move |_| f(bar.fields()));
        let bar = self.clone();
        self.password.connect_activate(move |_| login(bar.fields()));
    }

    /// What the fields hold now: the reconnect schedule uses them as the user left them.
    pub fn fields(&self) -> LoginFields {
        LoginFields {
            server: self.server.text().to_string(),
            nickname: self.nickname.text().to_string(),
            password: self.password.text().to_string(),
        }
    }

    /// What the button says and does: Login, Retry, Disconnect, Reconnect now. Only
    /// Disconnect is not the suggested action, as leaving is not what the window is for.
    pub fn set_button(&self, button: Button) {
        self.login.set_label(button.label());
        if button == Button::Disconnect {
            self.login.remove_css_class("suggested-action");
        } else {
            self.login.add_css_class("suggested-action");
        }
    }

    /// The button's label, as the end-to-end probe reports it.
    pub fn button_label(&self) -> String {
        self.login.label().unwrap_or_default().to_string()
    }

    /// Puts the address the connection will use in the server field (it may be normalised).
    pub fn set_server(&self, server: &str) {
        self.server.set_text(server);
    }

    /// Puts a nickname in its field: the one `/nick` asked for, or the one the server gave.
    pub fn set_nickname(&self, nickname: &str) {
        self.nickname.set_text(nickname);
    }

    /// Moves the keyboard to the server field, to correct it.
    pub fn focus_server(&self) {
        self.server.grab_focus();
    }

    /// Moves the keyboard to the nickname field, to choose one.
    pub fn focus_nickname(&self) {
        self.nickname.grab_focus();
    }

    /// Moves the keyboard to the password field, when the server asks for one.
    pub fn focus_password(&self) {
        self.password.grab_focus();
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
    /// Types into the fields, presses Enter in the password field, then the button.
    pub fn fill_and_press(&self, fields: &LoginFields) {
        self.server.set_text(&fields.server);
        self.nickname.set_text(&fields.nickname);
        self.password.set_text(&fields.password);
        self.password.emit_activate();
        self.login.emit_clicked();
    }

    #[cfg(test)]
    /// Whether the button is styled as the suggested action.
    pub fn button_suggested(&self) -> bool {
        self.login.has_css_class("suggested-action")
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
