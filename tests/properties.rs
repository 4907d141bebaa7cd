//! Property tests of the decoder and the framer: arbitrary bytes never panic, and any way of
//! splitting a valid stream decodes to the same messages. And every client-side path that
//! server data takes through the shared library (decoding, the resume memory, delivery
//! tracking, catch-up reconciliation, time parsing) survives any message of any type with
//! hostile text in every field.

mod common;

use proptest::prelude::*;
use tlschat::runtime::delivery::{MessageId, Reconcile, SentMessage, Unconfirmed};
use tlschat::runtime::Resume;
use tlschat::wire::framing::LineBuffer;
use tlschat::wire::{
    decode_client, decode_server, encode, ChatMessage, ClientMsg, ServerMsg, MAX_LINE,
};
use tlschat_strategies as arbitrary;

fn lines_of(chunks: &[Vec<u8>], limit: usize) -> Result<Vec<Vec<u8>>, ()> {
    let mut buf = LineBuffer::new(limit);
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend(chunk);
        loop {
            match buf.next_line() {
                Ok(Some(line)) => out.push(line.to_vec()),
                Ok(None) => break,
                Err(_) => return Err(()),
            }
        }
    }
    Ok(out)
}

/// Splits `bytes` at the given cut points.
fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for p in points {
        chunks.push(bytes[start..p].to_vec());
        start = p;
    }
    chunks.push(bytes[start..].to_vec());
    chunks
}

fn chat_message() -> impl Strategy<Value = ServerMsg> {
    (
        any::<u64>(),
        any::<u64>(),
        ".{0,40}",
        ".{0,200}",
        any::<bool>(),
    )
        .prop_map(|(seq, sender_id, sender_nickname, message, action)| {
            ServerMsg::Message(ChatMessage {
                seq,
                time: "2026-11-27T09:15:02.123Z".into(),
                sender_id,
                sender_nickname,
                message,
                action,
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode_client(&bytes);
        let _ = decode_server(&bytes);
    }

    #[test]
    fn json_shaped_garbage_never_panics(
        ty in prop_oneof![
            Just("login".to_string()),
            Just("broadcast".to_string()),
            Just("private".to_string()),
            Just("resume".to_string()),
            ".{0,8}",
        ],
        key in ".{0,10}",
        value in prop_oneof![Just("1".to_string()), Just("null".to_string()), Just("[]".to_string()), "\".{0,20}\""],
    ) {
        let line = format!("{{\"type\":\"{ty}\",\"{key}\":{value}}}");
        let _ = decode_client(line.as_bytes());
    }

    #[test]
    fn any_split_of_a_stream_gives_the_same_lines(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let whole = lines_of(std::slice::from_ref(&bytes), 64);
        let pieces = lines_of(&split(&bytes, &cuts), 64);
        prop_assert_eq!(whole, pieces);
    }

    #[test]
    fn framing_matches_a_simple_model(text in "[a-z\n]{0,300}") {
        let got = lines_of(&[text.as_bytes().to_vec()], MAX_LINE).unwrap();
        let mut expected: Vec<Vec<u8>> = text.split('\n').map(|l| l.as_bytes().to_vec()).collect();
        expected.pop(); // the part after the last \n is not a line yet
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn a_split_stream_of_server_messages_decodes_identically(
        msgs in proptest::collection::vec(chat_message(), 1..20),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
    ) {
        let stream: Vec<u8> = msgs.iter().flat_map(encode).collect();
        let lines = lines_of(&split(&stream, &cuts), 1 << 20).unwrap();
        let decoded: Vec<ServerMsg> = lines.iter().map(|l| decode_server(l).unwrap()).collect();
        prop_assert_eq!(decoded, msgs);
    }

    #[test]
    fn client_messages_round_trip(nickname in ".{0,40}", message in ".{0,300}", action in any::<bool>()) {
        for msg in [
            ClientMsg::Login { nickname: nickname.clone(), password: None },
            ClientMsg::Broadcast { message: message.clone(), action },
            ClientMsg::Private { to: nickname.clone(), message: message.clone(), action },
        ] {
            let line = encode(&msg);
            prop_assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
            prop_assert_eq!(decode_client(&line[..line.len() - 1]), Ok(msg));
        }
    }

    #[test]
    fn every_server_message_survives_the_wire(msg in arbitrary::server_msg()) {
        let line = encode(&msg);
        prop_assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
        prop_assert_eq!(decode_server(&line[..line.len() - 1]), Ok(msg));
    }

    #[test]
    fn server_lines_with_a_field_of_the_wrong_kind_are_refused_not_fatal(
        msg in arbitrary::server_msg(),
        field in 0usize..12,
        value in prop_oneof![
            Just(serde_json::json!(null)),
            Just(serde_json::json!(-1)),
            Just(serde_json::json!(1.5)),
            Just(serde_json::json!(u64::MAX)),
            Just(serde_json::json!([])),
            Just(serde_json::json!({})),
            arbitrary::text().prop_map(serde_json::Value::from),
        ],
    ) {
        let mut object: serde_json::Value = serde_json::from_slice(&encode(&msg)).unwrap();
        if let Some(map) = object.as_object_mut() {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = keys[field % keys.len()].clone();
            map.insert(key, value);
        }
        let _ = decode_server(object.to_string().as_bytes());
    }

    #[test]
    fn client_bookkeeping_follows_any_conversation(
        conversation in arbitrary::conversation(),
        sent in proptest::collection::vec(arbitrary::text(), 0..6),
        old_id in proptest::option::of(arbitrary::number()),
    ) {
        let resume = Resume::new();
        let mut unconfirmed = Unconfirmed::default();
        let chat: Vec<SentMessage> = sent
            .iter()
            .enumerate()
            .map(|(i, text)| SentMessage {
                id: MessageId::next(),
                message: match i % 2 {
                    0 => ClientMsg::Broadcast { message: text.clone(), action: i % 3 == 0 },
                    _ => ClientMsg::Private { to: text.clone(), message: text.clone(), action: false },
                },
            })
            .collect();
        for msg in &chat {
            unconfirmed.sent(msg.clone());
        }
        let mut reconcile = Reconcile::new(chat.clone(), old_id);
        let mut my_id = None;
        let (mut lost, mut delivered) = (0, 0);
        for msg in &conversation {
            if let ServerMsg::Welcome(w) = msg {
                my_id = Some(w.id);
            }
            resume.observe(msg);
            unconfirmed.observe(msg, my_id);
            let reconciled = reconcile.observe(msg);
            lost += reconciled.lost.len();
            delivered += reconciled.delivered.len();
            let times: Vec<&str> = match msg {
                ServerMsg::Welcome(w) => w.history.iter().map(|m| m.time.as_str()).collect(),
                ServerMsg::Message(m) => vec![&m.time],
                ServerMsg::Private(p) => vec![&p.time],
                ServerMsg::Join { time, .. }
                | ServerMsg::Leave { time, .. }
                | ServerMsg::Rename { time, .. } => vec![time],
                _ => Vec::new(),
            };
            for time in times {
                let _ = tlschat::wire::time::parse_rfc3339(time);
            }
            if let ServerMsg::Bye { code, .. } = msg {
                let _ = code.invites_reconnect();
            }
        }
        // Nothing is invented or lost by the bookkeeping itself.
        prop_assert!(unconfirmed.take().len() <= chat.len());
        // Each carried message is found delivered, or lost, or still unchecked: exactly once.
        prop_assert_eq!(delivered + lost + reconcile.take().len(), chat.len());
        let info = resume.snapshot();
        let seqs = conversation.iter().flat_map(|m| match m {
            ServerMsg::Welcome(w) => w.history.last().map(|m| m.seq),
            ServerMsg::Message(m) => Some(m.seq),
            ServerMsg::Private(p) => Some(p.seq),
            _ => None,
        });
        prop_assert_eq!(info.last_seq, seqs.max());
    }
}

// Cheap, and near misses need many cases to land on each byte of the offset.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn time_parsing_never_panics(text in arbitrary::time()) {
        // The generator reaches every refusal in the parser (out-of-range fields and offsets,
        // instants before 1970 or past 9999) and the edges that parse.
        if let Some(at) = tlschat::wire::time::parse_rfc3339(&text) {
            // Whatever parses formats again, and that parses to the same instant (to the ms).
            let again = tlschat::wire::time::parse_rfc3339(&tlschat::wire::time::rfc3339(at));
            let ms = |t: std::time::SystemTime| {
                t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).ok()
            };
            prop_assert_eq!(again.and_then(ms), ms(at));
        }
    }
}
