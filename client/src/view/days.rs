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
pub fn item(store: &gio::ListStore, index: u32) -> Option<Item> {
    store
        .item(index)
        .and_then(|o| o.downcast::<glib::BoxedAnyObject>().ok())
        .map(|b| b.borrow::<Item>().clone())
}

/// Recomputes the day marks of rows `from..=to` after a change there.
pub fn refresh(store: &gio::ListStore, from: u32, to: u32) {
    for index in from..=to.min(store.n_items().saturating_sub(1)) {
        let Some(mut current) = item(store, index) else {
            continue;
        };
        let previous = index
            .checked_sub(1)
            .and_then(|i| item(store, i))
            .map(|p| local_day(p.line.time));
        let first = previous.is_none_or(|p| p != local_day(current.line.time));
        if first != current.first_of_day {
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
