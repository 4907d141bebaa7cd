//! The message list: a ListView over a ListStore (so 10,000 rows stay smooth), that sticks
//! to the bottom while the reader is there and otherwise offers a "jump to latest" button
//! with a count of what arrived since.

use std::cell::Cell;
use std::rc::Rc;

use gtk::glib::clone;
use gtk::prelude::*;
use gtk::{gio, glib};

use super::days::{self, Item};
use super::message_row::MessageRow;
use crate::model::room::Op;
use crate::model::Line;

/// A store item for `line`; its day mark is set by [`days::refresh`].
fn new_item(line: &Line) -> glib::BoxedAnyObject {
    glib::BoxedAnyObject::new(Item {
        line: line.clone(),
        first_of_day: false,
    })
}

/// How close to the end (in pixels) still counts as "at the bottom".
const BOTTOM_SLACK: f64 = 24.0;

/// Whether a scroll position shows the end of the list.
pub fn at_bottom(value: f64, page_size: f64, upper: f64) -> bool {
    upper - (value + page_size) <= BOTTOM_SLACK
}

/// A row as drawn: see [`MessageList::drawn_rows`].
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnRow {
    pub text: String,
    /// The delivery note under our own message ("Sending…", "Not delivered: …").
    pub note: Option<String>,
    /// The day heading above the row ("Today", "Yesterday", a date), if it starts a day.
    pub day: Option<String>,
    /// Top edge in the scrolled window's coordinates.
    pub top: f32,
    /// The whole row is inside the viewport.
    pub whole: bool,
}

/// Scroll state shared by the adjustment's signal handlers.
#[derive(Default)]
struct Scroll {
    /// Follow new messages: true while the reader is at the bottom.
    sticky: Cell<bool>,
    unread: Cell<u32>,
    last_value: Cell<f64>,
}

/// The scrolling message list with its jump button.
#[derive(Clone)]
pub struct MessageList {
    root: gtk::Overlay,
    store: gio::ListStore,
    scrolled: gtk::ScrolledWindow,
    jump: gtk::Button,
    list_view: gtk::ListView,
    scroll: Rc<Scroll>,
    /// Holds the action the rows' Retry buttons activate.
    actions: gio::SimpleActionGroup,
}

impl MessageList {
    pub fn new() -> MessageList {
        let store = gio::ListStore::new::<glib::BoxedAnyObject>();
        let factory = gtk::SignalListItemFactory::new();
        factory.connect_setup(|_, item| {
            if let Some(item) = item.downcast_ref::<gtk::ListItem>() {
                item.set_child(Some(&MessageRow::new()));
                item.set_activatable(false);
            }
        });
        factory.connect_bind(|_, item| {
            let Some(item) = item.downcast_ref::<gtk::ListItem>() else {
                return;
            };
            let row = item.child().and_downcast::<MessageRow>();
            let line = item
                .item()
                .and_then(|o| o.downcast::<glib::BoxedAnyObject>().ok());
            if let (Some(row), Some(line)) = (row, line) {
                let item = line.borrow::<Item>();
                row.bind(&item.line, item.first_of_day);
            }
        });
        let selection = gtk::NoSelection::new(Some(store.clone()));
        let list_view = gtk::ListView::new(Some(selection), Some(factory));
        list_view.add_css_class("message-list");
        let scrolled = gtk::ScrolledWindow::builder()
            .hscrollbar_policy(gtk::PolicyType::Never)
            .vexpand(true)
            .hexpand(true)
            .child(&list_view)
            .build();
        let jump = gtk::Button::builder()
            .label("Jump to latest")
            .halign(gtk::Align::End)
            .valign(gtk::Align::End)
            .margin_end(18)
            .margin_bottom(12)
            .css_classes(["jump", "suggested-action"])
            .visible(false)
            .build();
        let root = gtk::Overlay::new();
        root.set_child(Some(&scrolled));
        root.add_overlay(&jump);
        let list = MessageList {
            root,
            store,
            scrolled,
            jump,
            list_view,
            scroll: Rc::new(Scroll::default()),
            actions: gio::SimpleActionGroup::new(),
        };
        list.root
            .insert_action_group("messages", Some(&list.actions));
        list.scroll.sticky.set(true);
        list.setup_scrolling();
        list
    }

    fn setup_scrolling(&self) {
        let adj = self.scrolled.vadjustment();
        let scroll = Rc::clone(&self.scroll);
        adj.connect_value_changed(clone!(
            #[weak(rename_to = jump)]
            self.jump,
            move |adj| {
                let value = adj.value();
                if at_bottom(value, adj.page_size(), adj.upper()) {
                    scroll.sticky.set(true);
                    scroll.unread.set(0);
                } else if value < scroll.last_value.get() - 1.0 {
                    // Only the reader scrolls up; the list growing or re-estimating row
                    // heights moves the value down, and must not unstick us.
                    scroll.sticky.set(false);
                }
                scroll.last_value.set(value);
                update_jump(&jump, &scroll);
            }
        ));
        let scroll = Rc::clone(&self.scroll);
        adj.connect_changed(clone!(
            #[weak(rename_to = list_view)]
            self.list_view,
            move |_| {
                if scroll.sticky.get() {
                    // `changed` comes during layout; scroll once it is done, when the rows
                    // have their real heights (a row still unmeasured scrolls to nowhere).
                    let scroll = Rc::clone(&scroll);
                    glib::idle_add_local_once(clone!(
                        #[weak]
                        list_view,
                        move || {
                            // The reader may have scrolled up in between.
                            if scroll.sticky.get() {
                                scroll_to_end(&list_view)
                            }
                        }
                    ));
                }
            }
        ));
        let scroll = Rc::clone(&self.scroll);
        self.jump.connect_clicked(clone!(
            #[weak(rename_to = list_view)]
            self.list_view,
            move |jump| {
                scroll.sticky.set(true);
                scroll.unread.set(0);
                scroll_to_end(&list_view);
                update_jump(jump, &scroll);
            }
        ));
    }

    /// The list with its jump button, to place in the window.
    pub fn root(&self) -> &gtk::Overlay {
        &self.root
    }

    /// Applies the model's changes: inserted lines and dropped old ones.
    pub fn apply(&self, ops: &[Op]) {
        for op in ops {
            match op {
                Op::Insert(index, line) => {
                    let index = (*index as u32).min(self.store.n_items());
                    let appended = index == self.store.n_items();
                    self.store.insert(index, &new_item(line));
                    days::refresh(&self.store, index, index + 1);
                    if appended && !self.scroll.sticky.get() {
                        self.scroll
                            .unread
                            .set(self.scroll.unread.get().saturating_add(1));
                    }
                }
                Op::Replace(index, line) => {
                    let index = *index as u32;
                    if index < self.store.n_items() {
                        self.store.splice(index, 1, &[new_item(line)]);
                        days::refresh(&self.store, index, index + 1);
                    }
                }
                Op::Remove(index) => {
                    let index = *index as u32;
                    if index < self.store.n_items() {
                        self.store.remove(index);
                        days::refresh(&self.store, index, index);
                    }
                }
                Op::DropFront(n) => {
                    let n = (*n as u32).min(self.store.n_items());
                    self.store.splice(0, n, &[] as &[glib::Object]);
                    days::refresh(&self.store, 0, 0);
                }
            }
        }
        if self.scroll.sticky.get() {
            self.scroll_to_bottom();
        }
        self.update_jump();
    }

    /// Scrolls to the newest message.
    pub fn scroll_to_bottom(&self) {
        scroll_to_end(&self.list_view);
    }

    /// Calls `retry` with a message's id when its Retry button is pressed.
    pub fn connect_retry(&self, retry: impl Fn(u64) + 'static) {
        let action = gio::SimpleAction::new("retry", Some(glib::VariantTy::UINT64));
        action.connect_activate(move |_, id| {
            if let Some(id) = id.and_then(|v| v.get::<u64>()) {
                retry(id);
            }
        });
        self.actions.add_action(&action);
    }

    /// The rows drawn inside the visible part of the list, top to bottom: each row's text
    /// and whether it lies wholly inside the viewport. For tests, in-process and end to end.
    pub fn drawn_rows(&self) -> Vec<DrawnRow> {
        let height = self.scrolled.height() as f32;
        let mut rows = Vec::new();
        let Some(list_view) = self.scrolled.child() else {
            return rows;
        };
        let mut child = list_view.first_child();
        while let Some(item) = child {
            child = item.next_sibling();
            let Some(row) = item.first_child().and_downcast::<MessageRow>() else {
                continue;
            };
            if !row.is_mapped() {
                continue;
            }
            let Some(bounds) = row.compute_bounds(&self.scrolled) else {
                continue;
            };
            let (top, bottom) = (bounds.y(), bounds.y() + bounds.height());
            if bottom <= 0.0 || top >= height {
                continue;
            }
            rows.push(DrawnRow {
                text: row.text(),
                note: row.note(),
                day: row.day_heading(),
                top,
                whole: top >= -0.5 && bottom <= height + 0.5,
            });
        }
        rows.sort_by(|a, b| a.top.total_cmp(&b.top));
        rows
    }

    #[cfg(test)]
    /// Whether new messages scroll into view.
    pub fn is_sticky(&self) -> bool {
        self.scroll.sticky.get()
    }

    #[cfg(test)]
    /// Messages that arrived below the view while the reader was scrolled up.
    pub fn unread(&self) -> u32 {
        self.scroll.unread.get()
    }

    #[cfg(test)]
    /// The scrollbar's adjustment, to read and move the scroll position.
    pub fn adjustment(&self) -> gtk::Adjustment {
        self.scrolled.vadjustment()
    }

    #[cfg(test)]
    /// The jump button's label, while it is shown.
    pub fn jump_label(&self) -> Option<String> {
        self.jump
            .is_visible()
            .then(|| self.jump.label().unwrap_or_default().to_string())
    }

    #[cfg(test)]
    /// Presses the jump button, as the reader would.
    pub fn click_jump(&self) {
        self.jump.emit_clicked();
    }

    #[cfg(test)]
    /// Number of rows.
    pub fn len(&self) -> u32 {
        self.store.n_items()
    }

    fn update_jump(&self) {
        update_jump(&self.jump, &self.scroll);
    }
}

/// Brings the last row into view, by the list's own "scroll to item". That anchors the
/// ListView to the row itself, so it stays in view while GTK measures rows whose height it
/// had only estimated. Setting the adjustment instead moves a scrollbar that the ListView
/// does not follow: the value reads "at the bottom" while older rows stay drawn.
fn scroll_to_end(list_view: &gtk::ListView) {
    let n = list_view.model().map_or(0, |m| m.n_items());
    if n == 0 {
        return;
    }
    // The action exists on every ListView (GTK 4.0+); `ListView::scroll_to` needs 4.12.
    let _ = list_view.activate_action("list.scroll-to-item", Some(&(n - 1).to_variant()));
}

/// Shows the jump button, with the unread count, while the reader is scrolled up.
fn update_jump(jump: &gtk::Button, scroll: &Scroll) {
    jump.set_visible(!scroll.sticky.get());
    let label = match scroll.unread.get() {
        0 => "Jump to latest ↓".to_string(),
        1 => "1 new message ↓".to_string(),
        n => format!("{n} new messages ↓"),
    };
    jump.set_label(&label);
}

impl Default for MessageList {
    fn default() -> Self {
        MessageList::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bottom_detection_has_some_slack() {
        assert!(at_bottom(900.0, 100.0, 1000.0));
        assert!(at_bottom(880.0, 100.0, 1000.0));
        assert!(!at_bottom(800.0, 100.0, 1000.0));
        assert!(
            at_bottom(0.0, 500.0, 300.0),
            "a short list is always at the bottom"
        );
    }
}
