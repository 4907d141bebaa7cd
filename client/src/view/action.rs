//! What the user did, as the view tells the controller: each widget reports its signals with
//! what they carry (the text submitted, the fields of a login), and the window sends them as
//! [`Action`]s into the client's one channel. The view defines this type and knows nothing of
//! the channel's other messages, so it never imports the controller.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use async_channel::{Sender, TrySendError};
use gtk::glib;

use super::connect_bar::LoginFields;

/// One thing the user did.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Enter in a connection field (or `--connect`): connect, switch servers, or change
    /// nickname.
    Login(LoginFields),
    /// The Login button: Login, Retry, Disconnect or Reconnect now, by the phase.
    Button(LoginFields),
    /// Enter in the message entry, or Send: the text as typed, still in the entry.
    Submit(String),
    /// Up in the message entry, with what the entry holds (kept as the draft).
    RecallPrevious(String),
    /// Down in the message entry.
    RecallNext,
    /// Tab in the message entry: its text and the cursor, as a byte offset into it.
    Complete { text: String, cursor: usize },
    /// A user in the sidebar was activated: start a private message.
    Query(String),
    /// Retry pressed on a message that was not delivered (its id).
    Retry(u64),
    /// The window came to the front (true) or went to the background.
    Focus(bool),
    /// The window is being closed.
    Close,
}

/// The view's end of the one channel. The channel is bounded and the network thread may
/// have filled it; the UI thread must never wait and nothing the user does may be lost, so
/// when it is full the actions queue here, in order, and a local future feeds them in as
/// the controller makes room.
pub struct ActionSender<E> {
    events: Sender<E>,
    backlog: Rc<RefCell<VecDeque<E>>>,
    /// A future is feeding the backlog in.
    feeding: Rc<Cell<bool>>,
}

impl<E> Clone for ActionSender<E> {
    fn clone(&self) -> Self {
        ActionSender {
            events: self.events.clone(),
            backlog: Rc::clone(&self.backlog),
            feeding: Rc::clone(&self.feeding),
        }
    }
}

impl<E: From<Action> + 'static> ActionSender<E> {
    pub fn new(events: Sender<E>) -> ActionSender<E> {
        ActionSender {
            events,
            backlog: Rc::default(),
            feeding: Rc::default(),
        }
    }

    /// Sends `action` without waiting, behind any that are still queued.
    pub fn send(&self, action: Action) {
        let event = E::from(action);
        if self.feeding.get() {
            // Behind those already waiting, so the controller sees them in the user's order.
            self.backlog.borrow_mut().push_back(event);
            return;
        }
        match self.events.try_send(event) {
            // Closed: the controller is gone and the program is exiting.
            Ok(()) | Err(TrySendError::Closed(_)) => {}
            Err(TrySendError::Full(event)) => {
                self.backlog.borrow_mut().push_back(event);
                self.feed();
            }
        }
    }

    /// Feeds the backlog into the channel as room appears, on the UI thread's main loop.
    fn feed(&self) {
        self.feeding.set(true);
        let this = self.clone();
        glib::spawn_future_local(async move {
            loop {
                let next = this.backlog.borrow_mut().pop_front();
                let Some(event) = next else { break };
                if this.events.send(event).await.is_err() {
                    this.backlog.borrow_mut().clear();
                    break;
                }
            }
            this.feeding.set(false);
        });
    }
}
