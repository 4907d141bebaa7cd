//! What each request from the peer does: decoding, flood control, login, resume, and the
//! answers sent back.

use std::time::Instant;

use tlschat::wire::{
    decode_client, encode, normalize_nickname, validate_message, ClientMsg, ErrorCode, ServerMsg,
};

use super::{Next, UserThread, FLOOD_STRIKES};
use crate::ending::Ending;
use crate::log;
use crate::room::{refuse, Refusal};

impl UserThread<'_> {
    pub(super) fn handle(&mut self, line: &[u8], out: &mut Vec<u8>) -> Next {
        let msg = match decode_client(line) {
            Ok(msg) => msg,
            Err(e) => return self.reject(out, e.code, e.detail),
        };
        // Keep-alives, leaving and the first login are free; everything else is metered.
        let metered = match msg {
            ClientMsg::Ping | ClientMsg::Pong | ClientMsg::Quit { .. } => false,
            ClientMsg::Login { .. } | ClientMsg::Resume { .. } => self.id.is_some(),
            _ => true,
        };
        if metered {
            let now = Instant::now();
            let user = self.bucket.as_mut().map_or(Ok(()), |b| b.take(now));
            // What a logged-in user puts into the room also comes out of the budget its
            // address shares with its other connections, past and present.
            let address = || match self.id {
                Some(_) => self.slot.take_message(now),
                None => Ok(()),
            };
            if let Err(wait) = user.and_then(|()| address()) {
                let ms = wait.as_millis().max(1) as u64;
                out.extend_from_slice(&encode(&ServerMsg::Error {
                    code: ErrorCode::RateLimited,
                    message: format!("too many messages: wait {ms} ms; this one was not sent"),
                    retry_after_ms: Some(ms),
                }));
                return self.strike();
            }
        }
        let result = match msg {
            ClientMsg::Ping => {
                out.extend_from_slice(&encode(&ServerMsg::Pong));
                return Next::Continue;
            }
            ClientMsg::Pong => return Next::Continue,
            ClientMsg::Quit { .. } => return Next::Close(Ending::Quit),
            ClientMsg::Login { nickname, password } => self.login(&nickname, password),
            ClientMsg::Resume {
                token,
                last_seq,
                nickname,
                password,
            } => self.resume(&token, last_seq, &nickname, password),
            _ if self.id.is_none() => Err(refuse(
                ErrorCode::NotLoggedIn,
                "log in first: send {\"type\":\"login\",\"nickname\":\"...\"}",
            )),
            ClientMsg::Broadcast { message, action } => self.with_text(&message, |id, text| {
                self.server.room.say(id, text, action).map(|_| ())
            }),
            ClientMsg::Private {
                to,
                message,
                action,
            } => self.with_text(&message, |id, text| {
                self.server.room.whisper(id, &to, text, action)
            }),
        };
        match result {
            Ok(()) => {
                self.strikes = 0;
                Next::Continue
            }
            Err(Refusal { code, message }) if self.id.is_none() && code.refuses_login() => {
                reply(out, code, message.clone());
                log!("{}: login refused: {message}", self.peer);
                Next::Close(Ending::Refused(message))
            }
            // The server's own failure (a full disk) is no fault of the peer's.
            Err(Refusal {
                code: ErrorCode::ServerError,
                message,
            }) => {
                reply(out, ErrorCode::ServerError, message);
                Next::Continue
            }
            Err(Refusal { code, message }) => self.reject(out, code, message),
        }
    }

    fn with_text(
        &self,
        text: &str,
        send: impl FnOnce(u64, &str) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let text = validate_message(text).map_err(|(code, message)| Refusal { code, message })?;
        send(self.id.unwrap_or_default(), text)
    }

    fn login(&mut self, nickname: &str, password: Option<String>) -> Result<(), Refusal> {
        let nickname = &normalize_nickname(nickname)
            .map_err(|e| refuse(ErrorCode::NicknameInvalid, e.to_string()))?;
        let room = &self.server.room;
        match self.id {
            Some(id) => {
                room.rename(id, nickname)?;
                log!("{}: #{id} {} is now {nickname}", self.peer, self.nickname);
            }
            None => {
                self.check_password(password)?;
                self.slot.log_in()?;
                let who = room
                    .join(nickname, &self.conn)
                    .inspect_err(|_| self.slot.log_out())?;
                log!("{}: joined as {nickname} (#{})", self.peer, who.id);
                self.id = Some(who.id);
            }
        }
        self.nickname = nickname.to_string();
        Ok(())
    }

    fn resume(
        &mut self,
        token: &str,
        last_seq: Option<u64>,
        nickname: &str,
        password: Option<String>,
    ) -> Result<(), Refusal> {
        if self.id.is_some() {
            return Err(refuse(
                ErrorCode::BadMessage,
                "already logged in: resume is only for a new connection",
            ));
        }
        let nickname = &normalize_nickname(nickname)
            .map_err(|e| refuse(ErrorCode::NicknameInvalid, e.to_string()))?;
        self.check_password(password)?;
        self.slot.log_in()?;
        let who = self
            .server
            .room
            .resume(token, last_seq, nickname, &self.conn)
            .inspect_err(|_| self.slot.log_out())?;
        let how = if who.resumed { "came back" } else { "joined" };
        log!("{}: {how} as {} (#{})", self.peer, who.nickname, who.id);
        self.id = Some(who.id);
        self.nickname = who.nickname;
        Ok(())
    }

    fn check_password(&self, password: Option<String>) -> Result<(), Refusal> {
        let Some(expected) = &self.server.password else {
            return Ok(());
        };
        let given = password.unwrap_or_default();
        if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(refuse(ErrorCode::AuthFailed, "wrong password"))
        }
    }

    fn reject(&mut self, out: &mut Vec<u8>, code: ErrorCode, message: String) -> Next {
        reply(out, code, message);
        self.strike()
    }

    /// Counts a rejected message; a peer that sends nothing acceptable for long is cut off.
    fn strike(&mut self) -> Next {
        self.strikes += 1;
        if self.strikes >= FLOOD_STRIKES {
            Next::Close(Ending::Flooding)
        } else {
            Next::Continue
        }
    }
}

pub(super) fn reply(out: &mut Vec<u8>, code: ErrorCode, message: String) {
    out.extend_from_slice(&encode(&ServerMsg::error(code, message)));
}

/// Compares secrets without revealing, through timing, how much of them matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq(b"hunter2", b"hunter2"));
        assert!(!constant_time_eq(b"hunter2", b"hunter3"));
        assert!(!constant_time_eq(b"hunter2", b"hunter22"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
