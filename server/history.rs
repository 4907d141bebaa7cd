//! The room's history: the last messages in memory, and on disk so a restart loses nothing.
//!
//! The file (`DATA_DIR/history.jsonl`) holds one line per event, exactly as broadcast:
//! `{"type":"message",...}` for room messages, and `{"type":"seq","seq":N}` markers for
//! sequence numbers taken by private messages (whose text is not kept). Each line is written
//! before the message is broadcast; the write reaches the operating system, which keeps it
//! even if the server is killed. An append writes a whole line or nothing: a failed or short
//! write (a full disk) is cut back off, the sender is told the message was not sent, and the
//! next append works as soon as there is space again.
//!
//! The data directory also holds a lock (one server per directory; a second one is refused
//! before it changes anything) and the small state file of [`state`], which keeps `seq` and
//! ids from ever going backwards and the room's users across a restart. Damaged lines are
//! set aside at start ([`load`]); compaction runs off the room's lock ([`compact`]).

mod compact;
mod load;
pub mod state;

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tlschat::wire::Frame;

use crate::error::Error;
use crate::log;
use compact::{Compaction, Progress};
use state::{SavedUser, StateFile};

/// How long after a failed compaction the next one is tried.
const COMPACTION_RETRY: Duration = Duration::from_secs(60);

/// A retained message: its number and its serialized line, `\n` included (ready to send).
#[derive(Clone)]
pub struct Entry {
    pub seq: u64,
    pub line: Frame,
}

/// Messages retained for newcomers and for clients catching up after a reconnect.
pub struct HistoryStore {
    entries: VecDeque<Entry>,
    keep: usize,
    last_seq: u64,
    file: Option<HistoryFile>,
    state: Option<SharedState>,
    /// Every id up to this one may appear in the history or the state file.
    id_floor: u64,
    /// The state file's seq reservation, so most appends need not look at it.
    seq_reserved: u64,
    /// The state file's id reservation, so most logins need not wait on it (the saver
    /// thread holds it while it writes the file).
    id_reserved: u64,
}

struct HistoryFile {
    path: PathBuf,
    file: File,
    lines: usize,
    /// Length of the whole lines written; the file is cut back to it after a failed write.
    len: u64,
    /// A failed write could not be cut back yet: do it before the next write.
    torn: bool,
    compaction: Option<Compaction>,
    /// No compaction before this (one failed).
    retry_at: Option<Instant>,
    /// Held for the life of the server: the data directory is ours.
    _lock: File,
}

/// The state file, shared with the thread that saves who is in the room.
#[derive(Clone)]
pub struct SharedState(Arc<Mutex<StateFile>>);

impl SharedState {
    fn lock(&self) -> std::sync::MutexGuard<'_, StateFile> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Saves who is in the room (if it changed).
    pub fn save_users(&self, users: Vec<SavedUser>) -> io::Result<()> {
        self.lock().save_users(users)
    }
}

impl HistoryStore {
    /// History kept in memory only.
    pub fn in_memory(keep: usize) -> HistoryStore {
        HistoryStore {
            entries: VecDeque::new(),
            keep,
            last_seq: 0,
            file: None,
            state: None,
            id_floor: 0,
            seq_reserved: 0,
            id_reserved: 0,
        }
    }

    /// Opens (or creates) the history in `dir`, loading what it holds.
    pub fn open(dir: &Path, keep: usize) -> Result<HistoryStore, Error> {
        let file_error = |path: &Path, source| Error::File {
            path: path.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| file_error(&lock_path, e))?;
        lock_exclusively(&lock).map_err(|_| {
            Error::Usage(format!(
                "{} is in use by another server; give each server its own --data-dir",
                dir.display()
            ))
        })?;
        // Only now that the directory is ours may anything in it change.
        let path = dir.join("history.jsonl");
        // A leftover from a compaction that was interrupted: the original is still whole.
        let _ = fs::remove_file(path.with_extension("jsonl.tmp"));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| file_error(&path, e))?;
        let mut history = HistoryStore::in_memory(keep);
        let (file, loaded) = load::load(file, &path, |event| match event {
            load::Event::Message(seq, line) => {
                history.last_seq = history.last_seq.max(seq);
                history.remember(seq, line);
            }
            load::Event::Seq(seq) => history.last_seq = history.last_seq.max(seq),
        })
        .map_err(|e| file_error(&path, e))?;
        let state = StateFile::open(dir);
        history.last_seq = history.last_seq.max(state.seq_floor());
        history.seq_reserved = state.seq_floor();
        history.id_reserved = state.id_floor();
        history.id_floor = state.id_floor().max(loaded.max_sender_id);
        history.file = Some(HistoryFile {
            path,
            file,
            lines: loaded.lines,
            len: loaded.len,
            torn: false,
            compaction: None,
            retry_at: None,
            _lock: lock,
        });
        history.state = Some(SharedState(Arc::new(Mutex::new(state))));
        Ok(history)
    }

    fn remember(&mut self, seq: u64, line: Frame) {
        if self.keep == 0 {
            return;
        }
        if self.entries.len() == self.keep {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry { seq, line });
    }

    /// The highest sequence number ever used.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Every id up to this one may have been handed out before: new ids start above it.
    pub fn id_floor(&self) -> u64 {
        let saved = self.state.as_ref().map_or(0, |s| {
            let state = s.lock();
            state.id_floor()
        });
        self.id_floor.max(saved)
    }

    /// Makes sure `id` will not be handed out again after a restart, before it is used.
    pub fn reserve_id(&mut self, id: u64) -> io::Result<()> {
        match &self.state {
            Some(_) if id <= self.id_reserved => Ok(()),
            Some(state) => {
                let mut state = state.lock();
                state.reserve_id(id)?;
                self.id_reserved = state.id_floor();
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The users the previous run saved (once).
    pub fn take_saved_users(&mut self) -> Vec<SavedUser> {
        match &self.state {
            Some(state) => state.lock().take_users(),
            None => Vec::new(),
        }
    }

    /// The state file, for the thread that keeps the saved users current.
    pub fn shared_state(&self) -> Option<SharedState> {
        self.state.clone()
    }

    /// The last save as the server stops: these users, and the exact last numbers.
    pub fn finish(&mut self, last_id: u64, users: Vec<SavedUser>) -> io::Result<()> {
        match &self.state {
            Some(state) => {
                // Any append or login after this must reserve again.
                self.seq_reserved = self.last_seq;
                self.id_reserved = last_id;
                state.lock().finish(last_id, self.last_seq, users)
            }
            None => Ok(()),
        }
    }

    /// Records a room message (its line, `\n` included): on disk first, then in memory.
    pub fn append_message(&mut self, seq: u64, line: Frame) -> io::Result<()> {
        self.reserve_seq(seq)?;
        self.write_line(&line)?;
        self.last_seq = seq;
        self.remember(seq, line);
        self.compact_if_due();
        Ok(())
    }

    /// Records that `seq` was used by a message that is not kept (a private one).
    pub fn note_seq(&mut self, seq: u64) -> io::Result<()> {
        self.reserve_seq(seq)?;
        self.write_line(&seq_marker(seq))?;
        self.last_seq = seq;
        self.compact_if_due();
        Ok(())
    }

    fn reserve_seq(&mut self, seq: u64) -> io::Result<()> {
        match &self.state {
            Some(_) if seq <= self.seq_reserved => Ok(()),
            Some(state) => {
                let mut state = state.lock();
                state.reserve_seq(seq)?;
                self.seq_reserved = state.seq_floor();
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Appends one `\n`-terminated line, whole or not at all.
    fn write_line(&mut self, line: &Frame) -> io::Result<()> {
        let Some(f) = &mut self.file else {
            return Ok(());
        };
        if f.torn {
            f.file.set_len(f.len)?;
            f.torn = false;
        }
        if let Err(e) = f.file.write_all(line) {
            // Part of the line may be in the file (the disk filled up mid-write).
            f.torn = f.file.set_len(f.len).is_err();
            return Err(e);
        }
        f.len += line.len() as u64;
        f.lines += 1;
        if let Some(compaction) = &mut f.compaction {
            compaction.note(line);
        }
        Ok(())
    }

    /// The last `n` messages, oldest first.
    pub fn recent(&self, n: usize) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .skip(self.entries.len().saturating_sub(n))
    }

    /// Messages after `seq`, oldest first, and the range of numbers no longer retained.
    pub fn after(&self, seq: u64) -> (impl Iterator<Item = &Entry>, Option<(u64, u64)>) {
        let start = self.entries.partition_point(|e| e.seq <= seq);
        let oldest_kept = self.entries.front().map_or(self.last_seq + 1, |e| e.seq);
        let gap =
            (seq + 1 < oldest_kept && seq < self.last_seq).then(|| (seq + 1, oldest_kept - 1));
        (self.entries.range(start..), gap)
    }

    /// Moves a running compaction on, or starts one when the file has grown to twice the
    /// retained lines. Never fails: a failed compaction leaves the old file, whole, in use.
    fn compact_if_due(&mut self) {
        self.compact(false);
    }

    fn compact(&mut self, wait: bool) {
        let Some(f) = &mut self.file else {
            return;
        };
        let tmp = f.path.with_extension("jsonl.tmp");
        if let Some(running) = f.compaction.take() {
            match running.poll(&tmp, &f.path, wait) {
                Progress::Running(c) => f.compaction = Some(c),
                Progress::Done { file, lines, len } => {
                    f.file = file;
                    f.lines = lines;
                    f.len = len;
                }
                Progress::Failed(e) => {
                    let _ = fs::remove_file(&tmp);
                    compaction_failed(&f.path, &e);
                    f.retry_at = Some(Instant::now() + COMPACTION_RETRY);
                }
            }
            return;
        }
        let due = f.lines > 1000
            && f.lines > 2 * self.keep.max(1)
            && f.retry_at.is_none_or(|at| Instant::now() >= at);
        if !due {
            return;
        }
        let lines: Vec<Frame> = std::iter::once(seq_marker(self.last_seq))
            .chain(self.entries.iter().map(|e| Frame::clone(&e.line)))
            .collect();
        match Compaction::start(tmp, lines) {
            Ok(c) => f.compaction = Some(c),
            Err(e) => {
                compaction_failed(&f.path, &e);
                f.retry_at = Some(Instant::now() + COMPACTION_RETRY);
            }
        }
    }
}

fn compaction_failed(path: &Path, error: &io::Error) {
    log!(
        "{}: compaction failed ({error}); the file stays as it is, next try in {} s",
        path.display(),
        COMPACTION_RETRY.as_secs()
    );
}

fn seq_marker(seq: u64) -> Frame {
    format!("{{\"type\":\"seq\",\"seq\":{seq}}}\n")
        .into_bytes()
        .into()
}

/// Takes an advisory lock (`flock`) that the kernel releases when the process dies, however
/// it dies.
fn lock_exclusively(file: &File) -> Result<(), std::fs::TryLockError> {
    file.try_lock()
}

#[cfg(test)]
mod tests;
