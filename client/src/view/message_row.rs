//! One row of the message list: time, nickname, text, and for a message of ours that is not
//! in the room yet, a note ("Sending…", "Not delivered: …") with a Retry button. Rows are
//! recycled by the ListView, so `bind` must reset everything `setup` or an earlier `bind`
//! may have set.

use gtk::prelude::*;
use std::time::SystemTime;

use gtk::{glib, pango};

use crate::model::text::{colour_index, spans, Span, PALETTE_SIZE};
use crate::model::{Delivery, Kind, Line};

/// The action a Retry button activates, with the message's id as its target.
pub const RETRY_ACTION: &str = "messages.retry";

/// The widgets of one row, created once per recycled row.
pub struct MessageRow {
    pub root: gtk::Box,
    /// Above the first row of a day: "Today", "Yesterday", a date.
    day: gtk::Label,
    time: gtk::Label,
    nick: gtk::Label,
    text: gtk::Label,
    /// Under the text: how delivery stands, and Retry.
    status: gtk::Box,
    note: gtk::Label,
    retry: gtk::Button,
}

/// CSS classes `bind` toggles; removed before each bind so recycled rows start clean.
const ROW_CLASSES: &[&str] = &[
    "own", "private", "mention", "action", "notice", "error", "pending", "failed", "marker",
];

impl MessageRow {
    /// Builds the widgets of an empty row.
    pub fn new() -> MessageRow {
        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        let day = gtk::Label::builder()
            .css_classes(["day"])
            .visible(false)
            .build();
        let line = gtk::Box::new(gtk::Orientation::Horizontal, 10);
        line.add_css_class("msg");
        let time = gtk::Label::builder()
            .css_classes(["time"])
            .valign(gtk::Align::Start)
            .xalign(0.0)
            .build();
        let nick = gtk::Label::builder()
            .css_classes(["nick"])
            .valign(gtk::Align::Start)
            .xalign(1.0)
            .width_chars(10)
            .max_width_chars(10)
            .ellipsize(pango::EllipsizeMode::End)
            .build();
        let text = gtk::Label::builder()
            .css_classes(["text"])
            .xalign(0.0)
            .hexpand(true)
            .wrap(true)
            .wrap_mode(pango::WrapMode::WordChar)
            .selectable(true)
            .use_markup(true)
            .build();
        // A selectable label would otherwise take keyboard focus on every click.
        text.set_focus_on_click(false);
        let note = gtk::Label::builder()
            .css_classes(["delivery"])
            .xalign(0.0)
            .wrap(true)
            .build();
        let retry = gtk::Button::builder()
            .label("Retry")
            .css_classes(["retry", "flat"])
            .build();
        let status = gtk::Box::new(gtk::Orientation::Horizontal, 8);
        status.append(&note);
        status.append(&retry);
        status.set_visible(false);
        let column = gtk::Box::new(gtk::Orientation::Vertical, 2);
        column.set_hexpand(true);
        column.append(&text);
        column.append(&status);
        line.append(&time);
        line.append(&nick);
        line.append(&column);
        root.append(&day);
        root.append(&line);
        MessageRow {
            root,
            day,
            time,
            nick,
            text,
            status,
            note,
            retry,
        }
    }

    /// Finds the row widgets again from the root box a ListItem holds.
    pub fn from_root(root: &gtk::Box) -> Option<MessageRow> {
        let day = root.first_child()?.downcast::<gtk::Label>().ok()?;
        let line = day.next_sibling()?;
        let time = line.first_child()?.downcast::<gtk::Label>().ok()?;
        let nick = time.next_sibling()?.downcast::<gtk::Label>().ok()?;
        let column = nick.next_sibling()?;
        let text = column.first_child()?.downcast::<gtk::Label>().ok()?;
        let status = text.next_sibling()?.downcast::<gtk::Box>().ok()?;
        let note = status.first_child()?.downcast::<gtk::Label>().ok()?;
        let retry = note.next_sibling()?.downcast::<gtk::Button>().ok()?;
        Some(MessageRow {
            root: root.clone(),
            day,
            time,
            nick,
            text,
            status,
            note,
            retry,
        })
    }

    /// The box of time, nickname and text, which the row's CSS classes style.
    fn line_box(&self) -> gtk::Widget {
        self.time
            .parent()
            .unwrap_or_else(|| self.root.clone().upcast())
    }

    /// The text shown, without markup.
    pub fn text(&self) -> String {
        self.text.text().to_string()
    }

    /// Shows `line` in this row, under its day's heading if it is the day's first.
    pub fn bind(&self, line: &Line, first_of_day: bool) {
        self.day.set_visible(first_of_day);
        if first_of_day {
            self.day
                .set_label(&super::days::day_label(line.time, SystemTime::now()));
        }
        let Some(row) = self.time.parent() else {
            return;
        };
        for class in ROW_CLASSES {
            row.remove_css_class(class);
        }
        for i in 0..PALETTE_SIZE {
            self.nick.remove_css_class(&format!("nick-{i}"));
        }
        self.time.set_label(&super::local_time(line.time, "%H:%M"));
        self.time
            .set_tooltip_text(Some(&super::local_time(line.time, "%A %e %B %Y, %H:%M:%S")));
        let colour = format!("nick-{}", colour_index(&line.sender));
        let (nick, markup) = match &line.kind {
            Kind::Chat { action: false } => (line.sender.clone(), linkify(&line.text)),
            Kind::Chat { action: true } => {
                self.line_box().add_css_class("action");
                (
                    "*".to_string(),
                    format!("<b>{}</b> {}", esc(&line.sender), linkify(&line.text)),
                )
            }
            Kind::Private { to, action } => {
                self.line_box().add_css_class("private");
                let label = if line.own {
                    format!("to {}", esc(to))
                } else {
                    "private".to_string()
                };
                let body = if *action {
                    format!(
                        "<i><b>{}</b> {}</i>",
                        esc(&line.sender),
                        linkify(&line.text)
                    )
                } else {
                    linkify(&line.text)
                };
                let pill = format!(
                    "<span size=\"small\" weight=\"bold\" foreground=\"#9141ac\">{label}</span>  "
                );
                (line.sender.clone(), format!("{pill}{body}"))
            }
            Kind::Notice => {
                self.line_box().add_css_class("notice");
                (String::new(), esc(&line.text))
            }
            Kind::Marker => {
                self.line_box().add_css_class("marker");
                (String::new(), esc(&line.text))
            }
            Kind::Error => {
                self.line_box().add_css_class("error");
                (String::new(), format!("⚠ {}", esc(&line.text)))
            }
        };
        if line.own {
            self.line_box().add_css_class("own");
        }
        if line.mention {
            self.line_box().add_css_class("mention");
        }
        if !nick.is_empty() && nick != "*" {
            self.nick.add_css_class(&colour);
        }
        self.nick
            .set_tooltip_text((!line.sender.is_empty()).then_some(line.sender.as_str()));
        self.nick.set_label(&nick);
        self.text.set_markup(&markup);
        self.bind_delivery(&line.delivery);
    }

    fn bind_delivery(&self, delivery: &Delivery) {
        match delivery {
            Delivery::Shown => self.status.set_visible(false),
            Delivery::Pending { .. } => {
                self.line_box().add_css_class("pending");
                self.note.set_label("Sending…");
                self.retry.set_action_name(None);
                self.retry.set_visible(false);
                self.status.set_visible(true);
            }
            Delivery::Failed { id, reason } => {
                self.line_box().add_css_class("failed");
                self.note.set_label(&format!("Not delivered: {reason}"));
                self.retry.set_action_target_value(Some(&id.to_variant()));
                self.retry.set_action_name(Some(RETRY_ACTION));
                self.retry.set_visible(true);
                self.status.set_visible(true);
            }
        }
    }

    /// The day heading above this row, when it has one.
    pub fn day_heading(&self) -> Option<String> {
        self.day.get_visible().then(|| self.day.label().to_string())
    }

    /// What the delivery note says, when it is shown.
    pub fn note(&self) -> Option<String> {
        self.status
            .get_visible()
            .then(|| self.note.label().to_string())
    }
}

impl Default for MessageRow {
    fn default() -> Self {
        MessageRow::new()
    }
}

fn esc(text: &str) -> String {
    glib::markup_escape_text(text).to_string()
}

/// Pango markup for message text, with `http(s)://` links made clickable.
pub fn linkify(text: &str) -> String {
    spans(text)
        .into_iter()
        .map(|span| match span {
            Span::Text(t) => esc(t),
            Span::Link(url) => format!("<a href=\"{0}\">{0}</a>", esc(url)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_escaped_and_clickable() {
        assert_eq!(
            linkify("a<b> https://x.org/?q=1&r=2"),
            "a&lt;b&gt; <a href=\"https://x.org/?q=1&amp;r=2\">https://x.org/?q=1&amp;r=2</a>"
        );
    }
}
