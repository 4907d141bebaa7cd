//! Coming back after a dropped connection: what a client remembers ([`Resume`]) and when it
//! tries again ([`Backoff`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::runtime::delivery::SentMessage;
use crate::wire::ServerMsg;

/// What a client remembers between connections so that coming back is seamless: the
/// server's resume token, its own id and nickname, and the last message number it saw.
/// Cheap to clone; all clones share the same memory.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    info: Arc<Mutex<ResumeInfo>>,
    /// Messages sent on a dropped connection and never answered, to be checked against the
    /// next connection's catch-up.
    carried: Arc<Mutex<Vec<SentMessage>>>,
}

/// A copy of what a [`Resume`] holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumeInfo {
    pub token: Option<String>,
    pub id: Option<u64>,
    pub nickname: Option<String>,
    pub last_seq: Option<u64>,
}

impl Resume {
    pub fn new() -> Resume {
        Resume::default()
    }

    pub fn snapshot(&self) -> ResumeInfo {
        self.lock().clone()
    }

    /// Forgets the identity (after a deliberate quit) but keeps the place in the history.
    pub fn forget_identity(&self) {
        let mut info = self.lock();
        info.token = None;
        info.id = None;
    }

    /// Updates what is remembered from a message the server sent.
    pub fn observe(&self, msg: &ServerMsg) {
        let mut info = self.lock();
        let seen = |info: &mut ResumeInfo, seq: u64| {
            info.last_seq = Some(info.last_seq.map_or(seq, |s| s.max(seq)));
        };
        match msg {
            ServerMsg::Welcome(w) => {
                info.token = (!w.resume_token.is_empty()).then(|| w.resume_token.clone());
                info.id = Some(w.id);
                info.nickname = Some(w.nickname.clone());
                if let Some(last) = w.history.last() {
                    seen(&mut info, last.seq);
                }
            }
            ServerMsg::Message(m) => seen(&mut info, m.seq),
            ServerMsg::Private(p) => seen(&mut info, p.seq),
            ServerMsg::Rename {
                id, new_nickname, ..
            } if info.id == Some(*id) => {
                info.nickname = Some(new_nickname.clone());
            }
            _ => {}
        }
    }

    /// Keeps unanswered messages for the next connection to check.
    pub(crate) fn carry(&self, mut messages: Vec<SentMessage>) {
        let mut carried = self.carried.lock().unwrap_or_else(|e| e.into_inner());
        carried.append(&mut messages);
    }

    pub(crate) fn take_carried(&self) -> Vec<SentMessage> {
        std::mem::take(&mut *self.carried.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ResumeInfo> {
        self.info.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether a client reconnects by itself after a connection ends. Only a session that was
/// working comes back on its own: a first connection that fails (an unknown host, a server
/// that never answered) says why and waits for the user to retry, in every client.
pub fn reconnects_by_itself(was_welcomed: bool, retry: bool) -> bool {
    was_welcomed && retry
}

/// Jittered exponential backoff for reconnecting: 1 s, 2 s, 4 s ... up to `max`, each
/// randomly between half and all of that, so a room's clients do not all return at once.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub attempt: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempt: 0,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The delay before the next attempt, given a random number in `0.0..1.0`.
    pub fn next_delay_with(&mut self, random: f64) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(16));
        let ceiling = exp.min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        ceiling.mul_f64(0.5 + 0.5 * random.clamp(0.0, 1.0))
    }

    /// The delay before the next attempt, with fresh jitter.
    pub fn next_delay(&mut self) -> Duration {
        self.next_delay_with(random_unit())
    }

    /// Call after a successful login.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A number in `0.0..1.0` that differs between processes and calls; good enough for jitter.
pub fn random_unit() -> f64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_max_with_jitter_in_range() {
        let mut b = Backoff::default();
        let full: Vec<u64> = (0..8).map(|_| b.next_delay_with(1.0).as_secs()).collect();
        assert_eq!(full, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        b.reset();
        assert_eq!(b.next_delay_with(0.0), Duration::from_millis(500));
        for _ in 0..100 {
            let r = random_unit();
            assert!((0.0..1.0).contains(&r));
        }
    }
}
