//! Where each new line goes in the message list.
//!
//! Room messages carry a room-wide `seq`, and the lines keep that order: after a resume the
//! server replays the missed room messages first and then the private messages kept for us,
//! which may be older than the last room message replayed, so those are slotted in before
//! newer rows. (What was shown already never gets here: `tlschat::runtime::shown` drops it.)
//! Local notices (joins, errors) have no `seq` and always go at the end, and so do the
//! user's own messages while they wait for the server's echo (found again by their id).

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
}

impl Timeline {
    /// Claims a row for a line and returns its index.
    pub fn place(&mut self, seq: Option<u64>) -> usize {
        let Some(seq) = seq else {
            self.rows.push(Row::Local);
            return self.rows.len() - 1;
        };
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
        index
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
            self.rows.remove(index);
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Forgets the oldest `n` rows, so a room left open for weeks does not grow without bound.
    pub fn drop_front(&mut self, n: usize) {
        self.rows.drain(..n.min(self.rows.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_in_order() {
        let mut t = Timeline::default();
        assert_eq!(t.place(Some(1)), 0);
        assert_eq!(t.place(Some(2)), 1);
        assert_eq!(t.place(None), 2);
        assert_eq!(t.place(Some(5)), 3);
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn an_older_message_slots_in_before_newer_ones() {
        let mut t = Timeline::default();
        t.place(Some(10));
        t.place(None); // "disconnected"
        t.place(Some(14));
        assert_eq!(t.place(Some(9)), 0);
        assert_eq!(t.place(Some(12)), 3);
        use Row::{Local, Seq};
        assert_eq!(t.rows, vec![Seq(9), Seq(10), Local, Seq(12), Seq(14)]);
    }

    #[test]
    fn outgoing_rows_wait_at_the_end_and_are_found_by_id() {
        let mut t = Timeline::default();
        t.place(Some(1));
        assert_eq!(t.place_outgoing(7), 1);
        assert_eq!(t.place(Some(2)), 2, "others' messages go after it");
        assert_eq!(t.outgoing_index(7), Some(1));
        t.remove(1);
        assert_eq!(t.outgoing_index(7), None);
        assert_eq!(t.place(Some(3)), 2, "its echo takes its place in seq order");
    }

    #[test]
    fn dropping_the_front_keeps_the_rest_in_order() {
        let mut t = Timeline::default();
        for seq in 1..=5 {
            t.place(Some(seq));
        }
        t.drop_front(2);
        assert_eq!(t.len(), 3);
        assert_eq!(t.place(Some(6)), 3);
        t.drop_front(10);
        assert_eq!(t.len(), 0);
    }
}
