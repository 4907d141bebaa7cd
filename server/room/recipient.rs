//! What the room delivers to. The server's recipients are connections ([`Conn`]); the
//! room's unit tests put a fake in their place, so fan-out, the slow-member cascade and
//! ghosts are tested without sockets. The room is generic over it (not `dyn`), so a
//! delivery costs what calling [`Conn`] directly does.

use std::sync::Arc;

use crate::conn::{Closed, Conn, Frame, PushError};

/// A member's connection as the room uses it: a bounded queue it appends frames to under
/// its lock, and a flush it runs after releasing that lock.
pub trait Recipient: Send + Sync {
    /// Queues a frame within the send budget; `Ok(true)` if it needs a [`flush`]
    /// (see [`Conn::push`]). Past the budget it closes itself as too slow.
    ///
    /// [`flush`]: Recipient::flush
    fn push(&self, frame: Frame) -> Result<bool, PushError>;
    /// Queues part of a catch-up ahead of everything else, outside the budget.
    fn push_catchup(&self, frame: Frame) -> Result<bool, PushError>;
    /// Stops taking frames, `bye` last; true if it needs a flush.
    fn close(&self, why: Closed, bye: Option<Frame>) -> bool;
    /// Sends what is queued, without blocking.
    fn flush(self: &Arc<Self>);
}

impl Recipient for Conn {
    fn push(&self, frame: Frame) -> Result<bool, PushError> {
        Conn::push(self, frame)
    }

    fn push_catchup(&self, frame: Frame) -> Result<bool, PushError> {
        Conn::push_catchup(self, frame)
    }

    fn close(&self, why: Closed, bye: Option<Frame>) -> bool {
        Conn::close(self, why, bye)
    }

    fn flush(self: &Arc<Self>) {
        Conn::flush(self)
    }
}
