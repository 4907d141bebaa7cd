//! Small text helpers: nickname colours, mentions, and finding links in a message.

/// How many distinct nickname colours the view has (`nick-0` .. `nick-7` CSS classes).
pub const PALETTE_SIZE: usize = 8;

/// A stable colour for a nickname: the same name gets the same colour in every session.
pub fn colour_index(nickname: &str) -> usize {
    // FNV-1a: tiny, and unlike std's hasher it is the same in every process.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in tlschat::wire::nickname_key(nickname).bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as usize % PALETTE_SIZE
}

/// Whether `text` mentions `nickname` as a whole word, ignoring case.
pub fn mentions(text: &str, nickname: &str) -> bool {
    if nickname.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    let nick = nickname.to_lowercase();
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(&nick).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + nick.len()..].chars().next();
        !is_word(before) && !is_word(after)
    })
}

/// A piece of message text: plain, or a link to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits `text` into plain runs and `http(s)://` links.
pub fn spans(text: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_link_start(rest) {
        let len = rest[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(rest.len() - start);
        // Sentence punctuation right after a link is almost never part of it.
        let link = rest[start..start + len].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if start > 0 {
            out.push(Span::Text(&rest[..start]));
        }
        out.push(Span::Link(link));
        rest = &rest[start + link.len()..];
    }
    if !rest.is_empty() {
        out.push(Span::Text(rest));
    }
    out
}

fn find_link_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    ["https://", "http://"]
        .iter()
        .filter_map(|scheme| {
            lower
                .match_indices(scheme)
                .map(|(at, _)| at)
                .find(|at| text.len() > at + scheme.len())
        })
        .min()
}

/// Orders nicknames as people expect: ignoring case, and numbers by value, so `user2`
/// comes before `user10` and `Bob` beside `bob`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let digits = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut run = String::new();
                    while let Some(c) = it.next_if(char::is_ascii_digit) {
                        run.push(c);
                    }
                    run.trim_start_matches('0').to_string()
                };
                let (m, n) = (digits(&mut x), digits(&mut y));
                let order = m.len().cmp(&n.len()).then_with(|| m.cmp(&n));
                if order.is_ne() {
                    return order;
                }
            }
            (Some(c), Some(d)) => {
                let order = c.to_lowercase().cmp(d.to_lowercase());
                if order.is_ne() {
                    return order;
                }
                x.next();
                y.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_sort_naturally_and_ignoring_case() {
        let mut names = vec![
            "user10", "User2", "bob", "user1", "Alice", "user01x", "carol",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            vec!["Alice", "bob", "carol", "user1", "user01x", "User2", "user10"]
        );
    }

    #[test]
    fn colours_are_stable_and_case_insensitive() {
        assert_eq!(colour_index("Alice"), colour_index("alice"));
        assert!(colour_index("bob") < PALETTE_SIZE);
        let distinct: std::collections::HashSet<usize> = ["alice", "bob", "carol", "dave", "eve"]
            .iter()
            .map(|n| colour_index(n))
            .collect();
        assert!(distinct.len() > 1);
    }

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("hey Alice, look", "alice"));
        assert!(mentions("alice: hi", "alice"));
        assert!(!mentions("malice aforethought", "alice"));
        assert!(!mentions("alice_2 is here", "alice"));
        assert!(!mentions("anything", ""));
    }

    #[test]
    fn finds_links() {
        assert_eq!(
            spans("see https://example.org/a?b=c. ok"),
            vec![
                Span::Text("see "),
                Span::Link("https://example.org/a?b=c"),
                Span::Text(". ok"),
            ]
        );
        assert_eq!(spans("plain"), vec![Span::Text("plain")]);
        assert_eq!(spans("http://"), vec![Span::Text("http://")]);
        assert_eq!(
            spans("(http://a.b)"),
            vec![Span::Text("("), Span::Link("http://a.b"), Span::Text(")")]
        );
    }
}
