//! The connection's life as the user sees it, and when to try again.
//!
//! A connection goes Connecting → LoggingIn → Online, and ends Offline (the user quit, the
//! login was refused, or the certificate is not trusted) or Waiting to reconnect with
//! jittered exponential backoff. Only the controller starts connections; this type decides
//! whether and when, and words the status bar.

use std::time::{Duration, Instant};

use tlschat::runtime::words::DISCONNECTED;
use tlschat::runtime::Backoff;

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// No connection and none planned. `reason` says why, if something went wrong.
    Offline { reason: Option<String> },
    /// Opening TCP and TLS.
    Connecting,
    /// TLS is up and `login` was sent; waiting for `welcome`.
    LoggingIn,
    /// Logged in.
    Online,
    /// Dropped; the next attempt starts at `at`.
    Waiting {
        at: Instant,
        attempt: u32,
        reason: String,
    },
}

/// What the Login button says and does, by the connection's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Login,
    /// A first connection failed: try it again.
    Retry,
    /// Connected or connecting: leave cleanly.
    Disconnect,
    /// Waiting to reconnect: do it now.
    ReconnectNow,
}

impl Button {
    pub fn label(self) -> &'static str {
        match self {
            Button::Login => "Login",
            Button::Retry => "Retry",
            Button::Disconnect => "Disconnect",
            Button::ReconnectNow => "Reconnect now",
        }
    }
}

/// The connection state plus the reconnect policy.
#[derive(Debug)]
pub struct Connection {
    pub phase: Phase,
    /// `HOST:PORT` of the current or last connection.
    pub server: String,
    /// SHA-256 of the server certificate, once TLS is up.
    pub fingerprint: Option<String>,
    backoff: Backoff,
    /// Why the server refused our login (taken nickname, wrong password): retrying as-is is
    /// futile, and this explains it better than the closed connection that follows.
    refused: Option<String>,
    /// The user asked to leave.
    quitting: bool,
    /// This series of attempts (since the user pressed Login) got a `welcome`: only then
    /// does a lost connection come back by itself.
    was_welcomed: bool,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            phase: Phase::Offline { reason: None },
            server: String::new(),
            fingerprint: None,
            backoff: Backoff::default(),
            refused: None,
            quitting: false,
            was_welcomed: false,
        }
    }
}

impl Connection {
    /// A connection attempt to `server` starts (by the user or by the schedule).
    pub fn start(&mut self, server: &str) {
        self.server = server.to_string();
        self.phase = Phase::Connecting;
        self.fingerprint = None;
        self.refused = None;
        self.quitting = false;
    }

    /// The user pressed Login, so a fresh series of attempts begins.
    pub fn user_started(&mut self, server: &str) {
        self.backoff.reset();
        self.was_welcomed = false;
        self.start(server);
    }

    /// TLS is up and the login is on its way.
    pub fn connected(&mut self, fingerprint: String) {
        self.fingerprint = (!fingerprint.is_empty()).then_some(fingerprint);
        self.phase = Phase::LoggingIn;
    }

    /// `welcome` arrived.
    pub fn welcomed(&mut self) {
        self.phase = Phase::Online;
        self.refused = None;
        self.was_welcomed = true;
        self.backoff.reset();
    }

    /// The server turned the login down; do not retry it unchanged.
    pub fn login_refused(&mut self, why: &str) {
        self.refused = Some(why.to_string());
    }

    /// Whether the server refused our last login.
    pub fn is_refused(&self) -> bool {
        self.refused.is_some()
    }

    /// The user typed `/quit`.
    pub fn quitting(&mut self) {
        self.quitting = true;
    }

    /// Whether a live connection exists that we can send on (logged in or not).
    pub fn is_live(&self) -> bool {
        matches!(self.phase, Phase::LoggingIn | Phase::Online)
    }

    /// The connection ended. Returns the delay before reconnecting, if we will.
    /// `random` in `0.0..1.0` is the jitter.
    pub fn closed(
        &mut self,
        reason: &str,
        retry: bool,
        now: Instant,
        random: f64,
    ) -> Option<Duration> {
        let again = tlschat::runtime::reconnect::reconnects_by_itself(self.was_welcomed, retry);
        if !again || self.refused.is_some() || self.quitting {
            let reason = match self.refused.clone() {
                _ if self.quitting => None,
                Some(why) => Some(why),
                None => (reason != DISCONNECTED).then(|| reason.to_string()),
            };
            self.phase = Phase::Offline { reason };
            return None;
        }
        let delay = self.backoff.next_delay_with(random);
        self.phase = Phase::Waiting {
            at: now + delay,
            attempt: self.backoff.attempt,
            reason: reason.to_string(),
        };
        Some(delay)
    }

    /// Whether a scheduled reconnect is due.
    pub fn due(&self, now: Instant) -> bool {
        matches!(self.phase, Phase::Waiting { at, .. } if now >= at)
    }

    /// What the Login button does now.
    pub fn button(&self) -> Button {
        match &self.phase {
            Phase::Connecting | Phase::LoggingIn | Phase::Online => Button::Disconnect,
            Phase::Waiting { .. } => Button::ReconnectNow,
            Phase::Offline { reason: Some(_) } if self.refused.is_none() => Button::Retry,
            Phase::Offline { .. } => Button::Login,
        }
    }

    /// The status bar text. `me` is our nickname once logged in (the id means nothing to
    /// people; the connection details show it).
    pub fn status(&self, me: Option<&str>, now: Instant) -> String {
        match &self.phase {
            Phase::Offline { reason: Some(r) } => r.clone(),
            Phase::Offline { reason: None } => "Not connected: press Login to join the room".into(),
            Phase::Connecting => format!("Connecting to {}…", self.server),
            Phase::LoggingIn => format!("Connected to {}, logging in…", self.server),
            Phase::Online => match me {
                Some(nick) => format!("Connected as {nick} to {}", self.server),
                None => format!("Connected to {}", self.server),
            },
            Phase::Waiting {
                at,
                attempt,
                reason,
            } => {
                let left = at.saturating_duration_since(now);
                // Round up so the countdown never shows "0 s" while still waiting.
                let secs = left.as_millis().div_ceil(1000);
                format!("{reason}. Reconnecting in {secs} s (attempt {attempt})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_resets_on_welcome() {
        let now = Instant::now();
        let mut c = Connection::default();
        c.user_started("h:1");
        c.connected("AB:CD".into());
        c.welcomed();
        assert_eq!(c.button(), Button::Disconnect);
        let d1 = c.closed("Lost the connection to h:1", true, now, 1.0);
        assert_eq!(d1, Some(Duration::from_secs(1)));
        c.start("h:1");
        let d2 = c.closed("Could not connect", true, now, 1.0);
        assert_eq!(d2, Some(Duration::from_secs(2)));
        assert_eq!(
            c.status(None, now + Duration::from_millis(300)),
            "Could not connect. Reconnecting in 2 s (attempt 2)"
        );
        assert_eq!(c.button(), Button::ReconnectNow);
        assert!(!c.due(now + Duration::from_millis(1999)));
        assert!(c.due(now + Duration::from_secs(2)));
        c.start("h:1");
        c.connected("AB:CD".into());
        c.welcomed();
        assert_eq!(c.status(Some("alice"), now), "Connected as alice to h:1");
        let d = c.closed("Lost", true, now, 0.0);
        assert_eq!(d, Some(Duration::from_millis(500)));
    }

    #[test]
    fn a_first_connection_that_fails_waits_for_retry() {
        let now = Instant::now();
        let mut c = Connection::default();
        c.user_started("nowhere:1");
        let why = "Could not connect to nowhere:1: unknown host";
        assert_eq!(c.closed(why, true, now, 0.5), None, "no retrying forever");
        assert_eq!(c.status(None, now), why);
        assert_eq!(c.button(), Button::Retry);
        c.user_started("nowhere:1");
        c.login_refused("Nickname 'bob' is taken");
        assert_eq!(c.closed("Disconnected", false, now, 0.5), None);
        assert_eq!(
            c.button(),
            Button::Login,
            "retrying as-is would be refused again"
        );
    }

    #[test]
    fn no_reconnect_after_quit_refusal_or_fatal_error() {
        let now = Instant::now();
        let mut c = Connection::default();
        c.user_started("h:1");
        c.quitting();
        assert_eq!(c.closed("Disconnected", false, now, 0.5), None);
        assert_eq!(c.phase, Phase::Offline { reason: None });

        c.user_started("h:1");
        c.login_refused("Nickname 'bob' is taken");
        assert_eq!(c.closed("Lost the connection", true, now, 0.5), None);
        assert_eq!(c.status(None, now), "Nickname 'bob' is taken");

        c.user_started("h:1");
        let untrusted = "The certificate of h:1 is not trusted";
        assert_eq!(c.closed(untrusted, false, now, 0.5), None);
        assert_eq!(c.status(None, now), untrusted);
    }
}
