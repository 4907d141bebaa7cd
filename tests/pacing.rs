//! Pacing against the real server: `welcome` announces the flood limits, and the shared
//! client runtime holds back what would exceed them, so a fast typist loses nothing.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Server, PATIENCE};
use tlschat::runtime::connect::BUNDLED_CA;
use tlschat::runtime::{self, ClientConfig, NetEvent};
use tlschat::wire::{ClientMsg, ServerMsg};

fn start(server: &str, nickname: &str) -> (runtime::ClientHandle, mpsc::Receiver<NetEvent>) {
    let (tx, rx) = mpsc::channel();
    let config = ClientConfig::new(server, BUNDLED_CA, nickname, None);
    let handle = runtime::spawn(config, move |event| {
        let _ = tx.send(event);
    });
    (handle, rx)
}

fn say(text: &str) -> ClientMsg {
    ClientMsg::Broadcast {
        message: text.into(),
        action: false,
    }
}

#[test]
fn welcome_announces_the_flood_limits_and_none_without_flood_control() {
    let server = Server::start(&["--rate", "4", "--burst", "6"]);
    let (_, welcome) = server.join("alice");
    assert_eq!((welcome.rate, welcome.burst), (Some(4.0), Some(6.0)));
    let free = Server::start(&["--no-flood-control"]);
    let (_, welcome) = free.join("bob");
    assert_eq!((welcome.rate, welcome.burst), (None, None));
}

#[test]
fn thirty_lines_at_once_all_arrive_in_order() {
    let server = Server::start(&["--rate", "20", "--burst", "5"]);
    let (alice, rx) = start(&server.addr(), "alice");
    let deadline = Instant::now() + PATIENCE * 2;
    loop {
        match rx.recv_timeout(PATIENCE).expect("the welcome") {
            NetEvent::Server(ServerMsg::Welcome(w)) => {
                assert_eq!(w.rate, Some(20.0));
                break;
            }
            NetEvent::Closed { reason, .. } => panic!("closed: {reason}"),
            _ => {}
        }
    }
    for i in 0..30 {
        alice.send(&say(&format!("line {i}"))).expect("queued");
    }
    let mut echoed = Vec::new();
    while echoed.len() < 30 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left.max(Duration::from_millis(1))) {
            Ok(NetEvent::Server(ServerMsg::Message(m))) => echoed.push(m.message),
            Ok(NetEvent::Refused { message, code, .. }) => {
                panic!("{message:?} was refused ({code:?}) after {echoed:?}")
            }
            Ok(NetEvent::Server(ServerMsg::Error { code, message, .. })) => {
                panic!("error {code:?}: {message}")
            }
            Ok(NetEvent::Closed { reason, .. }) => panic!("closed: {reason}"),
            Ok(_) => {}
            Err(e) => panic!("{e} with {} of 30 echoed: {echoed:?}", echoed.len()),
        }
    }
    let expected: Vec<String> = (0..30).map(|i| format!("line {i}")).collect();
    assert_eq!(echoed, expected);
    alice.quit();
}

#[test]
fn a_refusal_names_the_message_it_refused() {
    let server = Server::start(&[]);
    let (alice, rx) = start(&server.addr(), "alice");
    loop {
        let event = rx.recv_timeout(PATIENCE).expect("the welcome");
        if let NetEvent::Server(ServerMsg::Welcome(_)) = event {
            break;
        }
    }
    let lost = ClientMsg::Private {
        to: "nobody".into(),
        message: "are you there?".into(),
        action: false,
    };
    alice.send(&say("before")).expect("queued");
    alice.send(&lost).expect("queued");
    alice.send(&say("after")).expect("queued");
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(PATIENCE).expect("an answer") {
            NetEvent::Refused { message, code, .. } => {
                assert_eq!(message, lost, "after {seen:?}");
                assert_eq!(code, tlschat::wire::ErrorCode::NoSuchUser);
                break;
            }
            NetEvent::Server(ServerMsg::Message(m)) => seen.push(m.message),
            NetEvent::Server(ServerMsg::Error { code, .. }) => {
                panic!("the refusal came as a bare {code:?}")
            }
            NetEvent::Closed { reason, .. } => panic!("closed: {reason}"),
            _ => {}
        }
    }
    assert_eq!(seen, ["before"]);
    alice.quit();
}
