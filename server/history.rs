//! The room's history: the last messages in memory, and on disk so a restart loses nothing.
//!
//! The file (`DATA_DIR/history.jsonl`) holds one line per event, exactly as broadcast:
//! `{"type":"message",...}` for room messages, and `{"type":"seq","seq":N}` markers for
//! sequence numbers taken by private messages (whose text is not kept), so that `seq` never
//! goes backwards across a restart. Each line is written before the message is broadcast; the
//! write reaches the operating system, which keeps it even if the server is killed.
//!
//! The file is compacted when it holds twice the retained number of lines: the retained tail
//! is written to a temporary file, synced, and renamed over the old one, so a crash at any
//! moment leaves either the old file or the new one, never a mix.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tlschat::pipe::Frame;

use crate::error::Error;
use crate::log;

/// A retained message: its number and its serialized line, `\n` included (ready to send).
#[derive(Clone)]
pub struct Entry {
    pub seq: u64,
    pub line: Frame,
}

/// Messages retained for newcomers and for clients catching up after a reconnect.
pub struct History {
    entries: VecDeque<Entry>,
    keep: usize,
    last_seq: u64,
    file: Option<HistoryFile>,
}

struct HistoryFile {
    path: PathBuf,
    file: File,
    lines: usize,
}

#[derive(serde::Deserialize)]
struct Stored {
    r#type: String,
    seq: u64,
}

impl History {
    /// History kept in memory only.
    pub fn in_memory(keep: usize) -> History {
        History {
            entries: VecDeque::new(),
            keep,
            last_seq: 0,
            file: None,
        }
    }

    /// Opens (or creates) the history in `dir`, loading what it holds.
    pub fn open(dir: &Path, keep: usize) -> Result<History, Error> {
        let file_error = |path: &Path, source| Error::File {
            path: path.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
        let path = dir.join("history.jsonl");
        // A leftover from a compaction that was interrupted: the original is still whole.
        let _ = fs::remove_file(dir.join("history.jsonl.tmp"));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| file_error(&path, e))?;
        lock_exclusively(&file).map_err(|_| {
            Error::Usage(format!(
                "{} is in use by another server; give each server its own --data-dir",
                dir.display()
            ))
        })?;
        let mut history = History::in_memory(keep);
        let (lines, good_len) = history.load(&file, &path)?;
        let file_len = file.metadata().map_err(|e| file_error(&path, e))?.len();
        if good_len < file_len {
            log!(
                "{}: dropped {} bytes of a torn last line (the server stopped mid-write)",
                path.display(),
                file_len - good_len
            );
            file.set_len(good_len).map_err(|e| file_error(&path, e))?;
        }
        history.file = Some(HistoryFile { path, file, lines });
        Ok(history)
    }

    /// Reads every line; returns the line count and the length of the part that is whole.
    fn load(&mut self, file: &File, path: &Path) -> Result<(usize, u64), Error> {
        let mut reader = BufReader::new(file);
        reader
            .seek(SeekFrom::Start(0))
            .map_err(|source| Error::File {
                path: path.to_path_buf(),
                source,
            })?;
        let (mut lines, mut good_len) = (0usize, 0u64);
        let mut buf = Vec::new();
        let mut pending_error: Option<Error> = None;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|source| Error::File {
                    path: path.to_path_buf(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            // Only a bad line with good lines after it is corruption; a bad last line is
            // a write the crash cut short.
            if let Some(e) = pending_error.take() {
                return Err(e);
            }
            let complete = buf.last() == Some(&b'\n');
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            match serde_json::from_slice::<Stored>(line) {
                Ok(stored) if complete => {
                    lines += 1;
                    good_len += n as u64;
                    self.last_seq = self.last_seq.max(stored.seq);
                    if stored.r#type == "message" {
                        self.remember(stored.seq, buf.as_slice().into());
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    pending_error = Some(Error::Corrupt {
                        path: path.to_path_buf(),
                        line: lines + 1,
                        detail: e.to_string(),
                    });
                }
            }
        }
        Ok((lines, good_len))
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

    /// Records a room message (its line, `\n` included): on disk first, then in memory.
    pub fn append_message(&mut self, seq: u64, line: Frame) -> io::Result<()> {
        self.write_line(&line)?;
        self.last_seq = seq;
        self.remember(seq, line);
        self.compact_if_due()
    }

    /// Records that `seq` was used by a message that is not kept (a private one).
    pub fn note_seq(&mut self, seq: u64) -> io::Result<()> {
        let marker = format!("{{\"type\":\"seq\",\"seq\":{seq}}}\n");
        self.write_line(marker.as_bytes())?;
        self.last_seq = seq;
        Ok(())
    }

    /// Appends one `\n`-terminated line in a single write.
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        if let Some(f) = &mut self.file {
            f.file.write_all(line)?;
            f.lines += 1;
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

    fn compact_if_due(&mut self) -> io::Result<()> {
        let due = match &self.file {
            Some(f) => f.lines > 1000 && f.lines > 2 * self.keep.max(1),
            None => false,
        };
        if !due {
            return Ok(());
        }
        let Some(f) = &mut self.file else {
            return Ok(());
        };
        let tmp = f.path.with_extension("jsonl.tmp");
        let mut out = io::BufWriter::new(File::create(&tmp)?);
        writeln!(out, "{{\"type\":\"seq\",\"seq\":{}}}", self.last_seq)?;
        for entry in &self.entries {
            out.write_all(&entry.line)?;
        }
        let done = out.into_inner().map_err(|e| e.into_error())?;
        done.sync_all()?;
        fs::rename(&tmp, &f.path)?;
        if let Some(dir) = f.path.parent() {
            // Make the rename itself durable.
            File::open(dir).and_then(|d| d.sync_all())?;
        }
        let reopened = OpenOptions::new().read(true).append(true).open(&f.path)?;
        lock_exclusively(&reopened)?;
        f.file = reopened;
        f.lines = self.entries.len() + 1;
        Ok(())
    }
}

/// Takes an advisory lock that the kernel releases when the process dies, however it dies.
fn lock_exclusively(file: &File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64) -> Frame {
        format!("{{\"type\":\"message\",\"seq\":{seq},\"time\":\"t\",\"sender_id\":1,\"sender_nickname\":\"a\",\"message\":\"m{seq}\"}}\n")
            .into_bytes()
            .into()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tlschat-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn reload_continues_seq_and_keeps_the_tail() {
        let dir = temp_dir("reload");
        {
            let mut h = History::open(&dir, 3).unwrap();
            for seq in 1..=5 {
                h.append_message(seq, line(seq)).unwrap();
            }
            h.note_seq(6).unwrap();
        }
        let h = History::open(&dir, 3).unwrap();
        assert_eq!(h.last_seq(), 6);
        let seqs: Vec<u64> = h.recent(10).map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        let (after, gap) = h.after(1);
        assert_eq!(after.map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5]);
        assert_eq!(gap, Some((2, 2)));
        let (after, gap) = h.after(4);
        assert_eq!(after.map(|e| e.seq).collect::<Vec<_>>(), [5]);
        assert_eq!(gap, None);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_torn_last_line_is_dropped_but_corruption_is_an_error() {
        let dir = temp_dir("torn");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.jsonl");
        let mut text = format!(
            "{}{}",
            String::from_utf8_lossy(&line(1)),
            String::from_utf8_lossy(&line(2))
        );
        text.push_str("{\"type\":\"message\",\"seq\":3,\"ti");
        fs::write(&path, &text).unwrap();
        let h = History::open(&dir, 10).unwrap();
        assert_eq!(h.last_seq(), 2);
        drop(h);
        assert!(fs::read_to_string(&path).unwrap().ends_with("\"m2\"}\n"));

        fs::write(
            &path,
            format!("garbage\n{}", String::from_utf8_lossy(&line(1))),
        )
        .unwrap();
        let err = History::open(&dir, 10)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("history.jsonl") && err.contains("line 1"),
            "{err}"
        );
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn compaction_keeps_the_retained_tail_and_the_seq() {
        let dir = temp_dir("compact");
        {
            let mut h = History::open(&dir, 10).unwrap();
            for seq in 1..=1500 {
                h.append_message(seq, line(seq)).unwrap();
            }
        }
        let text = fs::read_to_string(dir.join("history.jsonl")).unwrap();
        assert!(
            text.lines().count() < 1100,
            "compacted: {} lines",
            text.lines().count()
        );
        let h = History::open(&dir, 10).unwrap();
        assert_eq!(h.last_seq(), 1500);
        assert_eq!(
            h.recent(100).map(|e| e.seq).collect::<Vec<_>>(),
            (1491..=1500).collect::<Vec<_>>()
        );
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn one_data_dir_one_server() {
        let dir = temp_dir("lock");
        let _first = History::open(&dir, 10).unwrap();
        let second = History::open(&dir, 10)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(second.contains("in use by another server"), "{second}");
        let _ = fs::remove_dir_all(dir);
    }
}
