//! Where each new line goes in the message list.
//!
//! Room messages carry a room-wide `seq`. After a reconnect the server replays its recent
//! history, which overlaps with what we already show, and a replayed message may be older
//! than the newest one we have. The timeline remembers the `seq` of every row so that a
//! message already shown is dropped and an older one is slotted in before newer ones.
//! Local notices (joins, errors) have no `seq` and always go at the end, and so do the
//! user's own messages while they wait for the server's echo (found again by their id).

use std::collections::HashSet;

/// What the timeline knows of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Seq(u64),
    Local,
    /// A message this user sent, by its local id, not yet in the room's order.
    Outgoing(u64),
    /// The "New messages" line.
    Marker,
}

/// The `seq` (if any) of every row of the message list, in display order.
#[derive(Debug, Default)]
pub struct Timeline {
    rows: Vec<Row>,
    seen: HashSet<u64>,
}

impl Timeline {
    /// Claims a row for a line; returns its index, or `None` if this `seq` is already shown.
    pub fn place(&mut self, seq: Option<u64>) -> Option<usize> {
        let Some(seq) = seq else {
            self.rows.push(Row::Local);
            return Some(self.rows.len() - 1);
        };
        if !self.seen.insert(seq) {
            return None;
        }
        // Scan from the end: almost every message is the newest, so this stops at once.
        let mut index = self.rows.len();
        for (i, row) in self.rows.iter().enumerate().rev() {
            match row {
                Row::Seq(s) if *s > seq => index = i,
                Row::Seq(_) => break,
                Row::Local | Row::Outgoing(_) | Row::Marker => {}
            }
        }
        self.rows.insert(index, Row::Seq(seq));
        Some(index)
    }

    /// Claims a row at the end for outgoing message `id`; returns its index.
    pub fn place_outgoing(&mut self, id: u64) -> usize {
        self.rows.push(Row::Outgoing(id));
        self.rows.len() - 1
    }

    /// Claims a row at the end for the "New messages" line; returns its index.
    pub fn place_marker(&mut self) -> usize {
        self.rows.push(Row::Marker);
        self.rows.len() - 1
    }

    /// Where the "New messages" line is.
    pub fn marker_index(&self) -> Option<usize> {
        self.rows.iter().rposition(|r| *r == Row::Marker)
    }

    /// Where outgoing message `id` is shown.
    pub fn outgoing_index(&self, id: u64) -> Option<usize> {
        self.rows.iter().rposition(|r| *r == Row::Outgoing(id))
    }

    /// Forgets the row at `index` (an outgoing message that was echoed or retried).
    pub fn remove(&mut self, index: usize) {
        if index < self.rows.len() {
            if let Row::Seq(seq) = self.rows.remove(index) {
                self.seen.remove(&seq);
            }
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Forgets the oldest `n` rows, so a room left open for weeks does not grow without bound.
    pub fn drop_front(&mut self, n: usize) {
        let n = n.min(self.rows.len());
        for row in self.rows.drain(..n) {
            if let Row::Seq(seq) = row {
                self.seen.remove(&seq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_in_order_and_drops_duplicates() {
        let mut t = Timeline::default();
        assert_eq!(t.place(Some(1)), Some(0));
        assert_eq!(t.place(Some(2)), Some(1));
        assert_eq!(t.place(None), Some(2));
        assert_eq!(t.place(Some(2)), None);
        assert_eq!(t.place(Some(5)), Some(3));
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn replayed_history_slots_older_messages_before_newer_ones() {
        let mut t = Timeline::default();
        t.place(Some(10));
        t.place(None); // "disconnected"
                       // 14 arrived live after the reconnect, before the replay finished.
        t.place(Some(14));
        // The replay: 9 and 10 are old news, 12 was missed.
        assert_eq!(t.place(Some(9)), Some(0));
        assert_eq!(t.place(Some(10)), None);
        assert_eq!(t.place(Some(12)), Some(3));
        use Row::{Local, Seq};
        assert_eq!(t.rows, vec![Seq(9), Seq(10), Local, Seq(12), Seq(14)]);
    }

    #[test]
    fn outgoing_rows_wait_at_the_end_and_are_found_by_id() {
        let mut t = Timeline::default();
        t.place(Some(1));
        assert_eq!(t.place_outgoing(7), 1);
        assert_eq!(t.place(Some(2)), Some(2), "others' messages go after it");
        assert_eq!(t.outgoing_index(7), Some(1));
        t.remove(1);
        assert_eq!(t.outgoing_index(7), None);
        assert_eq!(
            t.place(Some(3)),
            Some(2),
            "its echo takes its place in seq order"
        );
    }

    #[test]
    fn dropping_the_front_forgets_those_seqs() {
        let mut t = Timeline::default();
        for seq in 1..=5 {
            t.place(Some(seq));
        }
        t.drop_front(2);
        assert_eq!(t.len(), 3);
        assert!(t.place(Some(3)).is_none());
        assert_eq!(t.place(Some(1)), Some(0));
    }
}
