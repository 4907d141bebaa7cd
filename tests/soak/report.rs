//! What the peers' records say about the run: acknowledged messages lost, duplicates,
//! disorder, and anything that differs from the history file.

use std::collections::{BTreeMap, HashMap};

use tlschat::wire::ChatMessage;

use super::peer::Peer;

/// What the records say, summed over all peers.
#[derive(Default)]
pub struct Report {
    pub acknowledged: u64,
    /// Sent without an error but never echoed: in flight when a connection or the server died.
    pub unacknowledged: u64,
    pub replays: u64,
    pub replayed: u64,
    /// (peer, seq, text): acknowledged but not on file, or on file but never received.
    pub lost: Vec<(String, u64, String)>,
    pub duplicates: Vec<(String, u64)>,
    pub disorder: Vec<(String, u64, u64)>,
    /// Received messages that differ from the file, and other trouble the peers noted.
    pub other: Vec<String>,
}

impl Report {
    pub fn check(&mut self, p: &Peer, history: &BTreeMap<u64, ChatMessage>) {
        let rec = p.lock();
        self.replays += rec.replays;
        self.replayed += rec.replayed;
        let echoed = rec.received.iter().filter(|m| m.sender_nickname == p.nick);
        self.unacknowledged += rec.sent.saturating_sub(echoed.count() as u64);
        self.other
            .extend(rec.trouble.iter().map(|t| format!("{}: {t}", p.nick)));
        let mut times: HashMap<u64, usize> = HashMap::new();
        for m in &rec.received {
            *times.entry(m.seq).or_default() += 1;
            if m.sender_nickname == p.nick {
                // Its echo reached the sender: acknowledged, so it must be on file.
                self.acknowledged += 1;
                if history.get(&m.seq).map(|h| &h.message) != Some(&m.message) {
                    self.lost.push((
                        p.nick.clone(),
                        m.seq,
                        format!("acked but not on file: {}", m.message),
                    ));
                }
            }
            match history.get(&m.seq) {
                Some(h) if h == m => {}
                h => self
                    .other
                    .push(format!("{} got {m:?}, the file has {h:?}", p.nick)),
            }
        }
        for w in rec.received.windows(2) {
            if w[1].seq <= w[0].seq {
                self.disorder.push((p.nick.clone(), w[0].seq, w[1].seq));
            }
        }
        for (seq, m) in history {
            match times.get(seq).copied().unwrap_or(0) {
                0 => self
                    .lost
                    .push((p.nick.clone(), *seq, m.message.chars().take(40).collect())),
                1 => {}
                _ => self.duplicates.push((p.nick.clone(), *seq)),
            }
        }
    }

    pub fn problems(&self) -> Vec<String> {
        let mut all: Vec<String> = self.lost.iter().map(|l| format!("lost {l:?}")).collect();
        all.extend(self.duplicates.iter().map(|d| format!("duplicate {d:?}")));
        all.extend(self.disorder.iter().map(|d| format!("out of order {d:?}")));
        all.extend(self.other.iter().cloned());
        all.truncate(40);
        all
    }
}
