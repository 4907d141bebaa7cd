//! Per-address limits, so that one host cannot lock everyone else out or flood the room by
//! opening many connections (in the spirit of ngIRCd's `MaxConnectionsIP` and ergo's
//! connection limits and throttling).
//!
//! For each address (an IPv6 address counts by its /64, which one host usually owns whole)
//! the table keeps: connections still in their TLS handshake or login, users logged in, a
//! token bucket of new connections, and a token bucket of messages shared by all of that
//! address's connections. The buckets outlive the connections, so reconnecting does not buy
//! a fresh burst. An entry goes once it holds nothing and its buckets are full again.
//!
//! Refusals before TLS is up are a plain close (answering costs a handshake, which is what a
//! flood wants); they are logged as one summary line per address per minute.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tlschat::wire::ErrorCode;

use crate::flood::TokenBucket;
use crate::log;
use crate::room::{refuse, Refusal};

/// What one address may do; `None` lifts that limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Connections still in the handshake or login.
    pub pending: Option<usize>,
    /// Users logged in.
    pub users: Option<usize>,
    /// New connections: this many per this interval.
    pub connects: Option<(f64, Duration)>,
    /// Messages into the room, all connections together: per second, and at once.
    pub messages: Option<(f64, f64)>,
}

/// Why a connection was closed before TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnedAway {
    /// Too many of its connections are still in the handshake or login.
    Pending(usize),
    /// It opened too many connections lately.
    Throttled,
    /// The server holds as many connections as it can.
    ServerFull(usize),
}

impl fmt::Display for TurnedAway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TurnedAway::Pending(n) => write!(
                f,
                "{n} of its connections are still logging in (--max-pending-per-address)"
            ),
            TurnedAway::Throttled => {
                write!(f, "too many new connections (--connects-per-address)")
            }
            TurnedAway::ServerFull(n) => write!(f, "{n} connections already open"),
        }
    }
}

/// Refusals of one address since they were last logged.
struct Refused {
    count: u64,
    last: Option<TurnedAway>,
    reported: Option<Instant>,
}

struct Entry {
    pending: usize,
    users: usize,
    connects: Option<TokenBucket>,
    messages: Option<TokenBucket>,
    refused: Refused,
}

impl Entry {
    fn idle(&self, now: Instant) -> bool {
        self.pending == 0
            && self.users == 0
            && self.refused.count == 0
            && self
                .refused
                .reported
                .is_none_or(|at| now >= at + REPORT_EVERY)
            && self.connects.as_ref().is_none_or(|b| b.is_full(now))
            && self.messages.as_ref().is_none_or(|b| b.is_full(now))
    }
}

/// One summary line per address at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(60);
/// Past this many entries, idle ones are dropped at once rather than at the next sweep.
const MOST_ENTRIES: usize = 65_536;

pub struct Addresses {
    limits: Limits,
    table: Mutex<HashMap<IpAddr, Entry>>,
}

/// An address's connection, counted until dropped: first as pending, then (after
/// [`Slot::log_in`]) as a user.
pub struct Slot {
    addresses: Arc<Addresses>,
    key: IpAddr,
    user: bool,
}

impl Addresses {
    pub fn new(limits: Limits) -> Addresses {
        Addresses {
            limits,
            table: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Entry>> {
        // Every update here leaves the table consistent before anything can panic.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entry<'t>(
        &self,
        table: &'t mut HashMap<IpAddr, Entry>,
        key: IpAddr,
        now: Instant,
    ) -> &'t mut Entry {
        if table.len() >= MOST_ENTRIES && !table.contains_key(&key) {
            table.retain(|_, e| !e.idle(now));
            if table.len() >= MOST_ENTRIES {
                // Under a flood from very many addresses, forget the budgets of those with
                // no connection left rather than grow without bound.
                table.retain(|_, e| e.pending + e.users > 0);
            }
        }
        let limits = self.limits;
        table.entry(key).or_insert_with(|| Entry {
            pending: 0,
            users: 0,
            connects: limits
                .connects
                .map(|(n, every)| TokenBucket::new(n / every.as_secs_f64(), n)),
            messages: limits
                .messages
                .map(|(rate, burst)| TokenBucket::new(rate, burst)),
            refused: Refused {
                count: 0,
                last: None,
                reported: None,
            },
        })
    }

    /// Admits a new connection from `ip`, or turns it away (and notes that for the log).
    pub fn admit(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Option<Slot> {
        let key = key(ip);
        let mut table = self.lock();
        let entry = self.entry(&mut table, key, now);
        let refusal = match self.limits.pending {
            Some(most) if entry.pending >= most => Some(TurnedAway::Pending(most)),
            _ => {
                let throttled = entry
                    .connects
                    .as_mut()
                    .is_some_and(|b| b.take(now).is_err());
                throttled.then_some(TurnedAway::Throttled)
            }
        };
        if let Some(why) = refusal {
            note_refusal(key, entry, why, now);
            return None;
        }
        entry.pending += 1;
        Some(Slot {
            addresses: Arc::clone(self),
            key,
            user: false,
        })
    }

    /// Notes a connection from `ip` turned away for a reason of the server's own.
    pub fn turned_away(&self, ip: IpAddr, why: TurnedAway, now: Instant) {
        let key = key(ip);
        let mut table = self.lock();
        let entry = self.entry(&mut table, key, now);
        note_refusal(key, entry, why, now);
    }

    /// Logs the refusals not yet summarized and forgets idle addresses, every few seconds,
    /// for as long as the server runs.
    pub fn run_reporter(&self) {
        loop {
            std::thread::sleep(REPORT_EVERY / 6);
            let now = Instant::now();
            let mut table = self.lock();
            for (key, entry) in table.iter_mut() {
                let due = entry
                    .refused
                    .reported
                    .is_none_or(|at| now >= at + REPORT_EVERY);
                if entry.refused.count > 0 && due {
                    report(*key, &mut entry.refused, now);
                }
            }
            table.retain(|_, e| !e.idle(now));
        }
    }
}

/// Logs at once the first refusal in a minute; counts the others for the next summary.
fn note_refusal(key: IpAddr, entry: &mut Entry, why: TurnedAway, now: Instant) {
    let refused = &mut entry.refused;
    refused.count += 1;
    refused.last = Some(why);
    if refused.reported.is_none_or(|at| now >= at + REPORT_EVERY) {
        report(key, refused, now);
    }
}

fn report(key: IpAddr, refused: &mut Refused, now: Instant) {
    let why = refused
        .last
        .map_or_else(String::new, |why| format!(" (last: {why})"));
    let count = refused.count;
    let plural = if count == 1 { "" } else { "s" };
    log!(
        "{key}: turned away {count} connection{plural} before TLS{why}; \
         the next summary for this address comes in a minute at the earliest"
    );
    refused.count = 0;
    refused.reported = Some(now);
}

/// Who counts as one address: an IPv4 address, or an IPv6 /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

impl Slot {
    /// Counts the connection as a logged-in user, or refuses if its address has too many.
    pub fn log_in(&mut self) -> Result<(), Refusal> {
        if self.user {
            return Ok(());
        }
        let most = self.addresses.limits.users;
        let mut table = self.addresses.lock();
        let entry = self.addresses.entry(&mut table, self.key, Instant::now());
        if let Some(most) = most {
            if entry.users >= most {
                return Err(refuse(
                    ErrorCode::TooManyConnections,
                    format!(
                        "too many users are already connected from your address \
                         (this server allows {most}); try again once one of them has left"
                    ),
                ));
            }
        }
        entry.pending = entry.pending.saturating_sub(1);
        entry.users += 1;
        self.user = true;
        Ok(())
    }

    /// Undoes [`Slot::log_in`] when the room turned the login down after all.
    pub fn log_out(&mut self) {
        if !self.user {
            return;
        }
        let mut table = self.addresses.lock();
        let entry = self.addresses.entry(&mut table, self.key, Instant::now());
        entry.users = entry.users.saturating_sub(1);
        entry.pending += 1;
        self.user = false;
    }

    /// Takes a message from the address's shared budget, or says how long until one is free.
    pub fn take_message(&self, now: Instant) -> Result<(), Duration> {
        if self.addresses.limits.messages.is_none() {
            return Ok(());
        }
        let mut table = self.addresses.lock();
        let entry = self.addresses.entry(&mut table, self.key, now);
        match &mut entry.messages {
            Some(bucket) => bucket.take(now),
            None => Ok(()),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.addresses.lock();
        if let Some(entry) = table.get_mut(&self.key) {
            if self.user {
                entry.users = entry.users.saturating_sub(1);
            } else {
                entry.pending = entry.pending.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            pending: Some(2),
            users: Some(1),
            connects: Some((4.0, Duration::from_secs(60))),
            messages: Some((1.0, 3.0)),
        }
    }

    #[test]
    fn an_ipv6_host_counts_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(key(mapped), "127.0.0.2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn limits_hold_per_address_and_budgets_outlive_connections() {
        let addresses = Arc::new(Addresses::new(limits()));
        let (one, two): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let now = Instant::now();
        let mut first = addresses.admit(one, now).expect("first");
        let second = addresses.admit(one, now).expect("second");
        assert!(addresses.admit(one, now).is_none(), "two pending at most");
        assert!(
            addresses.admit(two, now).is_some(),
            "another address is apart"
        );
        first.log_in().expect("one user");
        let mut second = second;
        let refusal = second.log_in().unwrap_err();
        assert_eq!(refusal.code, ErrorCode::TooManyConnections);
        for _ in 0..3 {
            assert_eq!(first.take_message(now), Ok(()));
        }
        assert!(second.take_message(now).is_err(), "the budget is shared");
        drop(first);
        drop(second);
        let third = addresses.admit(one, now).expect("third of four connects");
        assert!(
            third.take_message(now).is_err(),
            "reconnecting buys no burst"
        );
        assert!(addresses.admit(one, now).is_some(), "fourth");
        assert!(addresses.admit(one, now).is_none(), "throttled");
    }
}
