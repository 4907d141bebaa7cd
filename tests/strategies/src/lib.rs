//! Proptest strategies for everything a server can send, with hostile text in every field.
//!
//! Shared by every client-side property test (tests/, the terminal client's and the GTK
//! client's unit tests): a client must never fall over on server data. A crate of its own,
//! used only as a dev-dependency, so each of them can reach it without a path trick.

use proptest::prelude::*;
use tlschat::wire::{
    ByeCode, ChatMessage, ErrorCode, PrivateMessage, SeqRange, ServerMsg, User, Welcome,
};

/// Pieces that have broken text handling before: terminal escapes, line breaks, bidi
/// overrides, multi-byte characters where ASCII is expected, markup, and long runs.
const NASTY: &[&str] = &[
    "\u{1b}]0;PWNED\u{7}",
    "\u{1b}[31m",
    "\u{1b}[2J",
    "\u{9b}",
    "\u{85}",
    "\n",
    "\r\n",
    "\r",
    "\u{2028}",
    "\u{202e}",
    "\u{2066}",
    "\u{200b}",
    "\u{200d}",
    "\u{feff}",
    "\0",
    "\t",
    "é",
    "👩\u{200d}💻",
    "<b>&amp;</b>",
    "http://",
    "https://x.y/(a)",
    "[21:59:00] <bob> ",
    "* ",
    "-- ",
    "! ",
    "%s%n{}",
];

/// Any text at all: arbitrary characters mixed with known troublemakers.
pub fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        proptest::sample::select(NASTY).prop_map(String::from),
        "[a-z]{1,8}",
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// A server time: anything, or a valid RFC 3339 time with a part replaced by anything (the
/// near misses that reach deep into a parser, like `2026-11-27T09:15:02+0é00`). The valid
/// samples are ASCII, so slicing them by byte is safe here.
pub fn time() -> BoxedStrategy<String> {
    let valid = prop_oneof![
        Just("2026-11-27T09:15:02.123Z"),
        Just("2026-11-27T09:15:02+01:00"),
        Just("2026-11-27T09:15:02.123456789-13:45"),
        Just("1970-01-01 00:00:00z"),
    ];
    let damaged =
        (valid.clone(), any::<usize>(), 0usize..4, text()).prop_map(|(valid, at, len, insert)| {
            let chars: Vec<char> = valid.chars().collect();
            let at = at % (chars.len() + 1);
            let end = (at + len).min(chars.len());
            let mut out: String = chars[..at].iter().collect();
            out.push_str(&insert);
            out.extend(&chars[end..]);
            out
        });
    // One character of n bytes over n ASCII ones: the byte length, which a parser checks
    // first, stays right while every byte offset after it falls inside a character.
    let wide = prop_oneof![
        Just('é'),
        Just('€'),
        Just('😀'),
        any::<char>(),
        proptest::char::range('\u{80}', '\u{7ff}'),
    ];
    let same_length = (valid.clone(), any::<usize>(), wide).prop_map(|(valid, at, wide)| {
        let at = at % valid.len();
        let end = (at + wide.len_utf8()).min(valid.len());
        format!("{}{wide}{}", &valid[..at], &valid[end..])
    });
    prop_oneof![
        1 => valid.prop_map(String::from),
        4 => same_length,
        2 => damaged,
        2 => fields(),
        1 => text(),
    ]
    // Boxed: strategies live on the stack, and one server message holds many times.
    .boxed()
}

/// Well-formed times with every field anywhere in its digits' range: invalid dates, hours,
/// seconds and offsets, leap days and seconds, and years 0000 and 9999 with offsets that push
/// the instant outside the years a time can be written in.
fn fields() -> BoxedStrategy<String> {
    let any_date =
        (0u32..=9999, 0u32..=13, 0u32..=32).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"));
    let date = prop_oneof![
        // The first and last days a time can be written for, and leap days that are and are not.
        1 => prop_oneof![
            Just("1970-01-01"),
            Just("9999-12-31"),
            Just("0000-01-01"),
            Just("2024-02-29"),
            Just("1900-02-29"),
            Just("2016-12-31"),
        ]
        .prop_map(String::from),
        1 => any_date,
    ];
    let offset = prop_oneof![
        Just("Z".to_string()),
        (any::<bool>(), 0u32..=25, 0u32..=61)
            .prop_map(|(plus, h, m)| { format!("{}{h:02}:{m:02}", if plus { '+' } else { '-' }) }),
    ];
    let fraction = proptest::option::of("[0-9]{1,12}");
    (date, (0u32..=25, 0u32..=61, 0u32..=61), fraction, offset)
        .prop_map(|(date, (h, m, s), frac, offset)| {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{date}T{h:02}:{m:02}:{s:02}{frac}{offset}")
        })
        // Boxed: nested strategies live on the stack, and a whole server message holds many times.
        .boxed()
}

/// Ids and sequence numbers: often small, so that they collide with ours; sometimes huge.
pub fn number() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..6, any::<u64>(), Just(u64::MAX)]
}

pub fn error_code() -> impl Strategy<Value = ErrorCode> {
    proptest::sample::select(vec![
        ErrorCode::BadJson,
        ErrorCode::BadMessage,
        ErrorCode::UnknownType,
        ErrorCode::LineTooLong,
        ErrorCode::InvalidUtf8,
        ErrorCode::NotLoggedIn,
        ErrorCode::NicknameInvalid,
        ErrorCode::NicknameTaken,
        ErrorCode::MessageEmpty,
        ErrorCode::MessageTooLong,
        ErrorCode::RateLimited,
        ErrorCode::NoSuchUser,
        ErrorCode::AuthFailed,
        ErrorCode::ServerFull,
        ErrorCode::TlsRequired,
        ErrorCode::ServerError,
        ErrorCode::Other,
    ])
}

pub fn bye_code() -> impl Strategy<Value = ByeCode> {
    proptest::sample::select(vec![
        ByeCode::Quit,
        ByeCode::ShuttingDown,
        ByeCode::TooSlow,
        ByeCode::Idle,
        ByeCode::LoginTimeout,
        ByeCode::ProtocolError,
        ByeCode::Flooding,
        ByeCode::Replaced,
        ByeCode::Refused,
        ByeCode::Other,
    ])
}

pub fn chat_message() -> impl Strategy<Value = ChatMessage> {
    (number(), time(), number(), text(), text(), any::<bool>()).prop_map(
        |(seq, time, sender_id, sender_nickname, message, action)| ChatMessage {
            seq,
            time,
            sender_id,
            sender_nickname,
            message,
            action,
        },
    )
}

pub fn private_message() -> impl Strategy<Value = PrivateMessage> {
    (
        (number(), time(), number(), text()),
        (number(), text(), text(), any::<bool>()),
    )
        .prop_map(
            |((seq, time, sender_id, sender_nickname), (to_id, to_nickname, message, action))| {
                PrivateMessage {
                    seq,
                    time,
                    sender_id,
                    sender_nickname,
                    to_id,
                    to_nickname,
                    message,
                    action,
                }
            },
        )
}

pub fn welcome() -> impl Strategy<Value = Welcome> {
    let user = (number(), text()).prop_map(|(id, nickname)| User { id, nickname });
    let missed =
        proptest::option::of((number(), number()).prop_map(|(from, to)| SeqRange { from, to }));
    (
        (number(), text(), proptest::collection::vec(user, 0..6)),
        proptest::collection::vec(chat_message(), 0..6),
        (
            any::<u32>(),
            text(),
            text(),
            any::<bool>(),
            number(),
            missed,
        ),
    )
        .prop_map(
            |(
                (id, nickname, users),
                history,
                (protocol, server, resume_token, resumed, replay, missed),
            )| {
                let mut w = bare_welcome();
                w.id = id;
                w.nickname = nickname;
                w.users = users;
                w.history = history;
                w.protocol = protocol;
                w.server = server;
                w.resume_token = resume_token;
                w.resumed = resumed;
                w.replay = replay;
                w.missed = missed;
                w
            },
        )
}

/// A welcome with every optional field at its default, built the way a client reads one, so
/// that fields added to the protocol later need no change here.
pub fn bare_welcome() -> Welcome {
    serde_json::from_value(serde_json::json!({
        "id": 0,
        "nickname": "",
        "users": [],
        "history": [],
    }))
    .expect("the smallest welcome")
}

/// Any message of any type the server may send.
pub fn server_msg() -> impl Strategy<Value = ServerMsg> {
    prop_oneof![
        welcome().prop_map(ServerMsg::Welcome),
        chat_message().prop_map(ServerMsg::Message),
        private_message().prop_map(ServerMsg::Private),
        (time(), number(), text()).prop_map(|(time, id, nickname)| ServerMsg::Join {
            time,
            id,
            nickname
        }),
        (time(), number(), text(), text()).prop_map(|(time, id, nickname, reason)| {
            ServerMsg::Leave {
                time,
                id,
                nickname,
                reason,
            }
        }),
        (time(), number(), text(), text()).prop_map(|(time, id, old_nickname, new_nickname)| {
            ServerMsg::Rename {
                time,
                id,
                old_nickname,
                new_nickname,
            }
        }),
        (error_code(), text(), proptest::option::of(number())).prop_map(
            |(code, message, retry_after_ms)| ServerMsg::Error {
                code,
                message,
                retry_after_ms
            }
        ),
        (bye_code(), text()).prop_map(|(code, reason)| ServerMsg::Bye { code, reason }),
        Just(ServerMsg::Ping),
        Just(ServerMsg::Pong),
    ]
}

/// A conversation: what a client sees over one connection, in any order.
pub fn conversation() -> impl Strategy<Value = Vec<ServerMsg>> {
    proptest::collection::vec(server_msg(), 0..24)
}
