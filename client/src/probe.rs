//! A window onto what the message list draws, for end-to-end tests in another process.
//!
//! With `TLSCHAT_CLIENT_DRAWN_ROWS=FILE` in the environment, the client rewrites FILE (a JSON
//! array of `{"text", "note", "top", "whole"}`) whenever the rows drawn in the viewport change. An
//! adjustment can read "at the bottom" while the list draws older rows, so tests read this.

use std::path::PathBuf;
use std::time::Duration;

use gtk::glib;

use crate::view::message_list::{DrawnRow, MessageList};

/// The environment variable naming the file.
pub const ENV: &str = "TLSCHAT_CLIENT_DRAWN_ROWS";

/// Starts writing the drawn rows of `list` to the file named by [`ENV`], if it is set.
pub fn start(list: &MessageList) {
    let Some(path) = std::env::var_os(ENV).map(PathBuf::from) else {
        return;
    };
    let list = list.clone();
    let mut last: Option<Vec<DrawnRow>> = None;
    glib::timeout_add_local(Duration::from_millis(50), move || {
        let rows = list.drawn_rows();
        if last.as_ref() != Some(&rows) {
            if let Err(e) = write(&path, &rows) {
                eprintln!("client: cannot write {}: {e}", path.display());
                return glib::ControlFlow::Break;
            }
            last = Some(rows);
        }
        glib::ControlFlow::Continue
    });
}

/// Writes through a temporary file and a rename, so a reader never sees half a list.
fn write(path: &std::path::Path, rows: &[DrawnRow]) -> std::io::Result<()> {
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(
            |r| serde_json::json!({"text": r.text, "note": r.note, "top": r.top, "whole": r.whole}),
        )
        .collect();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, serde_json::Value::Array(json).to_string())?;
    std::fs::rename(&tmp, path)
}
