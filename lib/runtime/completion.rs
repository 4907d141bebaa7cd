//! Tab completion of nicknames, the same in both clients.

/// The completions of the word before byte `pos` of `line`: where that word starts, and
/// each matching nickname (case-insensitive prefix, in alphabetical order) as it should be
/// inserted: `name: ` at the start of a line, to address someone as in IRC, else `name `.
pub fn nickname_completions(line: &str, pos: usize, names: &[String]) -> (usize, Vec<String>) {
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &line[..pos];
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = before.get(start..).unwrap_or("").to_lowercase();
    if word.is_empty() {
        return (start, Vec::new());
    }
    let suffix = if start == 0 { ": " } else { " " };
    let mut matches: Vec<&String> = names
        .iter()
        .filter(|n| n.to_lowercase().starts_with(&word))
        .collect();
    matches.sort_by_key(|n| n.to_lowercase());
    matches.dedup();
    (
        start,
        matches
            .into_iter()
            .map(|n| format!("{n}{suffix}"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn completes_at_line_start_to_address_someone() {
        let room = names(&["bob", "Alice", "alan"]);
        assert_eq!(
            nickname_completions("al", 2, &room),
            (0, vec!["alan: ".to_string(), "Alice: ".to_string()])
        );
        assert_eq!(nickname_completions("AL", 2, &room).1.len(), 2);
    }

    #[test]
    fn completes_the_word_before_the_cursor_mid_line() {
        let room = names(&["bob", "bobby", "ünal"]);
        assert_eq!(
            nickname_completions("hi b and", 4, &room),
            (3, vec!["bob ".to_string(), "bobby ".to_string()])
        );
        assert_eq!(
            nickname_completions("hé ü", 6, &room),
            (4, vec!["ünal ".to_string()])
        );
        assert_eq!(
            nickname_completions("hi x", 4, &room).1,
            Vec::<String>::new()
        );
        assert_eq!(
            nickname_completions("hi ", 3, &room).1,
            Vec::<String>::new()
        );
        // A position inside a character (never sent by the editor) is no reason to panic.
        assert_eq!(nickname_completions("ü", 1, &room).0, 0);
    }
}
