//! The peers that misbehave during the soak test, each run on a thread of its own and
//! returning what happened to it: `Ok` with a description, or `Err` with what went wrong.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tlschat::runtime::{self, ClientConfig, NetEvent};
use tlschat::wire::{ByeCode, ClientMsg, ErrorCode, ServerMsg};

use crate::common::Client;

/// Connects and sends two bytes of a TLS record header, then nothing: the server must
/// give up on it at its handshake timeout (the test runs it with `--handshake-timeout 2`).
pub fn stalled_handshake(port: u16) -> Result<String, String> {
    let started = Instant::now();
    let mut socket = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    socket.write_all(&[0x16, 0x03]).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(8)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let outcome = socket.read(&mut buf);
    let waited = started.elapsed();
    match outcome {
        Ok(_) if waited < Duration::from_millis(1500) => {
            Err(format!("closed after only {waited:?}"))
        }
        Ok(_) => Ok(format!("closed by the server after {waited:?}")),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(format!("still open after {waited:?}"))
        }
        Err(e) => Ok(format!("reset by the server after {waited:?}: {e}")),
    }
}

/// Logs in, then floods: first 280 messages in one write (flood control lets 250 through at
/// once and answers the rest with `rate_limited`), then, once the bucket has refilled a
/// little and a message has gone through, exactly 50 lines of junk: the server must answer
/// `bye` `flooding` after the last one and close. (Exactly 50, so that the server has read
/// everything when it closes: unread bytes would make it reset the connection, and the
/// `bye` could be lost.)
pub fn flooder(port: u16) -> Result<String, String> {
    let mut flooder = Client::connect(port);
    flooder.login("flooder");
    let lines: String = (0..280)
        .map(|i| format!("{{\"type\":\"broadcast\",\"message\":\"flood-{i}\"}}\n"))
        .collect();
    write(&mut flooder, &lines)?;
    let (mut answered, mut limited, mut wait_ms) = (0, 0, 0);
    while answered < 280 {
        match flooder.recv() {
            ServerMsg::Message(m) if m.sender_nickname == "flooder" => answered += 1,
            ServerMsg::Error {
                code,
                retry_after_ms,
                ..
            } => {
                answered += 1;
                limited += usize::from(code == ErrorCode::RateLimited);
                wait_ms = retry_after_ms.unwrap_or(wait_ms);
            }
            _ => {}
        }
    }
    // As long as the server said the bucket needs to refill a token.
    std::thread::sleep(Duration::from_millis(wait_ms + 10));
    write(
        &mut flooder,
        "{\"type\":\"broadcast\",\"message\":\"flood-ok\"}\n",
    )?;
    flooder.recv_until(
        "flood-ok",
        |m| matches!(m, ServerMsg::Message(m) if m.message == "flood-ok"),
    );
    write(&mut flooder, &"this is not json\n".repeat(50))?;
    let rest = flooder.recv_all_until_close();
    match rest.last() {
        Some(ServerMsg::Bye {
            code: ByeCode::Flooding,
            ..
        }) => Ok(format!(
            "{limited} of 280 rate-limited, then disconnected for flooding"
        )),
        other => Err(format!("expected bye flooding, got {other:?} last")),
    }
}

fn write(client: &mut Client, text: &str) -> Result<(), String> {
    client
        .tls
        .write_all(text.as_bytes())
        .and_then(|()| client.tls.flush())
        .map_err(|e| format!("could not send: {e}"))
}

/// Logs in and never reads again, while a loud but well-behaved client fills the room with
/// 4 KB messages (200 a second, within flood control): once the kernel's buffers (megabytes
/// on loopback) and the server's send budget are full, the server must cut the sleeper off
/// as too slow (the room hears `leave` `too slow`) without slowing anyone else down.
pub fn sleeper(port: u16) -> Result<String, String> {
    let mut sleeper = Client::connect(port);
    sleeper.login("sleeper");
    let (told, cut_off) = mpsc::channel();
    let addr = format!("127.0.0.1:{port}");
    let config = ClientConfig::new(
        &addr,
        tlschat::runtime::connect::BUNDLED_CA,
        "loudmouth",
        None,
    );
    let loudmouth = runtime::spawn(config, move |event| {
        if let NetEvent::Server(ServerMsg::Leave {
            nickname, reason, ..
        }) = event
        {
            if nickname == "sleeper" {
                let _ = told.send(reason);
            }
        }
    });
    let started = Instant::now();
    let mut sent = 0;
    let outcome = loop {
        match cut_off.recv_timeout(Duration::from_millis(10)) {
            Ok(reason) if reason == "too slow" => {
                let waited = started.elapsed();
                break Ok(format!("cut off after {sent} loud messages in {waited:?}"));
            }
            Ok(reason) => break Err(format!("left for another reason: {reason}")),
            Err(_) if started.elapsed() > Duration::from_secs(15) => {
                break Err(format!("still in the room after {sent} loud messages"));
            }
            Err(_) => {}
        }
        for _ in 0..2 {
            let text = format!("loud-{sent} {}", "z".repeat(3900));
            let msg = ClientMsg::Broadcast {
                message: text,
                action: false,
            };
            if loudmouth.send(&msg).is_ok() {
                sent += 1;
            }
        }
    };
    loudmouth.quit();
    drop(sleeper);
    outcome
}
