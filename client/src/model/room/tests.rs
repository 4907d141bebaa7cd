use super::*;

pub(super) fn msg(seq: u64, sender_id: u64, sender: &str, text: &str) -> ServerMsg {
    ServerMsg::Message(ChatMessage {
        seq,
        time: "2026-11-27T09:15:02.123Z".into(),
        sender_id,
        sender_nickname: sender.into(),
        message: text.into(),
        action: false,
    })
}

/// A `welcome` as the server would send it; built from JSON so that fields the protocol
/// adds later take their defaults.
fn welcome(id: u64, nickname: &str, users: Vec<User>, history: Vec<ChatMessage>) -> Welcome {
    let json = serde_json::json!({
        "id": id,
        "nickname": nickname,
        "users": users,
        "history": history,
        "protocol": 1,
    });
    serde_json::from_value(json).expect("a valid welcome")
}

pub(super) fn welcomed(history: Vec<ChatMessage>) -> Room {
    let mut room = Room::default();
    let users = vec![
        User {
            id: 1,
            nickname: "bob".into(),
        },
        User {
            id: 3,
            nickname: "alice".into(),
        },
    ];
    let up = room.apply(ServerMsg::Welcome(welcome(3, "alice", users, history)));
    assert!(up.welcomed && up.users_changed);
    room
}

fn inserted(up: &Update) -> Vec<(usize, String)> {
    up.ops
        .iter()
        .filter_map(|op| match op {
            Op::Insert(i, line) => Some((*i, line.plain())),
            _ => None,
        })
        .collect()
}

#[test]
fn own_messages_and_mentions() {
    let mut room = welcomed(vec![]);
    let up = room.apply(msg(5, 3, "alice", "hello"));
    let Some(Op::Insert(_, line)) = up.ops.first() else {
        panic!("no line")
    };
    assert!(line.own && !line.mention);
    assert!(up.alert.is_none());
    let up = room.apply(msg(6, 1, "bob", "hi Alice!"));
    let Some(Op::Insert(_, line)) = up.ops.first() else {
        panic!("no line")
    };
    assert!(!line.own && line.mention);
    assert_eq!(up.alert.map(|a| a.0).as_deref(), Some("bob mentioned you"));
}

#[test]
fn history_replay_is_deduplicated_by_seq() {
    let history = |seqs: &[u64]| {
        seqs.iter()
            .map(|&seq| ChatMessage {
                seq,
                time: "2026-11-27T09:15:02Z".into(),
                sender_id: 1,
                sender_nickname: "bob".into(),
                message: format!("m{seq}"),
                action: false,
            })
            .collect::<Vec<_>>()
    };
    let mut room = welcomed(history(&[1, 2]));
    room.apply(msg(4, 1, "bob", "m4"));
    room.disconnected();
    let me = vec![User {
        id: 7,
        nickname: "alice".into(),
    }];
    let up = room.apply(ServerMsg::Welcome(welcome(
        7,
        "alice",
        me,
        history(&[2, 3, 4, 5]),
    )));
    // Rows before: m1 m2 welcome m4. What was shown is left out; 5 goes at the end.
    assert_eq!(
        inserted(&up),
        vec![
            (4, "<bob> m5".to_string()),
            (5, "-- Welcome, alice: nobody else is here yet".to_string()),
        ]
    );
    // Replayed private messages come after the room's and may be older: they slot in.
    let whisper = ServerMsg::Private(tlschat::wire::PrivateMessage {
        seq: 3,
        time: "2026-11-27T09:15:02Z".into(),
        sender_id: 1,
        sender_nickname: "bob".into(),
        to_id: 7,
        to_nickname: "alice".into(),
        message: "psst".into(),
        action: false,
    });
    let up = room.apply(whisper.clone());
    assert_eq!(inserted(&up).len(), 1);
    assert_eq!(inserted(&up)[0].0, 3, "between m2 (and the welcome) and m4");
    assert!(room.apply(whisper).ops.is_empty(), "shown once");
}

#[test]
fn users_follow_join_leave_and_rename() {
    let mut room = welcomed(vec![]);
    let t = "2026-11-27T09:15:02Z".to_string();
    room.apply(ServerMsg::Join {
        time: t.clone(),
        id: 9,
        nickname: "carol".into(),
    });
    assert_eq!(room.nicknames(), vec!["bob", "alice", "carol"]);
    let up = room.apply(ServerMsg::Leave {
        time: t.clone(),
        id: 1,
        nickname: "bob".into(),
        reason: "quit".into(),
    });
    assert_eq!(inserted(&up)[0].1, "-- bob left the room (quit)");
    let up = room.apply(ServerMsg::Rename {
        time: t,
        id: 3,
        old_nickname: "alice".into(),
        new_nickname: "alicia".into(),
    });
    assert!(up.me_changed);
    assert_eq!(
        room.me.as_ref().map(|m| m.nickname.as_str()),
        Some("alicia")
    );
    assert_eq!(room.nicknames(), vec!["alicia", "carol"]);
}

#[test]
fn errors_say_what_happened() {
    let mut room = Room {
        requested_nickname: "bob".into(),
        ..Room::default()
    };
    let up = room.apply(ServerMsg::error(ErrorCode::NicknameTaken, "taken"));
    assert!(up.login_refused);
    assert_eq!(
        up.status.as_deref(),
        Some("Nickname 'bob' is taken: choose another and press Login")
    );
    let mut room = welcomed(vec![]);
    room.requested_nickname = "bob".into();
    let up = room.apply(ServerMsg::error(ErrorCode::NicknameTaken, "taken"));
    assert!(!up.login_refused, "a refused rename keeps the connection");
    assert_eq!(
        up.status.as_deref(),
        Some("Nickname 'bob' is taken: you are still alice. Try another with /nick NAME")
    );
    let mut room = Room::default();
    let up = room.apply(ServerMsg::error(ErrorCode::AuthFailed, "wrong password"));
    assert!(up.login_refused && up.password_needed);
    assert_eq!(
        up.status.as_deref(),
        Some("This room needs a password: type it in the Password box and press Login")
    );
    let mut room = welcomed(vec![]);
    let up = room.apply(ServerMsg::Error {
        code: ErrorCode::RateLimited,
        message: "too fast".into(),
        retry_after_ms: Some(1500),
    });
    assert!(!up.login_refused);
    assert_eq!(
        up.status.as_deref(),
        Some("Slow down: your message was not delivered. Try again in 2 s")
    );
    assert_eq!(inserted(&up).len(), 1, "the error is also kept in the list");
}

#[test]
fn a_resumed_session_says_so_and_names_the_gap() {
    let mut room = welcomed(vec![]);
    room.disconnected();
    let json = serde_json::json!({
        "id": 3, "nickname": "alice", "users": [{"id": 3, "nickname": "alice"}],
        "history": [], "resumed": true, "replay": 0, "missed": {"from": 5, "to": 9},
    });
    let w: Welcome = serde_json::from_value(json).expect("a valid welcome");
    let lines: Vec<String> = inserted(&room.apply(ServerMsg::Welcome(w)))
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(
        lines,
        vec![
            "-- Messages 5 to 9 arrived while you were away and are no longer kept",
            "-- Reconnected as alice: nobody else is here yet",
        ]
    );
}
