//! Sending no faster than the server accepts, so that typing quickly loses nothing.
//!
//! The server's flood control is a token bucket per user (PROTOCOL.md, *Flood control*) and
//! `welcome` announces its `rate` and `burst`. [`Pacer`] keeps a copy of that bucket on the
//! client side, a little stricter than the server's, because messages written exactly at the
//! rate can arrive closer together than they were sent. The connection thread holds back what
//! the bucket does not allow yet and writes it as tokens come back.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::runtime::delivery::SentMessage;
use crate::wire::ClientMsg;

/// The share of the announced rate a client uses: network jitter can bunch messages up.
const RATE_MARGIN: f64 = 0.9;
/// Rounding slack: a token due at an instant computed from the rate is there at that instant.
const EPSILON: f64 = 1e-6;

/// A client-side copy of the server's token bucket.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate: f64,
    burst: f64,
    tokens: f64,
    updated: Instant,
}

impl Pacer {
    /// The pacer for what a `welcome` announced; `None` when the server has no flood control
    /// (or did not say), or announced something unusable.
    pub fn announced(rate: Option<f64>, burst: Option<f64>, now: Instant) -> Option<Pacer> {
        let (rate, burst) = (rate?, burst?);
        if !(rate.is_finite() && burst.is_finite() && rate > 0.0 && burst >= 1.0) {
            return None;
        }
        // One token short of the server's burst, so an answer in flight never overdraws it.
        let burst = (burst - 1.0).max(1.0);
        Some(Pacer {
            rate: rate * RATE_MARGIN,
            burst,
            tokens: burst,
            updated: now,
        })
    }

    /// Takes a token if one is there.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 - EPSILON {
            self.tokens = (self.tokens - 1.0).max(0.0);
            true
        } else {
            false
        }
    }

    /// When the next token will be there (now, if one already is).
    pub fn next_token(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.tokens >= 1.0 - EPSILON {
            return now;
        }
        now + Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.updated = now;
    }
}

/// What a connection sends, in order, held back while the pacer says wait.
#[derive(Debug, Default)]
pub struct Outbox {
    pacer: Option<Pacer>,
    held: VecDeque<SentMessage>,
}

impl Outbox {
    /// Starts pacing to what the server announced (or stops, for `None`).
    pub fn set_pacer(&mut self, pacer: Option<Pacer>) {
        self.pacer = pacer;
    }

    /// Whether `msg` may be written now; if not, it is held until [`Outbox::release`].
    /// Nothing overtakes a held message, so the room sees them in the order they were typed.
    pub fn admit(&mut self, msg: &SentMessage, now: Instant) -> bool {
        if !is_paced(&msg.message) {
            return true;
        }
        let Some(pacer) = &mut self.pacer else {
            return true;
        };
        if self.held.is_empty() && pacer.try_take(now) {
            return true;
        }
        self.held.push_back(msg.clone());
        false
    }

    /// The held messages that may be written now, oldest first.
    pub fn release(&mut self, now: Instant) -> Vec<SentMessage> {
        let mut due = Vec::new();
        while !self.held.is_empty() {
            if let Some(pacer) = &mut self.pacer {
                if !pacer.try_take(now) {
                    break;
                }
            }
            due.extend(self.held.pop_front());
        }
        due
    }

    /// When the oldest held message may go; `None` when nothing is held.
    pub fn next_release(&mut self, now: Instant) -> Option<Instant> {
        if self.held.is_empty() {
            return None;
        }
        Some(self.pacer.as_mut().map_or(now, |p| p.next_token(now)))
    }

    /// How many messages are held back.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Everything still held (never written), oldest first.
    pub fn take_held(&mut self) -> Vec<SentMessage> {
        self.held.drain(..).collect()
    }
}

/// Whether the server's flood control counts `msg` (everything but keep-alives and `quit`).
pub fn is_paced(msg: &ClientMsg) -> bool {
    !matches!(
        msg,
        ClientMsg::Ping | ClientMsg::Pong | ClientMsg::Quit { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::delivery::MessageId;

    #[test]
    fn a_burst_then_the_announced_rate_with_a_margin() {
        let start = Instant::now();
        let mut p = Pacer::announced(Some(5.0), Some(10.0), start).expect("a pacer");
        for _ in 0..9 {
            assert!(p.try_take(start));
        }
        assert!(!p.try_take(start));
        let next = p.next_token(start);
        // 5 a second, less 10%: one token every 222 ms.
        assert_eq!((next - start).as_millis(), 222);
        assert!(!p.try_take(next - Duration::from_millis(5)));
        assert!(p.try_take(next));
    }

    #[test]
    fn nothing_announced_or_nonsense_means_no_pacing() {
        let now = Instant::now();
        assert!(Pacer::announced(None, Some(10.0), now).is_none());
        assert!(Pacer::announced(Some(5.0), None, now).is_none());
        assert!(Pacer::announced(Some(0.0), Some(10.0), now).is_none());
        assert!(Pacer::announced(Some(f64::NAN), Some(10.0), now).is_none());
        assert!(Pacer::announced(Some(5.0), Some(0.5), now).is_none());
        // A burst of one still lets one message through at a time.
        let mut p = Pacer::announced(Some(1.0), Some(1.0), now).expect("a pacer");
        assert!(p.try_take(now));
        assert!(!p.try_take(now));
    }

    fn say(text: &str) -> SentMessage {
        // Named by its text, so that the same text compares equal.
        let id = text.bytes().fold(0, |n, b| n * 256 + u64::from(b));
        SentMessage {
            id: MessageId::for_tests(id),
            message: ClientMsg::Broadcast {
                message: text.into(),
                action: false,
            },
        }
    }

    #[test]
    fn the_outbox_holds_what_the_bucket_refuses_and_keeps_the_order() {
        let start = Instant::now();
        let mut out = Outbox::default();
        assert!(out.admit(&say("unpaced"), start), "no pacer: straight out");
        out.set_pacer(Pacer::announced(Some(4.5), Some(3.0), start));
        assert!(out.admit(&say("1"), start));
        assert!(out.admit(&say("2"), start));
        assert!(!out.admit(&say("3"), start));
        assert!(
            out.admit(
                &SentMessage {
                    id: MessageId::for_tests(0),
                    message: ClientMsg::Ping
                },
                start
            ),
            "keep-alives are never held"
        );
        assert!(!out.admit(&say("4"), start));
        assert_eq!(out.held(), 2);
        assert!(out.release(start).is_empty());
        let at = out.next_release(start).expect("something is held");
        assert_eq!((at - start).as_millis(), 246);
        assert_eq!(out.release(at), vec![say("3")]);
        let later = at + Duration::from_secs(5);
        assert_eq!(out.release(later), vec![say("4")]);
        assert_eq!(out.next_release(later), None);
        assert!(out.admit(&say("5"), later), "the bucket refilled meanwhile");
        assert!(!out.admit(&say("6"), later));
        assert_eq!(out.take_held(), vec![say("6")]);
    }

    #[test]
    fn keep_alives_and_quit_are_not_paced() {
        assert!(!is_paced(&ClientMsg::Ping));
        assert!(!is_paced(&ClientMsg::Quit { reason: None }));
        assert!(is_paced(&ClientMsg::Broadcast {
            message: "hi".into(),
            action: false
        }));
    }
}
