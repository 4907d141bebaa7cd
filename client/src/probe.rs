//! A window onto what the client draws, for end-to-end tests in another process.
//!
//! With `TLSCHAT_CLIENT_DRAWN_ROWS=FILE` in the environment, the client rewrites FILE
//! whenever what it shows changes: a JSON object with `rows` (the message rows drawn in the
//! viewport, each `{"text", "note", "top", "whole"}`), `status` (the status bar's sentence)
//! and `button` (the Login button's label). An adjustment can read "at the bottom" while the
//! list draws older rows, so tests read this rather than the scrollbar.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gtk::glib;

use crate::view::View;

/// The environment variable naming the file.
pub const ENV: &str = "TLSCHAT_CLIENT_DRAWN_ROWS";

/// Starts writing what `view` shows to the file named by [`ENV`], if it is set.
pub fn start(view: &View) {
    let Some(path) = std::env::var_os(ENV).map(PathBuf::from) else {
        return;
    };
    let list = view.messages().clone();
    let status = view.status_bar().clone();
    let bar = view.connect_bar().clone();
    let mut last = String::new();
    glib::timeout_add_local(Duration::from_millis(50), move || {
        let rows: Vec<serde_json::Value> = list
            .drawn_rows()
            .iter()
            .map(|r| serde_json::json!({"text": r.text, "note": r.note, "top": r.top, "whole": r.whole}))
            .collect();
        let shown = serde_json::json!({
            "rows": rows,
            "status": status.text(),
            "button": bar.button_label(),
        })
        .to_string();
        if shown != last {
            if let Err(e) = write(&path, &shown) {
                eprintln!("client: cannot write {}: {e}", path.display());
                return glib::ControlFlow::Break;
            }
            last = shown;
        }
        glib::ControlFlow::Continue
    });
}

/// Writes through a temporary file and a rename, so a reader never sees half of it.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
