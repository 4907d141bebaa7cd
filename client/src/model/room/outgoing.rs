//! The user's own messages between Enter and the server's echo: shown at once as pending,
//! then replaced by the echo (in the room's order), or marked as not delivered with a Retry.
//! Nothing typed disappears without a trace. Which is which the client runtime says, by the
//! [`MessageId`] it gave each message; this only draws it.

use std::time::SystemTime;

use tlschat::runtime::MessageId;
use tlschat::wire::ClientMsg;

use super::{Op, Room, Update};
use crate::model::{Delivery, Kind, Line};

/// A message shown before the room has it.
#[derive(Debug)]
pub(super) struct Outgoing {
    /// The row's id, for its Retry button.
    id: u64,
    /// What the runtime calls it.
    sent: MessageId,
    msg: ClientMsg,
    time: SystemTime,
    failed: bool,
}

impl Room {
    /// Shows `msg`, just handed to the connection, as pending; returns its id (`None` for
    /// what is not a chat message).
    pub fn sending(&mut self, up: &mut Update, sent: MessageId, msg: ClientMsg) -> Option<u64> {
        let time = SystemTime::now();
        self.next_outgoing += 1;
        let id = self.next_outgoing;
        let line = self.outgoing_line(&msg, time, Delivery::Pending { id })?;
        let index = self.timeline.place_outgoing(id);
        up.ops.push(Op::Insert(index, line));
        self.outgoing.push(Outgoing {
            id,
            sent,
            msg,
            time,
            failed: false,
        });
        Some(id)
    }

    /// One of our messages reached the room: its pending line gives way to the echo.
    pub fn delivered(&mut self, up: &mut Update, sent: MessageId) {
        let Some(pos) = self.outgoing.iter().position(|o| o.sent == sent) else {
            return;
        };
        let done = self.outgoing.remove(pos);
        self.remove_outgoing_row(up, done.id);
        up.delivered = true;
    }

    /// The server refused a message, or the connection lost it: its line says so, with a
    /// Retry. False when no pending line shows it (the caller then says so on its own line).
    pub fn failed(&mut self, up: &mut Update, sent: MessageId, reason: &str) -> bool {
        let Some(pos) = self
            .outgoing
            .iter()
            .position(|o| !o.failed && o.sent == sent)
        else {
            return false;
        };
        let (id, time) = (self.outgoing[pos].id, self.outgoing[pos].time);
        let delivery = Delivery::Failed {
            id,
            reason: reason.to_string(),
        };
        let (Some(index), Some(line)) = (
            self.timeline.outgoing_index(id),
            self.outgoing_line(&self.outgoing[pos].msg, time, delivery),
        ) else {
            return false;
        };
        self.outgoing[pos].failed = true;
        up.ops.push(Op::Replace(index, line));
        true
    }

    /// Takes the failed message `id` out of the list, to be sent again.
    pub fn retry(&mut self, up: &mut Update, id: u64) -> Option<ClientMsg> {
        let pos = self.outgoing.iter().position(|o| o.id == id && o.failed)?;
        let again = self.outgoing.remove(pos);
        self.remove_outgoing_row(up, id);
        Some(again.msg)
    }

    /// The latest message that was not delivered, for `/retry`.
    pub fn latest_failed(&self) -> Option<u64> {
        self.outgoing.iter().rev().find(|o| o.failed).map(|o| o.id)
    }

    #[cfg(test)]
    /// How many messages are still waiting for the server.
    pub fn pending(&self) -> usize {
        self.outgoing.iter().filter(|o| !o.failed).count()
    }

    fn remove_outgoing_row(&mut self, up: &mut Update, id: u64) {
        if let Some(index) = self.timeline.outgoing_index(id) {
            self.timeline.remove(index);
            up.ops.push(Op::Remove(index));
        }
    }

    fn outgoing_line(&self, msg: &ClientMsg, time: SystemTime, delivery: Delivery) -> Option<Line> {
        let (kind, text) = match msg {
            ClientMsg::Broadcast { message, action } => (Kind::Chat { action: *action }, message),
            ClientMsg::Private {
                to,
                message,
                action,
            } => (
                Kind::Private {
                    to: to.clone(),
                    action: *action,
                },
                message,
            ),
            _ => return None,
        };
        let sender = match &self.me {
            Some(me) => me.nickname.clone(),
            None => self.requested_nickname.clone(),
        };
        Some(Line {
            seq: None,
            time,
            kind,
            sender,
            text: text.trim().to_string(),
            own: true,
            mention: false,
            delivery,
        })
    }
}
