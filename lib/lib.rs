//! The tlschat library, shared by the server, the GTK client, the terminal client and the
//! load generator.
//!
//! - [`wire`]: the protocol itself, section by section as in PROTOCOL.md: messages, codes,
//!   framing, time and nickname rules. The server and every client speak through it.
//! - [`runtime`]: the client runtime both front ends share: connecting and verifying the
//!   server, running one connection on its own thread, pacing, reconnecting, resuming and
//!   knowing which messages were delivered. The front ends only render what it reports.
//! - [`args`] and [`limits`]: what every binary needs at start (its options, its file limit).
//! - [`certs`]: certificate fingerprints, which the server prints and the clients show.
//! - [`describe`]: io errors worded for people, for the clients' messages and the server's log.
//!
//! What only the server needs lives in `server/`.

pub mod args;
pub mod certs;
pub mod describe;
pub mod limits;
pub mod runtime;
pub mod wire;
