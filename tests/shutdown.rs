//! Stopping the server says goodbye to everyone, even to a client whose last lines the
//! server never got to read.

mod common;

use std::process::Command;

use common::Server;
use tlschat::wire::{ByeCode, ServerMsg};

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn sigterm_with_unread_pipelined_input_still_says_bye() {
    let mut server = Server::start(&[]);
    let (mut alice, _) = server.join("alice");
    // Frozen, the server cannot read what alice sends next: it is still unread when the
    // server is told to stop.
    signal(server.pid(), "STOP");
    let pings = "{\"type\":\"ping\"}\n".repeat(2000);
    alice.send_raw(pings.as_bytes());
    signal(server.pid(), "TERM");
    signal(server.pid(), "CONT");
    let (got, error) = alice.recv_until_end();
    assert!(
        error.is_none(),
        "the connection ended with {error:?} instead of a clean close"
    );
    assert!(
        got.iter().any(|m| matches!(
            m,
            ServerMsg::Bye {
                code: ByeCode::ShuttingDown,
                ..
            }
        )),
        "no bye shutting_down among {} lines",
        got.len()
    );
    assert!(server.terminate().success());
}
