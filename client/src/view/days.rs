//! Day separators in the message list: the first row of each local day carries a heading
//! ("Today", "Yesterday", "Monday 30 November 2026"), so history that spans days reads
//! right although each row shows only HH:MM.

use std::time::SystemTime;

use gtk::prelude::*;
use gtk::{gio, glib};

use crate::model::Line;

/// What the list store holds for each row.
#[derive(Debug, Clone)]
pub struct Item {
    pub line: Line,
    /// The first row of its local day: it shows the day above itself.
    pub first_of_day: bool,
}

/// The local calendar day of `time`.
pub fn local_day(time: SystemTime) -> Option<tlschat::runtime::clock::Date> {
    tlschat::runtime::clock::local_day(time)
}

/// The heading for the day of `time`, as seen `now`.
pub fn day_label(time: SystemTime, now: SystemTime) -> String {
    tlschat::runtime::clock::day_heading(time, now)
}

/// The item at `index`, if there is one.
fn with_item<T>(store: &gio::ListStore, index: u32, read: impl FnOnce(&Item) -> T) -> Option<T> {
    let object = store.item(index)?.downcast::<glib::BoxedAnyObject>().ok()?;
    let item = object.borrow::<Item>();
    Some(read(&item))
}

/// Recomputes the day marks of rows `from..=to` after a change there. Only a row whose mark
/// changes is copied, to be put back with its new mark.
pub fn refresh(store: &gio::ListStore, from: u32, to: u32) {
    for index in from..=to.min(store.n_items().saturating_sub(1)) {
        let Some((day, marked)) =
            with_item(store, index, |i| (local_day(i.line.time), i.first_of_day))
        else {
            continue;
        };
        let previous = index
            .checked_sub(1)
            .and_then(|i| with_item(store, i, |p| local_day(p.line.time)));
        let first = previous.is_none_or(|p| p != day);
        if first != marked {
            let Some(mut current) = with_item(store, index, Item::clone) else {
                continue;
            };
            current.first_of_day = first;
            store.splice(index, 1, &[glib::BoxedAnyObject::new(current)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn today_yesterday_and_older_days() {
        let now = SystemTime::now();
        assert_eq!(day_label(now, now), "Today");
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(day_label(now - day, now), "Yesterday");
        let older = day_label(now - day * 9, now);
        assert!(
            !older.contains("day ") || older.split(' ').count() == 4,
            "{older}"
        );
        assert!(older.ends_with(&super::super::local_time(now - day * 9, "%Y")));
    }
}
