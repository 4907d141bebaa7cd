//! The room's combining flush: whoever broadcasts also sends, and one sender at a time
//! sends for everyone.
//!
//! Broadcasting queues a frame for each member under the room lock and notes the members
//! whose queue was empty (the *dirty* ones). After the room lock, the broadcaster hands them
//! here. If nobody is flushing, it becomes the flusher and sends to every dirty member, again
//! and again while others keep handing in more; if someone is, it goes back to reading its
//! own socket at once. A quiet room gets its frame sent immediately by the thread that
//! queued it; a busy one gets many frames per TLS record and per system call, and no thread
//! is ever woken to deliver.

use std::sync::{Arc, Mutex};

use crate::conn::Conn;
use crate::room::Recipient;

pub struct Flusher<C = Conn> {
    state: Mutex<State<C>>,
}

struct State<C> {
    dirty: Vec<Arc<C>>,
    active: bool,
}

impl<C> Default for Flusher<C> {
    fn default() -> Self {
        Flusher {
            state: Mutex::new(State {
                dirty: Vec::new(),
                active: false,
            }),
        }
    }
}

impl<C: Recipient> Flusher<C> {
    /// Sends to `dirty` (and everyone made dirty meanwhile), unless another thread already is.
    pub fn flush(&self, dirty: &mut Vec<Arc<C>>) {
        if dirty.is_empty() {
            return;
        }
        let mut batch = {
            let mut state = self.lock();
            state.dirty.append(dirty);
            if state.active {
                return;
            }
            state.active = true;
            std::mem::take(&mut state.dirty)
        };
        loop {
            for conn in batch.drain(..) {
                conn.flush();
            }
            let mut state = self.lock();
            if state.dirty.is_empty() {
                state.active = false;
                // Keep the larger buffer for the next round of dirty members.
                if state.dirty.capacity() < batch.capacity() {
                    std::mem::swap(&mut state.dirty, &mut batch);
                }
                return;
            }
            std::mem::swap(&mut state.dirty, &mut batch);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<C>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
