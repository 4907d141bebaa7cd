//! Breaking long lines ourselves, at the terminal's width, onto indented continuation rows.
//!
//! A terminal wraps a long line by itself, and the row it wraps onto starts at the left edge:
//! a message padded to exactly the width of the screen could then put a forged
//! `[21:59:00] <bob> ...` there. Wrapped here, every row after the first starts with
//! [`safe::CONTINUATION`], like the continuation of a multi-line message.

use unicode_width::UnicodeWidthChar;

use crate::safe;

/// Below this many columns for the text itself, lines are left to the terminal: rows that
/// narrow would be unreadable either way.
const NARROWEST: usize = 20;

/// The width of the terminal on standard output, if it is one.
pub fn terminal_columns() -> Option<usize> {
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we own and nothing else.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// `line` (already made inert by [`safe`]) as rows of at most `columns` cells.
pub fn rows(line: &str, columns: usize) -> Vec<String> {
    let indent = safe::CONTINUATION.len();
    if columns < indent + NARROWEST {
        return vec![line.to_string()];
    }
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut used = 0;
    for c in line.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > columns && used > indent {
            rows.push(std::mem::take(&mut row));
            row.push_str(safe::CONTINUATION);
            used = indent;
        }
        row.push(c);
        used += w;
    }
    rows.push(row);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_padded_forgery_lands_on_an_indented_row() {
        let head = "[10:00:00] <mallory> ";
        let forged = "[21:59:00] <bob> my password is hunter2";
        let line = format!("{head}{}{forged}", "x".repeat(80 - head.len()));
        let rows = rows(&line, 80);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].chars().count(), 80);
        assert_eq!(rows[1], format!("{}{forged}", safe::CONTINUATION));
    }

    #[test]
    fn wide_characters_count_double_and_short_lines_stay_whole() {
        let line = format!("[10:00:00] <a> {}", "界".repeat(40));
        for row in rows(&line, 40) {
            let cells: usize = row.chars().map(|c| c.width().unwrap_or(0)).sum();
            assert!(cells <= 40, "{row}");
        }
        assert_eq!(rows("short", 80), vec!["short"]);
        assert_eq!(rows(&"y".repeat(100), 10), vec!["y".repeat(100)]);
    }
}
