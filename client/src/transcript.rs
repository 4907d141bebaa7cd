//! The `--log` transcript: one plain-text line per row of the room, as HexChat keeps them.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use crate::model::Line;

/// An open transcript file.
pub struct Transcript {
    file: File,
}

impl Transcript {
    /// Opens `path` for appending, creating it if needed.
    pub fn open(path: &Path) -> io::Result<Transcript> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Transcript { file })
    }

    /// Writes one line: `2026-11-27 10:15:02 <alice> hi`. Flushed at once, so a crash loses
    /// nothing and other programs (tests) can read it live.
    pub fn write(&mut self, line: &Line) -> io::Result<()> {
        let when = crate::view::local_time(line.time, "%Y-%m-%d %H:%M:%S");
        // Newlines inside a message would forge extra transcript lines.
        let text = line.plain().replace(['\n', '\r'], " ");
        writeln!(self.file, "{when} {text}")?;
        self.file.flush()
    }
}
