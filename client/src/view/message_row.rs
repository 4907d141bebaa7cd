//! One row of the message list: time, nickname, text, and for a message of ours that is not
//! in the room yet, a note ("Sending…", "Not delivered: …") with a Retry button. Rows are
//! recycled by the ListView, so `bind` must reset everything `setup` or an earlier `bind`
//! may have set.

use std::time::SystemTime;

use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{glib, pango};

use crate::model::text::{colour_index, spans, Span, PALETTE_SIZE};
use crate::model::{Delivery, Kind, Line};

/// The action a Retry button activates, with the message's id as its target.
pub const RETRY_ACTION: &str = "messages.retry";

glib::wrapper! {
    /// One row's widgets, created once per recycled row: a vertical box holding the day
    /// heading and the line, which keeps its labels itself so `bind` finds them.
    pub struct MessageRow(ObjectSubclass<imp::MessageRow>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

mod imp {
    use std::cell::OnceCell;

    use gtk::glib;
    use gtk::subclass::prelude::*;

    #[derive(Default)]
    pub struct MessageRow {
        pub parts: OnceCell<super::Parts>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for MessageRow {
        const NAME: &'static str = "TlschatMessageRow";
        type Type = super::MessageRow;
        type ParentType = gtk::Box;
    }

    impl ObjectImpl for MessageRow {
        fn constructed(&self) {
            self.parent_constructed();
            let _ = self.parts.set(super::Parts::build(&self.obj()));
        }
    }

    impl WidgetImpl for MessageRow {}
    impl BoxImpl for MessageRow {}
}

/// The widgets inside a row.
pub struct Parts {
    /// Above the first row of a day: "Today", "Yesterday", a date.
    day: gtk::Label,
    /// Time, nickname and text side by side; the row's CSS classes style it.
    line: gtk::Box,
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

impl Parts {
    /// Builds the widgets of an empty row inside `root`.
    fn build(root: &MessageRow) -> Parts {
        root.set_orientation(gtk::Orientation::Vertical);
        root.set_spacing(0);
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
        Parts {
            day,
            line,
            time,
            nick,
            text,
            status,
            note,
            retry,
        }
    }
}

impl MessageRow {
    /// An empty row.
    pub fn new() -> MessageRow {
        glib::Object::new()
    }

    fn parts(&self) -> &Parts {
        self.imp()
            .parts
            .get()
            .expect("constructed() builds the parts of every row")
    }

    /// The text shown, without markup.
    pub fn text(&self) -> String {
        self.parts().text.text().to_string()
    }

    /// Shows `line` in this row, under its day's heading if it is the day's first.
    pub fn bind(&self, line: &Line, first_of_day: bool) {
        let p = self.parts();
        p.day.set_visible(first_of_day);
        if first_of_day {
            p.day
                .set_label(&super::days::day_label(line.time, SystemTime::now()));
        }
        for class in ROW_CLASSES {
            p.line.remove_css_class(class);
        }
        for i in 0..PALETTE_SIZE {
            p.nick.remove_css_class(&format!("nick-{i}"));
        }
        p.time.set_label(&super::local_time(line.time, "%H:%M"));
        p.time
            .set_tooltip_text(Some(&super::local_time(line.time, "%A %e %B %Y, %H:%M:%S")));
        let colour = format!("nick-{}", colour_index(&line.sender));
        let (nick, markup) = match &line.kind {
            Kind::Chat { action: false } => (line.sender.clone(), linkify(&line.text)),
            Kind::Chat { action: true } => {
                p.line.add_css_class("action");
                (
                    "*".to_string(),
                    format!("<b>{}</b> {}", esc(&line.sender), linkify(&line.text)),
                )
            }
            Kind::Private { to, action } => {
                p.line.add_css_class("private");
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
                p.line.add_css_class("notice");
                (String::new(), esc(&line.text))
            }
            Kind::Marker => {
                p.line.add_css_class("marker");
                (String::new(), esc(&line.text))
            }
            Kind::Error => {
                p.line.add_css_class("error");
                (String::new(), format!("⚠ {}", esc(&line.text)))
            }
        };
        if line.own {
            p.line.add_css_class("own");
        }
        if line.mention {
            p.line.add_css_class("mention");
        }
        if !nick.is_empty() && nick != "*" {
            p.nick.add_css_class(&colour);
        }
        p.nick
            .set_tooltip_text((!line.sender.is_empty()).then_some(line.sender.as_str()));
        p.nick.set_label(&nick);
        p.text.set_markup(&markup);
        self.bind_delivery(&line.delivery);
    }

    fn bind_delivery(&self, delivery: &Delivery) {
        let p = self.parts();
        match delivery {
            Delivery::Shown => p.status.set_visible(false),
            Delivery::Pending { .. } => {
                p.line.add_css_class("pending");
                p.note.set_label("Sending…");
                p.retry.set_action_name(None);
                p.retry.set_visible(false);
                p.status.set_visible(true);
            }
            Delivery::Failed { id, reason } => {
                p.line.add_css_class("failed");
                p.note.set_label(&format!("Not delivered: {reason}"));
                p.retry.set_action_target_value(Some(&id.to_variant()));
                p.retry.set_action_name(Some(RETRY_ACTION));
                p.retry.set_visible(true);
                p.status.set_visible(true);
            }
        }
    }

    /// The day heading above this row, when it has one.
    pub fn day_heading(&self) -> Option<String> {
        let p = self.parts();
        p.day.get_visible().then(|| p.day.label().to_string())
    }

    /// What the delivery note says, when it is shown.
    pub fn note(&self) -> Option<String> {
        let p = self.parts();
        p.status.get_visible().then(|| p.note.label().to_string())
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
