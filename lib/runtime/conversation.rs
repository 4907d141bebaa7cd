//! One connection's conversation after login: reading the server's lines, answering pings,
//! noticing silence, writing what pacing held back, and saying how the connection ended.

use std::time::Instant;

use super::{ClientHandle, NetEvent, KEEPALIVE, QUIT_DRAIN, SILENCE_LIMIT};
use crate::runtime::delivery::{Answer, Reconcile};
use crate::runtime::pacing::Pacer;
use crate::runtime::pipe::{PeerGone, Pipe};
use crate::runtime::reconnect::Resume;
use crate::runtime::words::DISCONNECTED;
use crate::wire::{decode_server, encode, ByeCode, ClientMsg, ServerMsg, MAX_SERVER_LINE};

pub(super) fn closed(reason: &str, retry: bool, detail: &str) -> NetEvent {
    NetEvent::Closed {
        reason: reason.into(),
        retry,
        detail: detail.into(),
        fingerprint: None,
    }
}

/// One connection's conversation after login, and what it keeps track of.
pub(super) struct Conversation<'a> {
    pub(super) server: &'a str,
    pub(super) resume: Option<&'a Resume>,
    pub(super) handle: &'a ClientHandle,
    pub(super) reconcile: &'a mut Reconcile,
    pub(super) my_id: Option<u64>,
}

impl Conversation<'_> {
    /// Updates what is tracked, then hands the message on.
    fn deliver<F: FnMut(NetEvent)>(&mut self, msg: ServerMsg, on_event: &mut F) {
        let answer = {
            let mut outgoing = self.handle.lock();
            if let ServerMsg::Welcome(w) = &msg {
                self.my_id = Some(w.id);
                let pacer = Pacer::announced(w.rate, w.burst, Instant::now());
                outgoing.outbox.set_pacer(pacer);
            }
            outgoing.unconfirmed.observe(&msg, self.my_id)
        };
        if let Some(resume) = self.resume {
            resume.observe(&msg);
        }
        let reconciled = self.reconcile.observe(&msg);
        match (answer, msg) {
            (
                Some(Answer::Refused(sent)),
                ServerMsg::Error {
                    code,
                    message: reason,
                    retry_after_ms,
                },
            ) => on_event(NetEvent::Refused {
                id: sent.id,
                message: sent.message,
                code,
                reason,
                retry_after_ms,
            }),
            (answer, msg) => {
                on_event(NetEvent::Server(msg));
                if let Some(Answer::Delivered(id)) = answer {
                    on_event(NetEvent::Delivered(id));
                }
            }
        }
        for id in reconciled.delivered {
            on_event(NetEvent::Delivered(id));
        }
        if !reconciled.lost.is_empty() {
            on_event(NetEvent::NotDelivered(reconciled.lost));
        }
    }

    pub(super) fn run<F: FnMut(NetEvent)>(
        &mut self,
        pipe: &mut Pipe,
        on_event: &mut F,
    ) -> NetEvent {
        let server = self.server;
        let mut last_heard = Instant::now();
        let mut pinged = false;
        let mut bye: Option<(ByeCode, String)> = None;
        // After the user quits, the server's last words (echoes, `bye`) are still read.
        let mut quitting: Option<Instant> = None;
        loop {
            let keepalive = last_heard + if pinged { SILENCE_LIMIT } else { KEEPALIVE };
            let mut deadline = quitting.map_or(keepalive, |q| q.min(keepalive));
            if quitting.is_none() {
                let held = self.handle.lock().outbox.next_release(Instant::now());
                deadline = held.map_or(deadline, |at| at.min(deadline));
            }
            let wake = match pipe.wait(Some(deadline)) {
                Ok(w) => w,
                Err(e) => return lost(server, bye, &PeerGone::Failed(e.to_string())),
            };
            if wake.input {
                last_heard = Instant::now();
                pinged = false;
            }
            loop {
                let line = match pipe.lines.next_line() {
                    Ok(Some(line)) => line,
                    Ok(None) => break,
                    Err(_) => {
                        let reason =
                            format!("{server} sent a line longer than {MAX_SERVER_LINE} bytes");
                        return closed(&reason, true, "line too long");
                    }
                };
                match decode_server(line) {
                    Ok(ServerMsg::Ping) => pipe.out.extend_from_slice(&encode(&ClientMsg::Pong)),
                    Ok(ServerMsg::Bye { code, reason }) => {
                        bye = Some((code, reason.clone()));
                        on_event(NetEvent::Server(ServerMsg::Bye { code, reason }));
                    }
                    Ok(msg) => self.deliver(msg, on_event),
                    Err(e) => on_event(NetEvent::Garbled(e.detail)),
                }
            }
            if let Some(last_words) = wake.close_requested {
                if pipe.send_now(&last_words).is_err() {
                    return closed(DISCONNECTED, false, "closed by the user");
                }
                quitting = Some(Instant::now() + QUIT_DRAIN);
                continue;
            }
            let now = Instant::now();
            let drained = quitting.is_some_and(|q| now >= q);
            if quitting.is_some() && (drained || wake.peer_gone.is_some()) {
                return closed(DISCONNECTED, false, "closed by the user");
            }
            if quitting.is_none() {
                self.release_held(pipe, now);
            }
            if wake.timed_out && now >= keepalive {
                if pinged {
                    return closed(
                        &format!("Lost the connection to {server}: the server stopped answering"),
                        true,
                        "keep-alive timed out",
                    );
                }
                pinged = true;
                pipe.out.extend_from_slice(&encode(&ClientMsg::Ping));
            }
            if let Err(e) = pipe.flush() {
                return lost(server, bye, &PeerGone::Failed(e.to_string()));
            }
            if let Some(why) = wake.peer_gone {
                return lost(server, bye, &why);
            }
        }
    }
}

impl Conversation<'_> {
    /// Writes the held messages that the pacer now allows, tracked like any other.
    fn release_held(&mut self, pipe: &mut Pipe, now: Instant) {
        let mut outgoing = self.handle.lock();
        for sent in outgoing.outbox.release(now) {
            pipe.out.extend_from_slice(&encode(&sent.message));
            outgoing.unconfirmed.sent(sent);
        }
    }
}

/// The `Closed` event for a connection that ended, explained by the server's `bye` if any.
fn lost(server: &str, bye: Option<(ByeCode, String)>, why: &PeerGone) -> NetEvent {
    let detail = &why.to_string();
    match bye {
        Some((code, reason)) => {
            let retry = code.invites_reconnect();
            closed(
                &format!("Disconnected by {server}: {reason}"),
                retry,
                detail,
            )
        }
        None if *why == PeerGone::Aborted => closed(DISCONNECTED, false, detail),
        None => closed(&format!("Lost the connection to {server}"), true, detail),
    }
}
