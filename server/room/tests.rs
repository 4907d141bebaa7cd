//! The room without sockets: members are fakes that record what they are sent, and either
//! read it at once (each flush delivers) or stall (frames pile up against their budget, as
//! behind a full socket).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tlschat::wire::{encode, ChatMessage, ErrorCode, ServerMsg, Welcome};

use super::{Recipient, Room, RoomConfig};
use crate::conn::{Closed, Frame, PushError};
use crate::ending::Ending;
use crate::history::HistoryStore;

/// A member's connection as the room sees it, with the same budget rule as `Conn`: a frame
/// that would take what is owed past the budget closes it as too slow.
struct Fake {
    budget: usize,
    reading: AtomicBool,
    state: Mutex<FakeState>,
    arrived: Condvar,
}

#[derive(Default)]
struct FakeState {
    catchup: Vec<Frame>,
    queued: Vec<Frame>,
    owed: usize,
    received: Vec<Frame>,
    closed: Option<Closed>,
}

impl Fake {
    fn reading(budget: usize) -> Arc<Fake> {
        Arc::new(Fake {
            budget,
            reading: AtomicBool::new(true),
            state: Mutex::default(),
            arrived: Condvar::new(),
        })
    }

    /// From now on frames stay queued, as for a peer that stopped reading.
    fn stall(&self) {
        self.reading.store(false, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn closed(&self) -> Option<Closed> {
        self.lock().closed
    }

    /// Everything delivered so far, decoded.
    fn received(&self) -> Vec<ServerMsg> {
        self.lock().received.iter().map(|f| decode(f)).collect()
    }

    /// Delivered frames from the `skip`th on, decoded.
    fn received_after(&self, skip: usize) -> Vec<ServerMsg> {
        self.received().into_iter().skip(skip).collect()
    }

    /// Waits (bounded) until `count` frames were delivered.
    fn wait_for(&self, count: usize) -> Vec<ServerMsg> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut state = self.lock();
        while state.received.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} frames arrived",
                state.received.len()
            );
            state = self.arrived.wait_timeout(state, left).unwrap().0;
        }
        drop(state);
        self.received()
    }

    fn welcome(&self) -> Welcome {
        match self.received().first() {
            Some(ServerMsg::Welcome(w)) => w.clone(),
            other => panic!("expected a welcome first, got {other:?}"),
        }
    }
}

impl Recipient for Fake {
    fn push(&self, frame: Frame) -> Result<bool, PushError> {
        let mut state = self.lock();
        if state.closed.is_some() {
            return Err(PushError::Closed);
        }
        if state.owed > 0 && state.owed + frame.len() > self.budget {
            state.closed = Some(Closed::TooSlow);
            state.queued.clear();
            return Err(PushError::Overflow);
        }
        let was_idle = state.queued.is_empty() && state.catchup.is_empty();
        state.owed += frame.len();
        state.queued.push(frame);
        Ok(was_idle)
    }

    fn push_catchup(&self, frame: Frame) -> Result<bool, PushError> {
        let mut state = self.lock();
        if state.closed.is_some() {
            return Err(PushError::Closed);
        }
        let was_idle = state.queued.is_empty() && state.catchup.is_empty();
        state.catchup.push(frame);
        Ok(was_idle)
    }

    fn close(&self, why: Closed, bye: Option<Frame>) -> bool {
        let mut state = self.lock();
        if state.closed.is_some() {
            return false;
        }
        state.closed = Some(why);
        state.queued.extend(bye);
        true
    }

    fn flush(self: &Arc<Self>) {
        if !self.reading.load(Ordering::SeqCst) {
            return;
        }
        let mut state = self.lock();
        let FakeState {
            catchup,
            queued,
            received,
            ..
        } = &mut *state;
        received.append(catchup);
        received.append(queued);
        state.owed = 0;
        self.arrived.notify_all();
    }
}

fn decode(frame: &[u8]) -> ServerMsg {
    serde_json::from_slice(frame)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(frame)))
}

fn room(max_users: usize, resume_grace: Duration) -> Room<Fake> {
    let config = RoomConfig {
        max_users,
        welcome_history: 50,
        resume_grace,
        flood: None,
    };
    Room::new(config, HistoryStore::in_memory(100))
}

const PLENTY: usize = 1 << 20;

/// Joins `nickname` on a fresh reading fake.
fn join(room: &Room<Fake>, nickname: &str) -> (u64, Arc<Fake>) {
    let conn = Fake::reading(PLENTY);
    assert!(room.arrive(&conn));
    let who = room.join(nickname, &conn).expect("joins");
    (who.id, conn)
}

fn said(msgs: &[ServerMsg]) -> Vec<(u64, String)> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Message(m) => Some((m.seq, m.message.clone())),
            _ => None,
        })
        .collect()
}

fn left(msgs: &[ServerMsg]) -> Vec<(String, String)> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Leave {
                nickname, reason, ..
            } => Some((nickname.clone(), reason.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn everyone_sees_the_rooms_events_in_one_order() {
    let room = room(10, Duration::ZERO);
    let (alice, a) = join(&room, "alice");
    let (bob, b) = join(&room, "bob");
    let (carol, c) = join(&room, "carol");
    let welcome = c.welcome();
    let users: Vec<&str> = welcome.users.iter().map(|u| u.nickname.as_str()).collect();
    assert_eq!(users, ["alice", "bob", "carol"], "in order of arrival");
    let (a0, b0) = (a.received().len(), b.received().len());
    assert_eq!((a0, b0), (3, 2), "welcome, then the later joins");

    room.say(alice, "one", false).unwrap();
    room.say(bob, "two", true).unwrap();
    room.whisper(carol, "alice", "psst", false).unwrap();
    room.rename(bob, "robert").unwrap();
    room.say(carol, "three", false).unwrap();

    let (a_saw, b_saw) = (a.received_after(a0), b.received_after(b0));
    let c_saw = c.received_after(1);
    let public = |msgs: &[ServerMsg]| -> Vec<ServerMsg> {
        msgs.iter()
            .filter(|m| !matches!(m, ServerMsg::Private(_)))
            .cloned()
            .collect()
    };
    assert_eq!(public(&a_saw), public(&b_saw));
    assert_eq!(public(&b_saw), public(&c_saw));
    assert_eq!(b_saw, public(&b_saw), "bob is not part of the whisper");
    let seqs: Vec<u64> = said(&a_saw).iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, [1, 2, 4], "seq 3 went to the whisper");
    // The whisper sits between the messages around it for both ends, echo included.
    for saw in [&a_saw, &c_saw] {
        assert!(matches!(&saw[2], ServerMsg::Private(p) if p.seq == 3 && p.message == "psst"));
    }
    assert!(
        matches!(&a_saw[3], ServerMsg::Rename { new_nickname, .. } if new_nickname == "robert")
    );
}

#[test]
fn a_slow_member_is_dropped_and_its_leave_can_drop_the_next() {
    let room = room(10, Duration::from_secs(60));
    let (alice, a) = join(&room, "alice");
    // Budgets in messages: slow1 has room for one, slow2 for two and not a leave notice more.
    let line = |seq| {
        let msg = ChatMessage {
            seq,
            time: tlschat::wire::time::now(),
            sender_id: alice,
            sender_nickname: "alice".into(),
            message: "hello".into(),
            action: false,
        };
        encode(&ServerMsg::Message(msg)).len()
    };
    let (one, two) = (line(1), line(1) + line(2));
    let (slow1, slow2) = (Fake::reading(one), Fake::reading(two));
    room.join("slow1", &slow1).unwrap();
    room.join("slow2", &slow2).unwrap();
    let (_, c) = join(&room, "carol");
    let (a0, c0) = (a.received().len(), c.received().len());
    slow1.stall();
    slow2.stall();

    room.say(alice, "hello", false).unwrap();
    assert_eq!(room.len(), 4, "one message each fits");
    room.say(alice, "hello", false).unwrap();

    assert_eq!(slow1.closed(), Some(Closed::TooSlow));
    assert_eq!(
        slow2.closed(),
        Some(Closed::TooSlow),
        "slow1's leave overflowed slow2"
    );
    assert_eq!(room.len(), 2);
    room.say(alice, "still here", false).unwrap();
    for saw in [a.received_after(a0), c.received_after(c0)] {
        let texts: Vec<String> = said(&saw).into_iter().map(|(_, text)| text).collect();
        assert_eq!(texts, ["hello", "hello", "still here"], "nothing lost");
        let too_slow = |who: &str| (who.to_string(), Ending::TooSlow.to_string());
        assert_eq!(left(&saw), [too_slow("slow1"), too_slow("slow2")]);
    }
    assert!(
        room.join("slow1", &Fake::reading(PLENTY)).is_ok(),
        "its place is free"
    );
}

#[test]
fn a_ghost_keeps_its_place_and_catches_up_on_resume() {
    let room = room(10, Duration::from_secs(60));
    let (alice, a) = join(&room, "alice");
    let (bob, b) = join(&room, "bob");
    room.say(alice, "before", false).unwrap();
    let seen = 1;
    let token = b.welcome().resume_token;
    let a0 = a.received().len();

    room.disconnect(bob, &b, &Ending::PeerClosed);
    room.say(alice, "while away", false).unwrap();
    room.whisper(alice, "bob", "you there?", false).unwrap();
    let taken = room.join("bob", &Fake::reading(PLENTY)).unwrap_err();
    assert_eq!(taken.code, ErrorCode::NicknameTaken);
    assert!(taken.message.contains("reconnecting"), "{}", taken.message);
    assert_eq!(room.len(), 2);

    let back = Fake::reading(PLENTY);
    let who = room.resume(&token, Some(seen), "bob", &back).unwrap();
    assert!(who.resumed && who.id == bob && who.nickname == "bob");
    let got = back.received();
    let ServerMsg::Welcome(welcome) = &got[0] else {
        panic!("{got:?}");
    };
    assert!(welcome.resumed);
    assert_eq!((welcome.replay, welcome.history.len()), (1, 0));
    assert_eq!(said(&got[1..2]), [(2, "while away".to_string())]);
    assert!(matches!(&got[2], ServerMsg::Private(p) if p.message == "you there?"));
    assert_eq!(got.len(), 3);
    // The room saw neither a leave nor a join: only what alice did herself.
    let saw = a.received_after(a0);
    assert!(saw
        .iter()
        .all(|m| matches!(m, ServerMsg::Message(_) | ServerMsg::Private(_))));

    room.say(alice, "welcome back", false).unwrap();
    assert_eq!(said(&back.received_after(3)), [(4, "welcome back".into())]);
    assert!(b
        .received()
        .iter()
        .all(|m| !matches!(m, ServerMsg::Message(m) if m.seq > 1)));
}

#[test]
fn resuming_a_live_member_closes_its_old_connection() {
    let room = room(10, Duration::from_secs(60));
    let (bob, b) = join(&room, "bob");
    let token = b.welcome().resume_token;
    let again = Fake::reading(PLENTY);
    assert_eq!(room.resume(&token, None, "bob", &again).unwrap().id, bob);
    assert_eq!(b.closed(), Some(Closed::Replaced));
    assert!(matches!(b.received().last(), Some(ServerMsg::Bye { .. })));
    // The old connection's thread ending is no longer the member leaving.
    room.leave(bob, &b, &Ending::PeerClosed);
    assert_eq!(room.len(), 1);
}

#[test]
fn a_ghost_gives_way_when_the_room_is_full() {
    let room = room(2, Duration::from_secs(60));
    let (_, a) = join(&room, "alice");
    let (bob, b) = join(&room, "bob");
    room.disconnect(bob, &b, &Ending::PeerClosed);
    let a0 = a.received().len();
    join(&room, "carol");
    let saw = a.received_after(a0);
    assert_eq!(left(&saw), [("bob".into(), "connection lost".into())]);
    assert!(matches!(&saw[1], ServerMsg::Join { nickname, .. } if nickname == "carol"));
    let full = room.join("dave", &Fake::reading(PLENTY)).unwrap_err();
    assert_eq!(full.code, ErrorCode::ServerFull);
}

#[test]
fn the_janitor_ends_ghosts_whose_time_is_up() {
    let room = room(10, Duration::from_millis(20));
    let (_, a) = join(&room, "alice");
    let (bob, b) = join(&room, "bob");
    let a0 = a.received().len();
    std::thread::scope(|scope| {
        scope.spawn(|| room.run_janitor());
        room.disconnect(bob, &b, &Ending::Lost(None));
        let saw = a.wait_for(a0 + 1);
        assert_eq!(left(&saw[a0..]), [("bob".into(), "connection lost".into())]);
        // Shutting down says goodbye to everyone still connected and stops the janitor.
        room.shut_down("server shutting down");
    });
    assert_eq!(a.closed(), Some(Closed::ShuttingDown));
    assert!(matches!(a.received().last(), Some(ServerMsg::Bye { .. })));
    assert!(
        !room.arrive(&Fake::reading(PLENTY)),
        "no arrivals after shutdown"
    );
}
