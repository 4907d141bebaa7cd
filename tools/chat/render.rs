//! How events look on a terminal: one line each, stamped with the local time.

use std::time::{SystemTime, UNIX_EPOCH};

use tlschat::{ErrorCode, ServerMsg, Welcome};

/// Names listed when joining; a room of thousands gets a count instead of a wall of names.
const NAMES_SHOWN: usize = 20;

/// `HH:MM:SS` in the local time zone (UTC if the zone cannot be determined).
pub fn clock(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let t = libc::time_t::try_from(secs).unwrap_or(0);
    // SAFETY: `tm` is plain data that localtime_r fills in; both pointers are valid for the
    // call, and localtime_r (unlike localtime) keeps no shared state between threads.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
    } else {
        let day = secs % 86_400;
        format!("{:02}:{:02}:{:02}", day / 3600, day / 60 % 60, day % 60)
    }
}

/// The local clock for a server timestamp, or for now if it does not parse.
fn stamp(time: &str) -> String {
    let at = tlschat::time::parse_rfc3339(time).unwrap_or_else(SystemTime::now);
    format!("[{}]", clock(at))
}

/// The lines for one server message, given who we are (our user id once welcomed).
pub fn server_msg(msg: &ServerMsg, me: Option<u64>) -> Vec<String> {
    match msg {
        ServerMsg::Welcome(w) => welcome(w),
        ServerMsg::Message(m) if m.action => vec![format!(
            "{} * {} {}",
            stamp(&m.time),
            m.sender_nickname,
            m.message
        )],
        ServerMsg::Message(m) => vec![format!(
            "{} <{}> {}",
            stamp(&m.time),
            m.sender_nickname,
            m.message
        )],
        ServerMsg::Private(p) => {
            let text = if p.action {
                format!("* {} {}", p.sender_nickname, p.message)
            } else {
                p.message.clone()
            };
            let line = if Some(p.sender_id) == me {
                format!("{} -> *{}* {}", stamp(&p.time), p.to_nickname, text)
            } else {
                format!("{} *{}* {}", stamp(&p.time), p.sender_nickname, text)
            };
            vec![line]
        }
        ServerMsg::Join { time, nickname, .. } => {
            vec![format!("{} * {nickname} joined", stamp(time))]
        }
        ServerMsg::Leave {
            time,
            nickname,
            reason,
            ..
        } => vec![format!("{} * {nickname} left ({reason})", stamp(time))],
        ServerMsg::Rename {
            time,
            old_nickname,
            new_nickname,
            ..
        } => vec![format!(
            "{} * {old_nickname} is now known as {new_nickname}",
            stamp(time)
        )],
        ServerMsg::Error {
            code,
            message,
            retry_after_ms,
        } => vec![error(*code, message, *retry_after_ms)],
        // A `bye` after our own quit needs no comment; others are explained by `Closed`.
        ServerMsg::Bye { .. } | ServerMsg::Ping | ServerMsg::Pong => Vec::new(),
    }
}

/// An error from the server as one `! ...` line; a refused message says so and when to retry.
pub fn error(code: ErrorCode, message: &str, retry_after_ms: Option<u64>) -> String {
    match (code, retry_after_ms) {
        (ErrorCode::RateLimited, Some(ms)) => format!(
            "! Not delivered, sending too fast ({message}): try again in {:.1} s",
            ms as f64 / 1000.0
        ),
        (ErrorCode::RateLimited, None) => {
            format!("! Not delivered, sending too fast ({message}): try again shortly")
        }
        _ => format!("! {message}"),
    }
}

fn welcome(w: &Welcome) -> Vec<String> {
    let mut lines: Vec<String> = w
        .history
        .iter()
        .flat_map(|m| server_msg(&ServerMsg::Message(m.clone()), Some(w.id)))
        .collect();
    let names: Vec<&str> = w
        .users
        .iter()
        .take(NAMES_SHOWN)
        .map(|u| u.nickname.as_str())
        .collect();
    let mut who = names.join(", ");
    if w.users.len() > NAMES_SHOWN {
        who.push_str(&format!(" and {} more", w.users.len() - NAMES_SHOWN));
    }
    let server = if w.server.is_empty() {
        String::new()
    } else {
        format!(" ({})", w.server)
    };
    lines.push(format!(
        "[{}] * You are {} on the server{server}; {} online: {who}",
        clock(SystemTime::now()),
        w.nickname,
        w.users.len()
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlschat::{ChatMessage, PrivateMessage};

    /// The `[HH:MM:SS]` prefix depends on the time zone; compare what follows it.
    fn body(line: &str) -> &str {
        line.split_once("] ").map_or(line, |(_, rest)| rest)
    }

    fn message(action: bool) -> ServerMsg {
        ServerMsg::Message(ChatMessage {
            seq: 1,
            time: "2026-11-27T09:15:02.123Z".into(),
            sender_id: 7,
            sender_nickname: "alice".into(),
            message: "waves".into(),
            action,
        })
    }

    #[test]
    fn clock_keeps_seconds_and_minutes_of_utc() {
        // Every time zone is a whole number of quarter hours from UTC.
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_795_770_902);
        let local = clock(t);
        assert_eq!(local.len(), 8);
        assert!(local.ends_with(":02"), "{local}");
        assert!(["00", "15", "30", "45"].contains(&&local[3..5]), "{local}");
    }

    #[test]
    fn one_line_per_event() {
        assert_eq!(body(&server_msg(&message(false), None)[0]), "<alice> waves");
        assert_eq!(body(&server_msg(&message(true), None)[0]), "* alice waves");
        let private = ServerMsg::Private(PrivateMessage {
            seq: 2,
            time: "2026-11-27T09:15:03Z".into(),
            sender_id: 7,
            sender_nickname: "bob".into(),
            to_id: 8,
            to_nickname: "carol".into(),
            message: "psst".into(),
            action: false,
        });
        assert_eq!(body(&server_msg(&private, Some(8))[0]), "*bob* psst");
        assert_eq!(body(&server_msg(&private, Some(7))[0]), "-> *carol* psst");
        let join = ServerMsg::Join {
            time: "2026-11-27T09:15:03Z".into(),
            id: 9,
            nickname: "bob".into(),
        };
        assert_eq!(body(&server_msg(&join, None)[0]), "* bob joined");
        assert!(server_msg(&ServerMsg::Ping, None).is_empty());
    }

    #[test]
    fn rate_limit_says_not_delivered_and_when() {
        let line = error(ErrorCode::RateLimited, "slow down", Some(1500));
        assert_eq!(
            line,
            "! Not delivered, sending too fast (slow down): try again in 1.5 s"
        );
        assert_eq!(
            error(ErrorCode::NoSuchUser, "no user bob", None),
            "! no user bob"
        );
    }
}
