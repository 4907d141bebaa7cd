//! The network side: one `tlschat::runtime` connection thread per attempt, whose events are
//! forwarded into the UI's channel tagged with the attempt's generation, so that a late
//! event from an abandoned attempt cannot be mistaken for one from the current one.

use async_channel::Sender;
use tlschat::runtime::{self, ClientConfig, ClientHandle, MessageId, SendError};
use tlschat::wire::ClientMsg;

use crate::event::Event;

/// The current connection attempt.
pub struct Network {
    handle: ClientHandle,
}

impl Network {
    /// Starts connecting; events arrive on `events` as [`Event::Net`].
    pub fn start(config: ClientConfig, generation: u64, events: Sender<Event>) -> Network {
        let handle = runtime::spawn(config, move |event| {
            // Waits while the channel is full (see `event::channel`): this is the connection's
            // thread, never the UI's. If the UI is gone the program is exiting; nothing to tell.
            let _ = events.send_blocking(Event::Net { generation, event });
        });
        Network { handle }
    }

    /// Queues a message for the server.
    pub fn send(&self, msg: &ClientMsg) -> Result<MessageId, SendError> {
        self.handle.send(msg)
    }

    /// Says goodbye to the server and closes.
    pub fn quit(&self) {
        self.handle.quit();
    }

    /// Says goodbye with a reason the room is told, and closes.
    pub fn quit_with_reason(&self, reason: Option<String>) {
        self.handle.quit_with_reason(reason);
    }
}
