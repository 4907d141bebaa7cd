//! Keeping the saved list of users current, so that after a crash they come back as ghosts
//! and nobody else can take their nicknames.

use std::time::{Duration, Instant};

use super::{Recipient, Room};
use crate::history::{HistoryStore, SharedState};
use crate::members::Members;

/// How often the saved list of users is brought up to date (if it changed).
const SAVE_USERS_EVERY: Duration = Duration::from_millis(200);

/// The users saved by the previous run, back as ghosts for the grace period.
pub(super) fn members_from_before<C: Recipient>(
    history: &mut HistoryStore,
    grace: Duration,
) -> Members<C> {
    let mut members = Members::default();
    let saved = history.take_saved_users();
    if !saved.is_empty() && !grace.is_zero() {
        crate::log!(
            "{} users from before the restart have {grace:?} to come back",
            saved.len()
        );
        members.restore(saved, Instant::now() + grace, history.last_seq());
    }
    members
}

impl<C: Recipient> Room<C> {
    /// Saves who is in the room whenever that changed, until the room closes (the shutdown
    /// itself saves the final list).
    pub(super) fn save_users_until_closed(&self, saver: &SharedState) {
        let mut saved = None;
        let mut failing = false;
        loop {
            let snapshot = {
                let state = self.lock();
                if state.closed {
                    return;
                }
                let generation = state.members.generation();
                (saved != Some(generation)).then(|| (generation, state.members.saved()))
            };
            if let Some((generation, users)) = snapshot {
                match saver.save_users(users) {
                    Ok(()) => {
                        saved = Some(generation);
                        failing = false;
                    }
                    Err(e) if !failing => {
                        crate::log!("could not save the room's users (will retry): {e}");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
            std::thread::sleep(SAVE_USERS_EVERY);
        }
    }
}
