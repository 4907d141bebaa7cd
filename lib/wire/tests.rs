//! Wire-format tests: the exact JSON on the wire and the decoder's error codes.

use super::*;

#[test]
fn client_messages_on_the_wire() {
    let login = ClientMsg::Login {
        nickname: "alice".into(),
        password: None,
    };
    assert_eq!(
        encode(&login),
        b"{\"type\":\"login\",\"nickname\":\"alice\"}\n"
    );
    let b = decode_client(br#"{"type":"broadcast","message":"hi","sender_id":99}"#);
    assert_eq!(
        b,
        Ok(ClientMsg::Broadcast {
            message: "hi".into(),
            action: false
        })
    );
    assert_eq!(decode_client(br#"{"type":"ping"}"#), Ok(ClientMsg::Ping));
}

#[test]
fn server_messages_round_trip() {
    let msg = ServerMsg::Message(ChatMessage {
        seq: 7,
        time: "2026-11-27T09:15:02.123Z".into(),
        sender_id: 3,
        sender_nickname: "alice".into(),
        message: "hello".into(),
        action: false,
    });
    let line = encode(&msg);
    assert_eq!(
        std::str::from_utf8(&line).unwrap(),
        "{\"type\":\"message\",\"seq\":7,\"time\":\"2026-11-27T09:15:02.123Z\",\"sender_id\":3,\
         \"sender_nickname\":\"alice\",\"message\":\"hello\"}\n"
    );
    assert_eq!(decode_server(&line[..line.len() - 1]), Ok(msg));
    let err = ServerMsg::Error {
        code: ErrorCode::RateLimited,
        message: "slow down".into(),
        retry_after_ms: Some(250),
    };
    let line = encode(&err);
    assert!(std::str::from_utf8(&line)
        .unwrap()
        .contains("\"code\":\"rate_limited\""));
    assert_eq!(decode_server(&line[..line.len() - 1]), Ok(err));
}

#[test]
fn unknown_codes_are_tolerated_by_clients() {
    let msg = decode_server(br#"{"type":"error","code":"brand_new","message":"x"}"#);
    assert!(matches!(
        msg,
        Ok(ServerMsg::Error {
            code: ErrorCode::Other,
            ..
        })
    ));
    let bye = decode_server(br#"{"type":"bye","code":"later","reason":"x"}"#);
    assert!(matches!(
        bye,
        Ok(ServerMsg::Bye {
            code: ByeCode::Other,
            ..
        })
    ));
}

#[test]
fn decode_errors_have_stable_codes() {
    let code = |line: &[u8]| decode_client(line).unwrap_err().code;
    assert_eq!(code(b"not json"), ErrorCode::BadJson);
    assert_eq!(code(b"[1,2]"), ErrorCode::BadJson);
    assert_eq!(code(b"{\"message\":\"x\"}"), ErrorCode::BadMessage);
    assert_eq!(code(b"{\"type\":\"dance\"}"), ErrorCode::UnknownType);
    assert_eq!(code(b"{\"type\":\"broadcast\"}"), ErrorCode::BadMessage);
    assert_eq!(
        code(b"{\"type\":\"login\",\"nickname\":5}"),
        ErrorCode::BadMessage
    );
    assert_eq!(code(b"{\"type\":\"ping\"}\xff"), ErrorCode::InvalidUtf8);
}

#[test]
fn nickname_and_message_rules() {
    assert!(validate_nickname("alice").is_ok());
    assert!(validate_nickname("Zoë_the_2nd").is_ok());
    assert!(validate_nickname("Zoë the 2nd").is_err());
    assert!(validate_nickname(&"x".repeat(32)).is_ok());
    assert!(validate_nickname(&"x".repeat(33)).is_err());
    assert!(validate_nickname("").is_err());
    assert!(validate_nickname(" alice").is_err());
    assert!(validate_nickname("al\nice").is_err());
    assert_eq!(nickname_key("ALice"), nickname_key("alICE"));
    assert_eq!(validate_message("  hi  "), Ok("hi"));
    assert_eq!(
        validate_message("   ").unwrap_err().0,
        ErrorCode::MessageEmpty
    );
    assert!(validate_message(&"é".repeat(4000)).is_ok());
    assert_eq!(
        validate_message(&"é".repeat(4001)).unwrap_err().0,
        ErrorCode::MessageTooLong
    );
}

#[test]
fn which_goodbyes_invite_a_reconnect() {
    assert!(!ByeCode::Quit.invites_reconnect());
    assert!(!ByeCode::Replaced.invites_reconnect());
    assert!(!ByeCode::Refused.invites_reconnect());
    assert!(ByeCode::ShuttingDown.invites_reconnect());
    assert!(ByeCode::TooSlow.invites_reconnect());
    assert!(
        ByeCode::Other.invites_reconnect(),
        "unknown codes are treated as shutting_down"
    );
}
