//! Where the user writes: the message entry, a character counter that appears near the
//! server's limit, and Send, which says why it is disabled when the text is too long.
//! Nothing is cut silently: the entry accepts any length and the counter tells.

use gtk::prelude::*;

use tlschat::runtime::command::{message_chars, too_long};

/// The counter appears this many characters before the limit.
const COUNTER_FROM: usize = 500;

/// The message entry with its counter and Send button.
#[derive(Clone)]
pub struct Compose {
    pub root: gtk::Box,
    pub entry: gtk::Entry,
    pub send: gtk::Button,
    counter: gtk::Label,
}

impl Compose {
    pub fn new() -> Compose {
        let entry = gtk::Entry::builder()
            .placeholder_text("Message the room (type /help for commands)")
            .hexpand(true)
            .build();
        let counter = gtk::Label::builder()
            .css_classes(["counter", "dim-label"])
            .visible(false)
            .build();
        let send = gtk::Button::builder()
            .label("Send")
            .css_classes(["suggested-action"])
            .build();
        let root = gtk::Box::new(gtk::Orientation::Horizontal, 8);
        root.add_css_class("compose");
        root.append(&entry);
        root.append(&counter);
        root.append(&send);
        let compose = Compose {
            root,
            entry,
            send,
            counter,
        };
        let this = compose.clone();
        compose.entry.connect_changed(move |_| this.update());
        compose
    }

    /// Shows the count near the limit and disables Send past it, saying why.
    fn update(&self) {
        let text = self.entry.text();
        let chars = message_chars(&text);
        let limit = tlschat::wire::MAX_MESSAGE_CHARS;
        self.counter.set_visible(chars + COUNTER_FROM > limit);
        self.counter.set_label(&format!("{chars} / {limit}"));
        let problem = too_long(&text);
        if problem.is_some() {
            self.counter.add_css_class("over");
            self.entry.add_css_class("error");
        } else {
            self.counter.remove_css_class("over");
            self.entry.remove_css_class("error");
        }
        self.send.set_sensitive(problem.is_none());
        self.send.set_tooltip_text(problem.as_deref());
    }

    #[cfg(test)]
    /// The counter's text, when it is shown.
    pub fn counter(&self) -> Option<String> {
        self.counter
            .is_visible()
            .then(|| self.counter.label().to_string())
    }
}

impl Default for Compose {
    fn default() -> Self {
        Compose::new()
    }
}
