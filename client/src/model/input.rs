//! The message entry's memory: Up/Down recall what was sent, Tab completes nicknames.

use tlschat::runtime::completion::nickname_completions;

/// Lines the user sent, for Up/Down recall, like a shell's. (Not the room's history, which
/// the server keeps: this is only what was typed here.)
#[derive(Debug, Default)]
pub struct InputRecall {
    items: Vec<String>,
    /// Index into `items` while browsing; `None` when editing a fresh line.
    cursor: Option<usize>,
    /// What was in the entry before browsing started, given back past the newest item.
    draft: String,
}

/// How many sent lines are remembered.
const RECALL_LIMIT: usize = 500;

impl InputRecall {
    /// Remembers a sent line and stops browsing.
    pub fn push(&mut self, line: &str) {
        self.cursor = None;
        self.draft.clear();
        if line.trim().is_empty() || self.items.last().is_some_and(|l| l == line) {
            return;
        }
        if self.items.len() == RECALL_LIMIT {
            self.items.remove(0);
        }
        self.items.push(line.to_string());
    }

    /// Up: the previous line, given what is in the entry now.
    pub fn previous(&mut self, current: &str) -> Option<String> {
        let next = match self.cursor {
            None if self.items.is_empty() => return None,
            None => {
                self.draft = current.to_string();
                self.items.len() - 1
            }
            Some(0) => return None,
            Some(i) => i - 1,
        };
        self.cursor = Some(next);
        Some(self.items[next].clone())
    }

    /// Down: the next line, or the draft after the newest.
    pub fn next(&mut self) -> Option<String> {
        let i = self.cursor?;
        if i + 1 < self.items.len() {
            self.cursor = Some(i + 1);
            Some(self.items[i + 1].clone())
        } else {
            self.cursor = None;
            Some(std::mem::take(&mut self.draft))
        }
    }
}

/// Tab completion of nicknames, cycling through matches on repeated Tabs.
#[derive(Debug, Default)]
pub struct Completer {
    last: Option<Cycle>,
}

#[derive(Debug)]
struct Cycle {
    /// Entry text before the word being completed.
    head: String,
    /// Entry text after the cursor.
    tail: String,
    /// Each as it goes in, with what follows it (`name: ` or `name `).
    matches: Vec<String>,
    index: usize,
    /// The text we put in the entry; if it changed since, a new completion starts.
    produced: String,
}

impl Completer {
    /// Completes the word before byte offset `cursor` in `text` against `names`.
    /// Returns the new text and cursor position, or `None` if nothing matches.
    pub fn complete(
        &mut self,
        text: &str,
        cursor: usize,
        names: &[String],
    ) -> Option<(String, usize)> {
        if let Some(cycle) = self.last.as_mut().filter(|c| c.produced == text) {
            cycle.index = (cycle.index + 1) % cycle.matches.len();
            return Some(Self::fill(cycle));
        }
        let (start, matches) = nickname_completions(text, cursor, names);
        if matches.is_empty() {
            self.last = None;
            return None;
        }
        let cursor = floor_char_boundary(text, cursor);
        let (head, tail) = (
            text.get(..start).unwrap_or(""),
            text.get(cursor..).unwrap_or(""),
        );
        let mut cycle = Cycle {
            head: head.to_string(),
            tail: tail.to_string(),
            matches,
            index: 0,
            produced: String::new(),
        };
        let result = Self::fill(&mut cycle);
        self.last = Some(cycle);
        Some(result)
    }

    fn fill(cycle: &mut Cycle) -> (String, usize) {
        let tail = cycle.tail.trim_start();
        let before = format!("{}{}", cycle.head, cycle.matches[cycle.index]);
        let text = format!("{before}{tail}");
        cycle.produced = text.clone();
        (text, before.len())
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_walks_back_and_returns_the_draft() {
        let mut h = InputRecall::default();
        assert_eq!(h.previous("x"), None);
        h.push("one");
        h.push("two");
        h.push("two");
        assert_eq!(h.previous("dra").as_deref(), Some("two"));
        assert_eq!(h.previous("two").as_deref(), Some("one"));
        assert_eq!(h.previous("one"), None);
        assert_eq!(h.next().as_deref(), Some("two"));
        assert_eq!(h.next().as_deref(), Some("dra"));
        assert_eq!(h.next(), None);
    }

    #[test]
    fn completion_addresses_at_line_start_and_cycles() {
        let names: Vec<String> = ["bob", "Alice", "alan"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut c = Completer::default();
        let (text, cursor) = c.complete("al", 2, &names).unwrap();
        assert_eq!((text.as_str(), cursor), ("alan: ", 6));
        let (text, cursor) = c.complete(&text, cursor, &names).unwrap();
        assert_eq!((text.as_str(), cursor), ("Alice: ", 7));
        let (text, _) = c.complete(&text, cursor, &names).unwrap();
        assert_eq!(text, "alan: ");
    }

    #[test]
    fn completion_mid_line_keeps_the_rest() {
        let names = vec!["bob".to_string()];
        let mut c = Completer::default();
        let (text, cursor) = c.complete("hi b and", 4, &names).unwrap();
        assert_eq!(text, "hi bob and");
        assert_eq!(cursor, 7);
        assert_eq!(c.complete("hi x", 4, &names), None);
        assert_eq!(c.complete("hi ", 3, &names), None);
    }
}
