//! Per-address limits (issue 9, items 2 and 3): one host cannot lock the others out, cannot
//! buy a fresh flood budget by reconnecting, and a full room makes room by ending a ghost.
//! Other loopback source addresses (127.0.0.2, 127.0.0.3, ...) stand for other hosts.

mod common;

use std::net::{Ipv4Addr, TcpStream};
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

use common::{assert_last_bye, Client, Server};
use tlschat::wire::{ByeCode, ErrorCode, ServerMsg};

/// A TCP connection to the server on 127.0.0.1 from the local address `source`.
fn tcp_from(source: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    let addr = |ip: Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(ip.octets()),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket calls on a descriptor we own (the TcpStream closes it), with
    // addresses that live across each call.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        let local = addr(source, 0);
        if libc::bind(fd, (&raw const local).cast(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let remote = addr(Ipv4Addr::LOCALHOST, port);
        if libc::connect(fd, (&raw const remote).cast(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(stream)
    }
}

/// A TLS connection from `source`, or why the server would not have it.
fn tls_from(source: Ipv4Addr, port: u16) -> Result<Client, String> {
    Client::handshake(tcp_from(source, port).map_err(|e| e.to_string())?)
}

fn login_from(source: Ipv4Addr, port: u16, nickname: &str) -> (Client, u64) {
    let mut client = tls_from(source, port).expect("TLS handshake");
    let id = client.login(nickname).id;
    (client, id)
}

fn turned_away_lines(server: &Server, source: &str) -> usize {
    let needle = format!("{source}: turned away");
    server.log().iter().filter(|l| l.contains(&needle)).count()
}

#[test]
fn stalled_sockets_from_one_address_do_not_lock_out_another() {
    tlschat::limits::raise_open_file_limit();
    let server = Server::start(&[]);
    let attacker = Ipv4Addr::new(127, 0, 0, 2);
    let stalled: Vec<TcpStream> = (0..1400)
        .map(|_| tcp_from(attacker, server.port).expect("a stalled connection"))
        .collect();
    let mut alice = Client::connect(server.port);
    let welcome = alice.login("alice");
    assert_eq!(welcome.nickname, "alice");
    // In while the attacker's handshakes still hang (they time out after 10 s), not after.
    let log = server.log();
    assert!(
        !log.iter().any(|l| l.contains("handshake timed out")),
        "the login waited for the stalled sockets: {log:#?}"
    );
    // The refusals are one summary line, not one line each.
    server.wait_for_log("127.0.0.2: turned away 1 connection before TLS");
    assert_eq!(
        turned_away_lines(&server, "127.0.0.2"),
        1,
        "{:#?}",
        server.log()
    );
    drop(stalled);
}

#[test]
fn a_user_over_the_address_limit_is_told_so() {
    let server = Server::start(&["--max-users-per-address", "2"]);
    let host = Ipv4Addr::new(127, 0, 0, 3);
    let (mut first, first_id) = login_from(host, server.port, "one");
    let _second = login_from(host, server.port, "two");
    let mut third = tls_from(host, server.port).expect("TLS is up before the login");
    third.send(r#"{"type":"login","nickname":"three"}"#);
    let rest = third.recv_all_until_close();
    match rest.first() {
        Some(ServerMsg::Error { code, message, .. }) => {
            assert_eq!(*code, ErrorCode::TooManyConnections, "{rest:?}");
            assert!(message.contains("your address"), "{message}");
        }
        _ => panic!("expected an error first: {rest:?}"),
    }
    assert_last_bye(&rest, ByeCode::Refused);
    // Another host is not affected, and a place freed is a place to take.
    let (_alice, _) = server.join("alice");
    first.send(r#"{"type":"quit"}"#);
    first.recv_all_until_close();
    server.wait_for_log(&format!("one (#{first_id}) left: quit"));
    let (mut again, _) = login_from(host, server.port, "three");
    again.say("in at last");
    assert_eq!(again.recv_message().message, "in at last");
}

#[test]
fn pending_and_new_connections_per_address_are_bounded() {
    let server = Server::start(&[
        "--max-pending-per-address",
        "3",
        "--connects-per-address",
        "4",
    ]);
    let (stalling, cycling) = (Ipv4Addr::new(127, 0, 0, 4), Ipv4Addr::new(127, 0, 0, 5));
    // Three connections logging in are allowed; the fourth (and later) get a plain close.
    let mut pending: Vec<Client> = (0..3)
        .map(|_| tls_from(stalling, server.port).expect("within the pending limit"))
        .collect();
    for _ in 0..20 {
        assert!(tls_from(stalling, server.port).is_err(), "over the limit");
    }
    // Those let in can still log in, which frees their place for another.
    pending[0].login("patient");
    let mut fourth = tls_from(stalling, server.port).expect("a place was freed");
    fourth.login("fourth");
    // New connections per address: four, then a plain close, even for logged-in users.
    let _users: Vec<(Client, u64)> = (0..4)
        .map(|i| login_from(cycling, server.port, &format!("cycler{i}")))
        .collect();
    for _ in 0..5 {
        assert!(tls_from(cycling, server.port).is_err(), "throttled");
    }
    let (_alice, _) = server.join("alice");
    server.wait_for_log("127.0.0.5: turned away 1 connection before TLS");
    let log = server.log();
    assert_eq!(turned_away_lines(&server, "127.0.0.4"), 1, "{log:#?}");
    assert_eq!(turned_away_lines(&server, "127.0.0.5"), 1, "{log:#?}");
}

#[test]
fn reconnecting_does_not_reset_the_flood_budget() {
    // Lift the connection throttle, so that only the message budget stands in the way.
    let server = Server::start(&["--connects-per-address", "1000000"]);
    let (mut observer, _) = server.join("observer");
    let flooder = Ipv4Addr::new(127, 0, 0, 6);
    let start = Instant::now();
    let mut connections = 0;
    let mut burst = String::new();
    while start.elapsed() < Duration::from_secs(5) {
        burst.clear();
        burst.push_str(&format!(
            "{{\"type\":\"login\",\"nickname\":\"flood{connections}\"}}\n"
        ));
        for i in 0..10 {
            burst.push_str(&format!(
                "{{\"type\":\"broadcast\",\"message\":\"{connections}.{i}\"}}\n"
            ));
        }
        burst.push_str("{\"type\":\"quit\"}\n");
        let mut c = tls_from(flooder, server.port).expect("TLS handshake");
        c.send_raw(burst.as_bytes());
        c.recv_all_until_close();
        connections += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    observer.say("end of the flood");
    let mut flooded = 0;
    loop {
        let m = observer.recv_message();
        if m.sender_nickname == "observer" {
            break;
        }
        flooded += 1;
    }
    // The default address budget: bursts of 40, then 10 a second, however many connections.
    let most = 40 + (10.0 * (elapsed + 1.0)) as usize;
    assert!(
        flooded <= most,
        "{flooded} messages from {connections} connections in {elapsed:.1} s (at most {most})"
    );
    assert!(flooded >= 40, "only {flooded} messages got in");
    assert!(connections > 10, "only {connections} connections");
}

#[test]
fn a_full_room_makes_the_oldest_ghost_give_way() {
    let server = Server::start(&["--max-users", "3"]);
    let (mut alice, _) = server.join("alice");
    let mut ids = Vec::new();
    for nickname in ["bob", "dave"] {
        let (gone, w) = server.join(nickname);
        drop(gone);
        server.wait_for_log(&format!("{nickname} (#{}) dropped", w.id));
        ids.push(w.id);
    }
    let (_carol, w) = server.join("carol");
    let names: Vec<&str> = w.users.iter().map(|u| u.nickname.as_str()).collect();
    assert!(
        names.contains(&"dave") && !names.contains(&"bob"),
        "{names:?}"
    );
    let leave = alice.recv_until("bob's leave", |m| matches!(m, ServerMsg::Leave { .. }));
    assert!(
        matches!(&leave, ServerMsg::Leave { nickname, .. } if nickname == "bob"),
        "{leave:?}"
    );
    let joined = alice.recv_until("carol's join", |m| matches!(m, ServerMsg::Join { .. }));
    assert!(
        matches!(&joined, ServerMsg::Join { nickname, .. } if nickname == "carol"),
        "{joined:?}"
    );
    let (_erin, _) = server.join("erin");
    server.wait_for_log(&format!("dave (#{}) gave way to a newcomer", ids[1]));
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains(&format!("bob (#{}) gave way", ids[0]))),
        "{:#?}",
        server.log()
    );
    // With no ghost left to give way, a newcomer is told the room is full.
    let mut frank = Client::connect(server.port);
    frank.send(r#"{"type":"login","nickname":"frank"}"#);
    let (code, _) = frank.recv_error();
    assert_eq!(code, ErrorCode::ServerFull);
}
