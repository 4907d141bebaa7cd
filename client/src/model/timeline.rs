//! Where each new line goes in the message list.
//!
//! Room messages carry a room-wide `seq`. After a reconnect the server replays its recent
//! history, which overlaps with what we already show, and a replayed message may be older
//! than the newest one we have. The timeline remembers the `seq` of every row so that a
//! message already shown is dropped and an older one is slotted in before newer ones.
//! Local notices (joins, errors) have no `seq` and always go at the end.

use std::collections::HashSet;

/// The `seq` (if any) of every row of the message list, in display order.
#[derive(Debug, Default)]
pub struct Timeline {
    rows: Vec<Option<u64>>,
    seen: HashSet<u64>,
}

impl Timeline {
    /// Claims a row for a line; returns its index, or `None` if this `seq` is already shown.
    pub fn place(&mut self, seq: Option<u64>) -> Option<usize> {
        let Some(seq) = seq else {
            self.rows.push(None);
            return Some(self.rows.len() - 1);
        };
        if !self.seen.insert(seq) {
            return None;
        }
        // Scan from the end: almost every message is the newest, so this stops at once.
        let mut index = self.rows.len();
        for (i, row) in self.rows.iter().enumerate().rev() {
            match row {
                Some(s) if *s > seq => index = i,
                Some(_) => break,
                None => {}
            }
        }
        self.rows.insert(index, Some(seq));
        Some(index)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Forgets the oldest `n` rows, so a room left open for weeks does not grow without bound.
    pub fn drop_front(&mut self, n: usize) {
        let n = n.min(self.rows.len());
        for seq in self.rows.drain(..n).flatten() {
            self.seen.remove(&seq);
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
        assert_eq!(t.rows, vec![Some(9), Some(10), None, Some(12), Some(14)]);
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
