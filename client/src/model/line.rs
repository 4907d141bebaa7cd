//! One row of the message list, as the model describes it.

use std::time::SystemTime;

/// What kind of row a [`Line`] is; the view styles each differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A room message; `action` for `/me`.
    Chat { action: bool },
    /// A private message between `sender` and `to`.
    Private { to: String, action: bool },
    /// A quiet line: joins, leaves, renames, connection news.
    Notice,
    /// Something went wrong and the user should know (a message not delivered, say).
    Error,
    /// "New messages": where the user left off while the window was in the background.
    Marker,
}

/// Where a line this user sent stands; everything else is simply shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Delivery {
    #[default]
    Shown,
    /// Sent (or held back by pacing) and not yet echoed by the server.
    Pending { id: u64 },
    /// The server refused it or the connection dropped it; `reason` is for people.
    Failed { id: u64, reason: String },
}

/// One row of the message list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Room-wide sequence number for chat and private messages.
    pub seq: Option<u64>,
    pub time: SystemTime,
    pub kind: Kind,
    /// Nickname of the sender; empty for notices.
    pub sender: String,
    pub text: String,
    /// Sent by this user.
    pub own: bool,
    /// Mentions this user's nickname (and was not sent by them).
    pub mention: bool,
    pub delivery: Delivery,
}

impl Line {
    /// A quiet line at `time`.
    pub fn notice(time: SystemTime, text: impl Into<String>) -> Line {
        Line::local(Kind::Notice, time, text)
    }

    /// An error line at `time`.
    pub fn error(time: SystemTime, text: impl Into<String>) -> Line {
        Line::local(Kind::Error, time, text)
    }

    fn local(kind: Kind, time: SystemTime, text: impl Into<String>) -> Line {
        Line {
            seq: None,
            time,
            kind,
            sender: String::new(),
            text: text.into(),
            own: false,
            mention: false,
            delivery: Delivery::Shown,
        }
    }

    /// The line without its time, as a transcript shows it: `<alice> hi`, `* alice waves`.
    pub fn plain(&self) -> String {
        if let Delivery::Failed { reason, .. } = &self.delivery {
            return format!("!! Not delivered ({reason}): {}", self.body());
        }
        self.body()
    }

    fn body(&self) -> String {
        match &self.kind {
            Kind::Chat { action: false } => format!("<{}> {}", self.sender, self.text),
            Kind::Chat { action: true } => format!("* {} {}", self.sender, self.text),
            Kind::Private { to, action: false } => {
                format!("<{} -> {}> {}", self.sender, to, self.text)
            }
            Kind::Private { to, action: true } => {
                format!("* {} -> {}: {} {}", self.sender, to, self.sender, self.text)
            }
            Kind::Notice => format!("-- {}", self.text),
            Kind::Error => format!("!! {}", self.text),
            Kind::Marker => format!("-- {} --", self.text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn chat(kind: Kind) -> Line {
        Line {
            seq: Some(1),
            time: UNIX_EPOCH,
            kind,
            sender: "alice".into(),
            text: "hi".into(),
            own: false,
            mention: false,
            delivery: Delivery::Shown,
        }
    }

    #[test]
    fn plain_text_reads_like_irc() {
        assert_eq!(chat(Kind::Chat { action: false }).plain(), "<alice> hi");
        assert_eq!(chat(Kind::Chat { action: true }).plain(), "* alice hi");
        let private = Kind::Private {
            to: "bob".into(),
            action: false,
        };
        assert_eq!(chat(private).plain(), "<alice -> bob> hi");
        assert_eq!(
            Line::notice(UNIX_EPOCH, "bob joined").plain(),
            "-- bob joined"
        );
    }
}
