//! Where the user writes: the message entry, a character counter that appears near the
//! server's limit, and Send, which says why it is disabled when the text is too long.
//! Nothing is cut silently: the entry accepts any length and the counter tells.

use gtk::prelude::*;
use gtk::{gdk, glib};
use tlschat::runtime::command::{message_chars, too_many_chars};

use super::action::Action;

/// The counter appears this many characters before the limit.
const COUNTER_FROM: usize = 500;

/// The message entry with its counter and Send button.
#[derive(Clone)]
pub struct Compose {
    root: gtk::Box,
    entry: gtk::Entry,
    send: gtk::Button,
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

    /// The entry with its counter and button, to place in the window.
    pub fn root(&self) -> &gtk::Box {
        &self.root
    }

    /// Reports Enter and Send with the text as typed, and Tab, Up and Down (without Ctrl or
    /// Alt) as completion and recall; `send` gets each as an [`Action`].
    pub fn connect_actions(&self, send: impl Fn(Action) + Clone + 'static) {
        let (entry, f) = (self.entry.clone(), send.clone());
        self.entry
            .connect_activate(move |_| f(Action::Submit(entry.text().to_string())));
        let (entry, f) = (self.entry.clone(), send.clone());
        self.send
            .connect_clicked(move |_| f(Action::Submit(entry.text().to_string())));

        let keys = gtk::EventControllerKey::new();
        // Capture phase: Tab would otherwise move the focus before the entry sees it.
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        let entry = self.entry.clone();
        keys.connect_key_pressed(move |_, key, _, modifiers| {
            if modifiers.intersects(gdk::ModifierType::CONTROL_MASK | gdk::ModifierType::ALT_MASK) {
                return glib::Propagation::Proceed;
            }
            let text = entry.text().to_string();
            let action = match key {
                gdk::Key::Tab => {
                    let cursor = byte_offset(&text, entry.position());
                    Action::Complete { text, cursor }
                }
                gdk::Key::Up => Action::RecallPrevious(text),
                gdk::Key::Down => Action::RecallNext,
                _ => return glib::Propagation::Proceed,
            };
            send(action);
            glib::Propagation::Stop
        });
        self.entry.add_controller(keys);
    }

    /// Puts `text` in the entry with the cursor at the end (a recalled line, `/msg nick `).
    pub fn set_text(&self, text: &str) {
        self.set_text_with_cursor(text, text.len());
    }

    /// Puts `text` in the entry with the cursor at byte offset `cursor` (after a completion).
    pub fn set_text_with_cursor(&self, text: &str, cursor: usize) {
        self.entry.set_text(text);
        // GTK counts the cursor in characters.
        let chars = text.get(..cursor).unwrap_or(text).chars().count();
        self.entry
            .set_position(i32::try_from(chars).unwrap_or(i32::MAX));
    }

    /// `sent` went out: empties the entry, unless what it holds is no longer what was sent.
    pub fn clear_sent(&self, sent: &str) {
        if self.entry.text() == sent {
            self.entry.set_text("");
        }
    }

    /// Gives the entry the keyboard (after login, to start writing).
    pub fn focus(&self) {
        self.entry.grab_focus();
    }

    /// Gives the entry the keyboard, keeping the cursor where [`Compose::set_text`] put it.
    pub fn focus_without_selecting(&self) {
        self.entry.grab_focus_without_selecting();
    }

    /// Shows the count near the limit and disables Send past it, saying why.
    fn update(&self) {
        let text = self.entry.text();
        let chars = message_chars(&text);
        let limit = tlschat::wire::MAX_MESSAGE_CHARS;
        self.counter.set_visible(chars + COUNTER_FROM > limit);
        self.counter.set_label(&format!("{chars} / {limit}"));
        let problem = too_many_chars(chars);
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

    #[cfg(test)]
    /// What the entry holds.
    pub fn text(&self) -> String {
        self.entry.text().to_string()
    }

    #[cfg(test)]
    /// Types into the entry, as the user would.
    pub fn type_text(&self, text: &str) {
        self.entry.set_text(text);
    }

    #[cfg(test)]
    /// Where the cursor is, in characters as GTK counts.
    pub fn cursor(&self) -> i32 {
        self.entry.position()
    }

    #[cfg(test)]
    /// Presses Enter in the entry, then Send, as the user would.
    pub fn press_enter_then_send(&self) {
        self.entry.emit_activate();
        self.send.emit_clicked();
    }

    #[cfg(test)]
    /// Whether Send can be pressed, and why not when it cannot.
    pub fn send_state(&self) -> (bool, Option<String>) {
        let why = self.send.tooltip_text().map(|t| t.to_string());
        (self.send.is_sensitive(), why)
    }
}

/// The byte offset of the cursor that GTK gives as `chars` characters into `text`.
fn byte_offset(text: &str, chars: i32) -> usize {
    let chars = usize::try_from(chars).unwrap_or(0);
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

impl Default for Compose {
    fn default() -> Self {
        Compose::new()
    }
}
