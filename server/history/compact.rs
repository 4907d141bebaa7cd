//! Compaction without holding up the room.
//!
//! Under the room's lock only two short steps happen: taking a snapshot of the retained
//! lines (reference-counted, so no bytes are copied) and, once a background thread has
//! written and synced that snapshot to a temporary file, appending the few lines written
//! since and renaming the temporary file over the history. The file handle then is the
//! renamed file itself, so nothing can fail after the switch. The rename is not followed by
//! a directory sync: either name is a whole history, and like every append it reaches the
//! operating system at once.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, TryRecvError};
use std::thread;

use tlschat::wire::Frame;

/// A compaction in progress.
pub struct Compaction {
    done: mpsc::Receiver<io::Result<File>>,
    /// Lines appended to the old file since the snapshot, copied over before the switch.
    tail: Vec<Frame>,
    snapshot_lines: usize,
    snapshot_bytes: u64,
}

/// Where a compaction is.
pub enum Progress {
    Running(Compaction),
    /// The history is now `file`, with this many lines and bytes.
    Done {
        file: File,
        lines: usize,
        len: u64,
    },
    /// The old file is untouched and still in use.
    Failed(io::Error),
}

impl Compaction {
    /// Starts writing `lines` to `tmp` on a thread of its own.
    pub fn start(tmp: PathBuf, lines: Vec<Frame>) -> io::Result<Compaction> {
        let (tx, rx) = mpsc::channel();
        let snapshot_lines = lines.len();
        let snapshot_bytes = lines.iter().map(|l| l.len() as u64).sum();
        thread::Builder::new()
            .name("compaction".into())
            .spawn(move || {
                let _ = tx.send(write_snapshot(&tmp, &lines));
            })?;
        Ok(Compaction {
            done: rx,
            tail: Vec::new(),
            snapshot_lines,
            snapshot_bytes,
        })
    }

    /// Remembers a line just appended to the old file.
    pub fn note(&mut self, line: &Frame) {
        self.tail.push(Frame::clone(line));
    }

    /// Finishes the compaction if its snapshot is written (or, with `wait`, once it is):
    /// appends the tail and switches.
    pub fn poll(self, tmp: &Path, path: &Path, wait: bool) -> Progress {
        let done = if wait {
            self.done.recv().map_err(|_| TryRecvError::Disconnected)
        } else {
            self.done.try_recv()
        };
        let mut file = match done {
            Err(TryRecvError::Empty) => return Progress::Running(self),
            Err(TryRecvError::Disconnected) => {
                return Progress::Failed(io::Error::other("the compaction thread stopped"))
            }
            Ok(Err(e)) => return Progress::Failed(e),
            Ok(Ok(file)) => file,
        };
        let tail: Vec<u8> = self.tail.iter().flat_map(|l| l.iter().copied()).collect();
        match file.write_all(&tail).and_then(|()| fs::rename(tmp, path)) {
            Ok(()) => Progress::Done {
                file,
                lines: self.snapshot_lines + self.tail.len(),
                len: self.snapshot_bytes + tail.len() as u64,
            },
            Err(e) => Progress::Failed(e),
        }
    }
}

fn write_snapshot(tmp: &Path, lines: &[Frame]) -> io::Result<File> {
    // A leftover of an earlier failed attempt; this server holds the data directory's lock.
    let _ = fs::remove_file(tmp);
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(tmp)?;
    let mut out = BufWriter::new(file);
    for line in lines {
        out.write_all(line)?;
    }
    let file = out.into_inner().map_err(|e| e.into_error())?;
    // Synced before the rename, so after a power cut the new name never has missing data.
    file.sync_all()?;
    Ok(file)
}
