//! `--help` from a table of options: aligned names, sentences wrapped to the width.

use super::{Kind, Opt};

/// How wide `--help` is.
pub(super) const WIDTH: usize = 90;
/// Names longer than this get their help sentence on the next line.
const NAME_WIDTH: usize = 24;

/// The `--help` text: `intro`, the options, then `outro` (if any).
pub fn help<T>(intro: &str, table: &[Opt<T>], outro: &str) -> String {
    let outro = match outro.trim_end() {
        "" => String::new(),
        text => format!("\n{text}\n"),
    };
    format!(
        "{}\n\nOptions:\n{}{outro}",
        intro.trim_end(),
        options_help(table)
    )
}

/// The option list of `--help`, one option or continuation per line.
fn options_help<T>(table: &[Opt<T>]) -> String {
    let left = |o: &Opt<T>| match o.kind {
        Kind::Switch(_) => o.name.to_string(),
        Kind::Value { placeholder, .. } => format!("{} {placeholder}", o.name),
    };
    let mut rows: Vec<(String, &str)> = table.iter().map(|o| (left(o), o.help)).collect();
    rows.push(("-h, --help".into(), "show this help"));
    let widest = rows.iter().map(|(l, _)| l.chars().count());
    let column = 2 + widest.filter(|&w| w <= NAME_WIDTH).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for (left, help) in rows {
        let mut line = format!("  {left}");
        if line.chars().count() >= column {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        let pad = column - line.chars().count();
        line.push_str(&" ".repeat(pad));
        for word in words(help) {
            let used = line.chars().count();
            if used > column && used + 1 + word.chars().count() > WIDTH {
                out.push_str(&line);
                out.push('\n');
                line = " ".repeat(column);
            } else if used > column {
                line.push(' ');
            }
            line.push_str(&word);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The words of a help sentence, keeping `[default: ...]` in one piece.
fn words(help: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for word in help.split_whitespace() {
        match out.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => out.push(word.to_string()),
        }
        open = (open || word.starts_with('[')) && !word.ends_with(']');
    }
    out
}
