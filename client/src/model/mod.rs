//! Room state in plain Rust: who is here, what was said and in which order, how the
//! connection is doing, and what the user typed. Nothing here knows about GTK, so all of it
//! is covered by ordinary unit tests.

pub mod connection;
pub mod input;
pub mod line;
pub mod room;
pub mod text;
pub mod timeline;

#[cfg(test)]
mod properties;

pub use connection::{Connection, Phase};
pub use input::{Completer, InputRecall};
pub use line::{Delivery, Kind, Line};
pub use room::Room;
