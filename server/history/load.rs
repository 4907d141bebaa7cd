//! Reading the history file at start, and setting damaged lines aside.
//!
//! A line is damaged when it is not a complete JSON event (a crash or a full disk cut it
//! short, or someone edited the file) or when it is not valid UTF-8. A damaged line anywhere
//! is copied to `history.jsonl.damaged` beside the file (nothing is thrown away), the history
//! is rewritten without it, and the server starts; the log says where the line went. A
//! message line with invalid UTF-8 inside its text is kept in the history with the bad bytes
//! replaced by U+FFFD, so clients never receive invalid UTF-8.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tlschat::wire::ChatMessage;
use tlschat::wire::Frame;

use crate::log;

/// One event as stored.
#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Stored {
    Message(ChatMessage),
    Seq { seq: u64 },
}

/// A good line read from the file.
pub enum Event {
    Message(u64, Frame),
    Seq(u64),
}

/// What reading the file found.
pub struct Loaded {
    pub lines: usize,
    pub len: u64,
    /// The highest `sender_id` seen, a floor for new ids.
    pub max_sender_id: u64,
}

/// What to do with a damaged line when the file is rewritten.
enum Fix {
    Drop,
    Replace(Frame),
}

/// Reads every line of `file`, passing each good event to `each`; sets damaged lines aside
/// and rewrites the file without them. Returns the file to append to from now on.
pub fn load(file: File, path: &Path, mut each: impl FnMut(Event)) -> io::Result<(File, Loaded)> {
    let mut reader = BufReader::new(&file);
    reader.seek(SeekFrom::Start(0))?;
    let mut found = Loaded {
        lines: 0,
        len: 0,
        max_sender_id: 0,
    };
    let mut fixes: BTreeMap<usize, Fix> = BTreeMap::new();
    let mut buf = Vec::new();
    // Where each line starts, and the last damaged line (number, start, bytes).
    let (mut offset, mut total) = (0u64, 0usize);
    let mut last_bad: Option<(usize, u64, Vec<u8>)> = None;
    for number in 1.. {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        let start = offset;
        offset += n as u64;
        total = number;
        let complete = buf.last() == Some(&b'\n');
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let text = String::from_utf8_lossy(line);
        let repaired = matches!(text, std::borrow::Cow::Owned(_));
        match serde_json::from_str::<Stored>(&text) {
            Ok(stored) if complete => {
                found.lines += 1;
                found.len += n as u64;
                match stored {
                    Stored::Message(m) => {
                        found.max_sender_id = found.max_sender_id.max(m.sender_id);
                        let frame: Frame = if repaired {
                            let mut bytes = text.into_owned().into_bytes();
                            bytes.push(b'\n');
                            let frame: Frame = bytes.into();
                            fixes.insert(number, Fix::Replace(Frame::clone(&frame)));
                            frame
                        } else {
                            buf.as_slice().into()
                        };
                        each(Event::Message(m.seq, frame));
                    }
                    Stored::Seq { seq } => each(Event::Seq(seq)),
                }
            }
            _ => {
                fixes.insert(number, Fix::Drop);
                last_bad = Some((number, start, buf.clone()));
            }
        }
    }
    if fixes.is_empty() {
        return Ok((file, found));
    }
    drop(reader);
    let aside = path.with_extension("jsonl.damaged");
    match last_bad {
        // The usual damage, a last line cut short by a crash: no need to copy the rest.
        Some((number, start, mut bytes)) if fixes.len() == 1 && number == total => {
            if bytes.last() != Some(&b'\n') {
                bytes.push(b'\n');
            }
            let mut side = OpenOptions::new().create(true).append(true).open(&aside)?;
            side.write_all(&bytes)?;
            side.sync_all()?;
            file.set_len(start)?;
        }
        _ => set_aside(&file, path, &aside, &fixes)?,
    }
    let damaged: Vec<String> = fixes.keys().take(5).map(usize::to_string).collect();
    log!(
        "{}: {} damaged line(s) (line {}{}) copied to {} and left out of the history; the server goes on without them",
        path.display(),
        fixes.len(),
        damaged.join(", "),
        if fixes.len() > 5 { ", ..." } else { "" },
        aside.display()
    );
    let file = OpenOptions::new().read(true).append(true).open(path)?;
    found.len = file.metadata()?.len();
    Ok((file, found))
}

/// Appends the damaged lines to `aside`, then replaces `path` by a copy without them.
fn set_aside(
    file: &File,
    path: &Path,
    aside: &Path,
    fixes: &BTreeMap<usize, Fix>,
) -> io::Result<()> {
    let tmp: PathBuf = path.with_extension("jsonl.tmp");
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0))?;
    let mut side = BufWriter::new(OpenOptions::new().create(true).append(true).open(aside)?);
    let mut out = BufWriter::new(File::create(&tmp)?);
    let mut buf = Vec::new();
    for number in 1.. {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        match fixes.get(&number) {
            None => out.write_all(&buf)?,
            Some(fix) => {
                side.write_all(&buf)?;
                if buf.last() != Some(&b'\n') {
                    side.write_all(b"\n")?;
                }
                if let Fix::Replace(frame) = fix {
                    out.write_all(frame)?;
                }
            }
        }
    }
    side.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs::rename(&tmp, path)
}
