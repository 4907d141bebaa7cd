//! Coming into the room: a first login (`admit`) or a `resume` that reclaims a place.

use std::sync::Arc;

use tlschat::wire::{encode, ByeCode, ErrorCode, ServerMsg};

use super::{refuse, Identity, Recipient, Refusal, Room, State};
use crate::conn::{Closed, Frame};
use crate::history::state::token_hash;
use crate::members::{Catchup, Member, Presence};

impl<C: Recipient> Room<C> {
    pub(super) fn reclaim(
        &self,
        state: &mut State<C>,
        token: &str,
        last_seq: Option<u64>,
        nickname: &str,
        conn: &Arc<C>,
    ) -> Result<Identity, Refusal> {
        let catchup = match last_seq {
            Some(seq) => Catchup::After(seq),
            None => Catchup::Recent(self.config.welcome_history),
        };
        let Some(id) = state.members.id_by_token(token) else {
            return self.admit(state, nickname, conn, catchup);
        };
        let State {
            members, history, ..
        } = state;
        let Some(member) = members.get_mut(id) else {
            // The token index always names a member; should it ever not, refuse cleanly.
            return Err(refuse(
                ErrorCode::ServerError,
                "that session could not be resumed",
            ));
        };
        let live = Presence::Live(Arc::clone(conn));
        let replaced = match std::mem::replace(&mut member.presence, live) {
            Presence::Live(old) => {
                let bye = encode(&ServerMsg::Bye {
                    code: ByeCode::Replaced,
                    reason: "you connected again from somewhere else".into(),
                });
                old.close(Closed::Replaced, Some(bye.into())).then_some(old)
            }
            Presence::Ghost { .. } => None,
        };
        let nickname = member.nickname.clone();
        if let Some(old) = replaced {
            members.mark_dirty(old);
        }
        let welcome = members.welcome(id, &nickname, token, true, history, catchup);
        for frame in welcome {
            members.send_catchup(conn, frame);
        }
        // What came while it was away, and what was written to the old connection but may
        // not have arrived: the private messages after what the client says it has seen
        // (`seq` counts private messages too, so without `last_seq` it has seen none).
        // At most RECENT_PRIVATE of them, so within any budget.
        for frame in members.private_after(id, last_seq.unwrap_or(0)) {
            let _ = members.send(conn, frame);
        }
        Ok(Identity {
            id,
            nickname,
            resumed: true,
        })
    }

    pub(super) fn admit(
        &self,
        state: &mut State<C>,
        nickname: &str,
        conn: &Arc<C>,
        catchup: Catchup,
    ) -> Result<Identity, Refusal> {
        if state.closed {
            return Err(refuse(ErrorCode::ServerFull, "the server is shutting down"));
        }
        state.members.check_free(nickname, None)?;
        // Ghosts keep their places only while nobody else needs one.
        while state.members.len() >= self.config.max_users && state.members.evict_oldest_ghost() {}
        if state.members.len() >= self.config.max_users {
            return Err(refuse(
                ErrorCode::ServerFull,
                format!("the room is full ({} users)", self.config.max_users),
            ));
        }
        let id = state.last_id + 1;
        if let Err(e) = state.history.reserve_id(id) {
            crate::log!("could not save the room's state file: {e}");
            return Err(refuse(
                ErrorCode::ServerError,
                "the server could not save your login; try again later",
            ));
        }
        state.last_id = id;
        let token = new_token()?;
        let welcome = state
            .members
            .welcome(id, nickname, &token, false, &state.history, catchup);
        for frame in welcome {
            state.members.send_catchup(conn, frame);
        }
        let notice: Frame = encode(&ServerMsg::Join {
            time: tlschat::wire::time::now(),
            id,
            nickname: nickname.to_string(),
        })
        .into();
        state.members.fan_out(&notice);
        state.members.insert(
            id,
            Member {
                nickname: nickname.to_string(),
                token_hash: token_hash(&token),
                presence: Presence::Live(Arc::clone(conn)),
            },
        );
        Ok(Identity {
            id,
            nickname: nickname.to_string(),
            resumed: false,
        })
    }
}

/// 128 random bits in hex, from OpenSSL's generator (seeded by the kernel).
fn new_token() -> Result<String, Refusal> {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes).map_err(|e| {
        crate::log!("no random bytes for a resume token: {e}");
        refuse(
            ErrorCode::ServerError,
            "the server could not log you in; try again",
        )
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
