//! What a connection owes its peer: the frames waiting, and how much of them is sent.

use std::collections::VecDeque;

use super::{Closed, Frame};

#[derive(Default)]
pub struct Queue {
    /// A welcome and the messages it replays: sent before `frames`. Not counted against the
    /// budget, since these are shared with the room's history rather than copies, and not
    /// encrypted faster than the peer reads them.
    pub catchup: VecDeque<Frame>,
    /// Everything else, in room order.
    pub frames: VecDeque<Frame>,
    /// How much of the first queued frame (in `catchup`, else in `frames`) is already sent.
    pub offset: usize,
    /// Plaintext bytes in `frames` not yet sent.
    pub bytes: usize,
    /// Ciphertext the kernel has not taken yet.
    pub unsent: usize,
    /// The socket is full: the writer thread owns the rest until it is writable.
    pub blocked: bool,
    pub closed: Option<Closed>,
    /// The socket has been shut down: nothing more will be sent or read.
    pub shut: bool,
}

impl Queue {
    pub fn owed(&self) -> usize {
        self.bytes + self.unsent
    }

    /// Whether a flush has work to do that is not the writer thread's.
    pub fn wants_flush(&self) -> bool {
        !self.blocked
            && !self.shut
            && (!self.is_empty() || self.unsent > 0 || self.closed.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.catchup.is_empty()
    }

    /// Nothing queued and nobody about to send: a frame queued now needs a flush.
    pub fn is_idle(&self) -> bool {
        self.is_empty() && !self.blocked
    }

    pub fn clear(&mut self) {
        self.catchup = VecDeque::new();
        self.frames = VecDeque::new();
        self.offset = 0;
        self.bytes = 0;
    }

    /// The queue the next bytes come from (the catch-up first), and whether it counts
    /// against the budget.
    fn next_deque(&mut self) -> (&mut VecDeque<Frame>, bool) {
        if self.catchup.is_empty() {
            (&mut self.frames, true)
        } else {
            (&mut self.catchup, false)
        }
    }

    /// Takes the next plaintext to encrypt: a whole frame when that is all there is, else up
    /// to [`COALESCE`] bytes copied from the frames in order (a large frame goes in pieces, so
    /// no more ciphertext is made than the socket may soon take).
    pub fn take_batch(&mut self) -> Option<Batch> {
        if self.offset == 0 && self.catchup.len() + self.frames.len() == 1 {
            let (deque, budgeted) = self.next_deque();
            if deque.front().is_some_and(|f| f.len() <= COALESCE) {
                let frame = deque.pop_front()?;
                if budgeted {
                    self.bytes = self.bytes.saturating_sub(frame.len());
                }
                return Some(Batch::Whole(frame));
            }
        }
        let mut plain = Vec::with_capacity(self.batch_len());
        while plain.len() < COALESCE {
            let offset = self.offset;
            let (deque, budgeted) = self.next_deque();
            let Some(front) = deque.front() else {
                break;
            };
            let rest = front.get(offset..).unwrap_or_default();
            let take = rest.len().min(COALESCE - plain.len());
            plain.extend_from_slice(rest.get(..take).unwrap_or_default());
            let whole = take == rest.len();
            if whole {
                deque.pop_front();
            }
            if budgeted {
                self.bytes = self.bytes.saturating_sub(take);
            }
            self.offset = if whole { 0 } else { offset + take };
        }
        (!plain.is_empty()).then_some(Batch::Copied(plain))
    }
}

impl Queue {
    /// How many bytes the next copied batch takes: what is queued, up to [`COALESCE`], so
    /// the batch is allocated once.
    fn batch_len(&self) -> usize {
        let mut queued = 0;
        for frame in self.catchup.iter().chain(&self.frames) {
            queued += frame.len();
            if queued >= self.offset + COALESCE {
                break;
            }
        }
        queued.saturating_sub(self.offset).min(COALESCE)
    }
}

/// Plaintext for one TLS write.
pub enum Batch {
    Whole(Frame),
    Copied(Vec<u8>),
}

impl Batch {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Batch::Whole(frame) => frame,
            Batch::Copied(plain) => plain,
        }
    }
}

/// Most plaintext encrypted at once: one TLS record.
pub const COALESCE: usize = 16 * 1024;
