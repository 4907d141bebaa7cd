//! The one channel into the controller, and what travels on it: the network thread's
//! events, the user's actions (defined by the view), and the reconnect countdown's ticks.

use async_channel::{Receiver, Sender};
use tlschat::runtime::NetEvent;

use crate::view::Action;

/// Everything that can happen to the client, from the network, the widgets or the clock.
#[derive(Debug)]
pub enum Event {
    /// Something happened on connection attempt `generation`.
    Net { generation: u64, event: NetEvent },
    /// The user did something in the window.
    User(Action),
    /// The reconnect countdown ticks.
    Tick,
}

impl From<Action> for Event {
    fn from(action: Action) -> Event {
        Event::User(action)
    }
}

/// How many events may wait for the controller. When the channel is full the network thread
/// waits (so the server's lines wait in the socket), while the UI thread never does: the
/// view queues the user's actions in order (`view::action::ActionSender`) and a tick is
/// skipped, as the next comes a quarter of a second later. A join's history (200 lines by
/// default) fits; a long catch-up after a reconnect may fill it, and then the network
/// thread reads on as fast as the controller shows.
const CAPACITY: usize = 1024;

/// The channel between the network thread, the widgets and the controller.
pub fn channel() -> (Sender<Event>, Receiver<Event>) {
    async_channel::bounded(CAPACITY)
}
