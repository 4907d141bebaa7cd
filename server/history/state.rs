//! The room's small state file (`DATA_DIR/state.json`): what must survive a restart besides
//! the messages.
//!
//! - Reservations: every `id` and `seq` up to `id_reserved` / `seq_reserved` may have been
//!   handed out. Numbers are reserved a block at a time, before they are used, so a restart
//!   (even after `kill -9`, even with the history file deleted) never hands one out again.
//!   A clean shutdown saves the exact last numbers, so only a crash leaves a gap.
//! - The users in the room, with their resume tokens as SHA-256 hashes, so that after a
//!   restart they come back as ghosts and only the token holder gets each nickname back.
//!
//! The file is replaced whole (written beside, then renamed over), so it is always either the
//! old version or the new one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::log;

/// Numbers reserved per write of the state file.
const ID_BLOCK: u64 = 100;
const SEQ_BLOCK: u64 = 1000;

/// A user who was in the room, as saved for a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedUser {
    pub id: u64,
    pub nickname: String,
    /// [`token_hash`] of the user's resume token.
    pub token_sha256: String,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Saved {
    #[serde(default)]
    id_reserved: u64,
    #[serde(default)]
    seq_reserved: u64,
    #[serde(default)]
    users: Vec<SavedUser>,
}

/// The state file and what it holds now.
pub struct StateFile {
    path: PathBuf,
    saved: Saved,
    /// Set by the shutdown save: the user list is final, later snapshots are stale.
    finished: bool,
}

/// How a resume token is kept: the token itself is never stored, on disk or in memory.
pub fn token_hash(token: &str) -> String {
    openssl::sha::sha256(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl StateFile {
    /// Reads `dir/state.json`; a missing file is a fresh room, a damaged one is moved aside
    /// (the history still gives floors for the numbers).
    pub fn open(dir: &Path) -> StateFile {
        let path = dir.join("state.json");
        let saved = match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Saved>(&bytes) {
                Ok(saved) => saved,
                Err(e) => {
                    let aside = dir.join("state.json.damaged");
                    let moved = fs::rename(&path, &aside);
                    log!(
                        "{} is damaged ({e}); {}; starting without saved users",
                        path.display(),
                        match moved {
                            Ok(()) => format!("moved it to {}", aside.display()),
                            Err(e) => format!("could not move it aside ({e})"),
                        }
                    );
                    Saved::default()
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Saved::default(),
            Err(e) => {
                log!(
                    "cannot read {}: {e}; starting without saved users",
                    path.display()
                );
                Saved::default()
            }
        };
        StateFile {
            path,
            saved,
            finished: false,
        }
    }

    /// Every id up to this one may have been used before.
    pub fn id_floor(&self) -> u64 {
        self.saved.id_reserved
    }

    /// Every seq up to this one may have been used before.
    pub fn seq_floor(&self) -> u64 {
        self.saved.seq_reserved
    }

    /// The users saved by the last run.
    pub fn take_users(&mut self) -> Vec<SavedUser> {
        std::mem::take(&mut self.saved.users)
    }

    /// Makes sure `id` is reserved on disk before it is handed out.
    pub fn reserve_id(&mut self, id: u64) -> io::Result<()> {
        if id <= self.saved.id_reserved {
            return Ok(());
        }
        let old = self.saved.id_reserved;
        self.saved.id_reserved = id + ID_BLOCK - 1;
        self.write().inspect_err(|_| self.saved.id_reserved = old)
    }

    /// Makes sure `seq` is reserved on disk before it is used.
    pub fn reserve_seq(&mut self, seq: u64) -> io::Result<()> {
        if seq <= self.saved.seq_reserved {
            return Ok(());
        }
        let old = self.saved.seq_reserved;
        self.saved.seq_reserved = seq + SEQ_BLOCK - 1;
        self.write().inspect_err(|_| self.saved.seq_reserved = old)
    }

    /// Saves who is in the room now; does nothing once the shutdown save is done.
    pub fn save_users(&mut self, users: Vec<SavedUser>) -> io::Result<()> {
        if self.finished || users == self.saved.users {
            return Ok(());
        }
        let old = std::mem::replace(&mut self.saved.users, users);
        self.write().inspect_err(|_| self.saved.users = old)
    }

    /// The last save of a run: the users as the server stops, and the exact last numbers so
    /// a clean restart leaves no gap.
    pub fn finish(&mut self, last_id: u64, last_seq: u64, users: Vec<SavedUser>) -> io::Result<()> {
        self.finished = true;
        self.saved.users = users;
        self.saved.id_reserved = last_id;
        self.saved.seq_reserved = last_seq;
        self.write()
    }

    fn write(&self) -> io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        let mut text = serde_json::to_vec(&self.saved).map_err(io::Error::other)?;
        text.push(b'\n');
        let written = fs::File::create(&tmp).and_then(|mut f| f.write_all(&text));
        // Like the history's appends, this reaches the operating system, which keeps it
        // however the server dies; the rename makes the switch all-or-nothing.
        match written.and_then(|()| fs::rename(&tmp, &self.path)) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tlschat-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reservations_and_users_survive_and_tokens_are_hashed() {
        let dir = temp_dir("roundtrip");
        let mut state = StateFile::open(&dir);
        assert_eq!((state.id_floor(), state.seq_floor()), (0, 0));
        state.reserve_id(1).unwrap();
        state.reserve_seq(1).unwrap();
        let alice = SavedUser {
            id: 1,
            nickname: "alice".into(),
            token_sha256: token_hash("secret"),
        };
        state.save_users(vec![alice.clone()]).unwrap();
        let text = fs::read_to_string(dir.join("state.json")).unwrap();
        assert!(!text.contains("secret") && text.contains(&token_hash("secret")));
        let mut again = StateFile::open(&dir);
        assert_eq!(again.id_floor(), ID_BLOCK);
        assert_eq!(again.seq_floor(), SEQ_BLOCK);
        assert_eq!(again.take_users(), vec![alice.clone()]);
        again.finish(7, 42, vec![alice]).unwrap();
        again.save_users(Vec::new()).unwrap();
        let last = StateFile::open(&dir);
        assert_eq!((last.id_floor(), last.seq_floor()), (7, 42));
        assert_eq!(last.saved.users.len(), 1);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_damaged_state_file_is_moved_aside() {
        let dir = temp_dir("damaged");
        fs::write(dir.join("state.json"), b"{\"id_reserved\":").unwrap();
        let state = StateFile::open(&dir);
        assert_eq!(state.id_floor(), 0);
        assert!(dir.join("state.json.damaged").exists());
        let _ = fs::remove_dir_all(dir);
    }
}
