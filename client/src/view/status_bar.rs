//! The status bar: a coloured dot, the connection state in words, and a padlock button whose
//! popover shows whom we are talking to and the server certificate's fingerprint.

use gtk::prelude::*;

/// How the status dot is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Online,
    Busy,
    Offline,
    Failed,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Online => "online",
            Tone::Busy => "busy",
            Tone::Offline => "offline",
            Tone::Failed => "failed",
        }
    }
}

/// The bottom bar.
#[derive(Clone)]
pub struct StatusBar {
    root: gtk::Box,
    dot: gtk::Label,
    label: gtk::Label,
    info: gtk::MenuButton,
    server: gtk::Label,
    fingerprint: gtk::Label,
    software: gtk::Label,
    /// Our nickname and the server's id for us, kept out of the status line.
    identity: gtk::Label,
    /// Under the details: how to trust a certificate that was not trusted.
    hint: gtk::Label,
}

impl StatusBar {
    pub fn new() -> StatusBar {
        let root = gtk::Box::new(gtk::Orientation::Horizontal, 8);
        root.add_css_class("status-bar");
        let dot = gtk::Label::builder()
            .label("●")
            .css_classes(["status-dot"])
            .build();
        let label = gtk::Label::builder()
            .xalign(0.0)
            .hexpand(true)
            .ellipsize(gtk::pango::EllipsizeMode::End)
            .selectable(false)
            .build();
        let server = value_label();
        let fingerprint = value_label();
        fingerprint.add_css_class("fingerprint");
        fingerprint.set_max_width_chars(48);
        let software = value_label();
        let identity = value_label();
        let grid = gtk::Grid::builder()
            .row_spacing(6)
            .column_spacing(12)
            .margin_top(8)
            .margin_bottom(8)
            .margin_start(8)
            .margin_end(8)
            .build();
        let title = gtk::Label::builder()
            .label("Connection")
            .xalign(0.0)
            .css_classes(["heading"])
            .build();
        grid.attach(&title, 0, 0, 2, 1);
        for (row, (name, value)) in [
            ("Server", &server),
            ("Certificate SHA-256", &fingerprint),
            ("Software", &software),
            ("You", &identity),
        ]
        .into_iter()
        .enumerate()
        {
            let name = gtk::Label::builder()
                .label(name)
                .xalign(1.0)
                .valign(gtk::Align::Start)
                .css_classes(["dim-label"])
                .build();
            grid.attach(&name, 0, row as i32 + 1, 1, 1);
            grid.attach(value, 1, row as i32 + 1, 1, 1);
        }
        let hint = gtk::Label::builder()
            .xalign(0.0)
            .wrap(true)
            .max_width_chars(48)
            .css_classes(["untrusted-hint"])
            .build();
        grid.attach(&hint, 0, 5, 2, 1);
        let popover = gtk::Popover::builder().child(&grid).build();
        let info = gtk::MenuButton::builder()
            .icon_name("channel-insecure-symbolic")
            .popover(&popover)
            .css_classes(["flat"])
            .tooltip_text("Not connected")
            .build();
        root.append(&dot);
        root.append(&label);
        root.append(&info);
        let bar = StatusBar {
            root,
            dot,
            label,
            info,
            server,
            fingerprint,
            software,
            identity,
            hint,
        };
        bar.set_connection(None, None, None);
        bar
    }

    /// The bar, to place in the window.
    pub fn root(&self) -> &gtk::Box {
        &self.root
    }

    /// Shows the state in words.
    pub fn set(&self, text: &str, tone: Tone) {
        for t in [Tone::Online, Tone::Busy, Tone::Offline, Tone::Failed] {
            self.dot.remove_css_class(t.class());
        }
        self.dot.add_css_class(tone.class());
        self.label.set_label(text);
        self.label.set_tooltip_text(Some(text));
        if tone == Tone::Failed {
            self.label.add_css_class("failed-text");
        } else {
            self.label.remove_css_class("failed-text");
        }
    }

    /// The text shown now.
    pub fn text(&self) -> String {
        self.label.label().to_string()
    }

    /// Fills the connection popover; `None` fingerprint means not connected.
    pub fn set_connection(
        &self,
        server: Option<&str>,
        fingerprint: Option<&str>,
        software: Option<&str>,
    ) {
        self.server.set_label(server.unwrap_or("—"));
        self.fingerprint.set_label(fingerprint.unwrap_or("—"));
        self.software
            .set_label(software.filter(|s| !s.is_empty()).unwrap_or("—"));
        self.hint.set_label("");
        match fingerprint {
            Some(fp) => {
                self.info.set_icon_name("channel-secure-symbolic");
                self.info.set_tooltip_text(Some(&format!(
                    "Encrypted; server verified by your CA\nCertificate SHA-256: {fp}"
                )));
            }
            None => {
                self.info.set_icon_name("channel-insecure-symbolic");
                self.info.set_tooltip_text(Some("Not connected"));
            }
        }
    }

    /// Shows who we are in the connection details: `alice (user #3)`, or a dash.
    pub fn set_identity(&self, who: Option<(&str, u64)>) {
        let text = who.map(|(nick, id)| format!("{nick} (user #{id})"));
        self.identity.set_label(text.as_deref().unwrap_or("—"));
    }

    /// Shows the certificate `server` presented and we did not trust, and how to trust it.
    pub fn set_untrusted(&self, server: &str, fingerprint: &str) {
        self.server.set_label(server);
        self.fingerprint.set_label(fingerprint);
        self.software.set_label("—");
        self.hint.set_label(
            "Not trusted: this certificate is not signed by your CA, or not made for this \
             address. If the fingerprint above is the one your server's operator gave you, \
             start the client with --ca FILE, FILE being the CA certificate that signed it.",
        );
        self.info.set_icon_name("dialog-warning-symbolic");
        self.info.set_tooltip_text(Some(&format!(
            "Not trusted; the server presented certificate SHA-256: {fingerprint}"
        )));
    }

    #[cfg(test)]
    /// The how-to-trust text, when it is shown.
    pub fn hint(&self) -> Option<String> {
        Some(self.hint.label().to_string()).filter(|h| !h.is_empty())
    }

    #[cfg(test)]
    /// What the padlock says when hovered.
    pub fn padlock_tooltip(&self) -> Option<String> {
        self.info.tooltip_text().map(|t| t.to_string())
    }

    #[cfg(test)]
    /// The fingerprint shown in the popover.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.label().to_string()
    }
}

impl Default for StatusBar {
    fn default() -> Self {
        StatusBar::new()
    }
}

fn value_label() -> gtk::Label {
    gtk::Label::builder()
        .xalign(0.0)
        .selectable(true)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::Char)
        .build()
}
