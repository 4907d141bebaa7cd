//! The `welcome` line: who is here and what was said, within a bounded size.

use tlschat::wire::{encode, SeqRange, User, PROTOCOL_VERSION};

use super::{Catchup, Frame, Members};
use crate::history::History;

impl Members {
    /// The `welcome` line for member `id`, followed by any replayed messages.
    pub fn welcome(
        &self,
        id: u64,
        nickname: &str,
        token: &str,
        resumed: bool,
        history: &History,
        catchup: Catchup,
    ) -> Vec<Frame> {
        #[derive(serde::Serialize)]
        struct Head<'a> {
            r#type: &'static str,
            id: u64,
            nickname: &'a str,
            users: Vec<User>,
            protocol: u32,
            server: &'static str,
            resume_token: &'a str,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            resumed: bool,
            #[serde(skip_serializing_if = "is_zero")]
            replay: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            missed: Option<SeqRange>,
            #[serde(skip_serializing_if = "Option::is_none")]
            rate: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            burst: Option<f64>,
        }
        let mut users: Vec<User> = self
            .by_id
            .iter()
            .map(|(&id, m)| User {
                id,
                nickname: m.nickname.clone(),
            })
            .collect();
        if !self.by_id.contains_key(&id) {
            users.push(User {
                id,
                nickname: nickname.to_string(),
            });
        }
        let (inline, replay, missed): (Vec<&Frame>, Vec<Frame>, _) = match catchup {
            Catchup::Recent(n) => (recent_within(history, n), Vec::new(), None),
            Catchup::After(seq) => {
                let (after, gap) = history.after(seq);
                let replay = after.map(|e| Frame::clone(&e.line)).collect();
                (
                    Vec::new(),
                    replay,
                    gap.map(|(from, to)| SeqRange { from, to }),
                )
            }
        };
        let head = Head {
            r#type: "welcome",
            id,
            nickname,
            users,
            protocol: PROTOCOL_VERSION,
            server: concat!("tlschat ", env!("CARGO_PKG_VERSION")),
            resume_token: token,
            resumed,
            replay: replay.len() as u64,
            missed,
            rate: self.flood.map(|(rate, _)| rate),
            burst: self.flood.map(|(_, burst)| burst),
        };
        // History lines are stored serialized; splice them in rather than parse them again.
        let mut line = encode(&head);
        line.truncate(line.len() - 2); // drop "}\n"
        line.extend_from_slice(b",\"history\":[");
        for (i, entry) in inline.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            line.extend_from_slice(&entry[..entry.len() - 1]);
        }
        line.extend_from_slice(b"]}\n");
        std::iter::once(Frame::from(line)).chain(replay).collect()
    }
}

/// Most bytes of history a `welcome` carries inline, so that a login costs the server a
/// bounded amount however long the recent messages are.
pub const WELCOME_HISTORY_BYTES: usize = 256 * 1024;

/// The last `n` messages, fewer if they would pass [`WELCOME_HISTORY_BYTES`]; oldest first.
fn recent_within(history: &History, n: usize) -> Vec<&Frame> {
    let mut bytes = 0;
    let recent: Vec<&Frame> = history.recent(n).map(|e| &e.line).collect();
    let mut lines: Vec<&Frame> = recent
        .into_iter()
        .rev()
        .take_while(|line| {
            bytes += line.len();
            bytes <= WELCOME_HISTORY_BYTES
        })
        .collect();
    lines.reverse();
    lines
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
