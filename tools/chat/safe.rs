//! Text from other people, made harmless for a terminal (issue 9, item 10).
//!
//! Whatever the server relays reaches our terminal, and a terminal obeys what it is sent:
//! an ESC starts a sequence that can recolour the screen, move the cursor or retitle the
//! window; a carriage return or newline lets a message draw a line that looks like someone
//! else's; bidi overrides make text read backwards. So every control character, every C1
//! code (0x80–0x9F, which some terminals read as ESC sequences on their own) and every
//! invisible formatting character is shown as a visible escape instead, and a message's own
//! line breaks become indented continuation lines that no event line can be mistaken for.

/// Continuation lines are indented past the `[HH:MM:SS] ` stamp that starts every event
/// line, so they cannot pass for one.
pub const CONTINUATION: &str = "             ";

/// `text` on one line: line breaks are escaped like any other control character. For
/// nicknames, reasons and anything else that must stay within its line.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push(&mut out, c, false);
    }
    out
}

/// Message text as the lines to print: the first goes after the sender, the rest are
/// continuation lines (to be prefixed with [`CONTINUATION`]). `\n`, `\r\n` and the Unicode
/// line and paragraph separators break lines; everything else unsafe is escaped.
pub fn message_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\u{2028}' | '\u{2029}' => lines.push(std::mem::take(&mut line)),
            _ => push(&mut line, c, true),
        }
    }
    lines.push(line);
    lines
}

/// A JSON line (for `--json`) with every character a terminal might obey or hide written
/// as a `\uXXXX` escape. Such characters can only be inside strings (the rest of JSON is
/// ASCII), so any parser reads the very same message; serde_json already escapes C0.
pub fn json(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if is_hidden(c) {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Appends `c`, or a visible stand-in when it could act on the terminal or hide itself.
/// `joiners` keeps the zero-width (non-)joiners that emoji and some scripts need.
fn push(out: &mut String, c: char, joiners: bool) {
    match c {
        // A tab is harmless but would break the alignment of what follows.
        '\t' => out.push(' '),
        // Caret notation, as `cat -v` shows them: ^[ is ESC, ^M a carriage return.
        '\0'..='\u{1f}' => {
            out.push('^');
            out.push(char::from(c as u8 + b'@'));
        }
        '\u{7f}' => out.push_str("^?"),
        '\u{200c}' | '\u{200d}' if joiners => out.push(c),
        _ if is_hidden(c) => out.push_str(&format!("<U+{:04X}>", u32::from(c))),
        _ => out.push(c),
    }
}

/// C1 controls, bidi controls, and the invisible format characters (Unicode category Cf,
/// plus the line and paragraph separators when they are not breaking a line).
fn is_hidden(c: char) -> bool {
    tlschat::wire::nickname::is_hidden_format(c)
        || matches!(
            c,
            '\u{80}'..='\u{9f}'
                | '\u{ad}'
                | '\u{61c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

/// Whether `text` is safe to hand to a terminal as one line: what every rendered line must
/// satisfy (used by the tests).
#[cfg(test)]
pub fn is_inert(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() || (is_hidden(c) && !matches!(c, '\u{200c}' | '\u{200d}')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_reach_the_screen_as_text() {
        assert_eq!(inline("\x1b]0;PWNED\x07"), "^[]0;PWNED^G");
        assert_eq!(inline("\x1b[31mred\x1b[0m"), "^[[31mred^[[0m");
        assert_eq!(inline("a\u{9b}31m"), "a<U+009B>31m");
        assert_eq!(inline("del\x7f"), "del^?");
        assert_eq!(inline("nul\0"), "nul^@");
        assert_eq!(inline("a\tb"), "a b");
        assert_eq!(inline("plain ünïcödé 🙂"), "plain ünïcödé 🙂");
    }

    #[test]
    fn bidi_and_invisible_characters_are_shown() {
        assert_eq!(inline("\u{202e}ecila"), "<U+202E>ecila");
        assert_eq!(inline("ali\u{200b}ce"), "ali<U+200B>ce");
        assert_eq!(inline("alice\u{feff}"), "alice<U+FEFF>");
        assert_eq!(inline("\u{2066}x\u{2069}"), "<U+2066>x<U+2069>");
        // Joiners stay inside messages (emoji need them) but not in names.
        assert_eq!(message_lines("👩\u{200d}💻"), vec!["👩\u{200d}💻"]);
        assert_eq!(inline("a\u{200d}b"), "a<U+200D>b");
    }

    #[test]
    fn line_breaks_become_continuations_or_escapes() {
        let forged = "hi\n[21:59:00] <bob> my password is hunter2";
        assert_eq!(
            message_lines(forged),
            vec!["hi", "[21:59:00] <bob> my password is hunter2"]
        );
        assert_eq!(message_lines("a\r\nb\u{2028}c"), vec!["a", "b", "c"]);
        assert_eq!(message_lines("over\rwrite"), vec!["over^Mwrite"]);
        assert_eq!(message_lines(""), vec![""]);
        assert_eq!(inline("a\nb"), "a^Jb");
        assert_eq!(inline("a\u{2028}b"), "a<U+2028>b");
    }

    #[test]
    fn json_lines_escape_what_a_terminal_would_obey_and_mean_the_same() {
        let msg = tlschat::wire::ServerMsg::Join {
            time: "t".into(),
            id: 1,
            nickname: "\u{9b}2J \u{202e}x \u{e0001} \u{1b}".into(),
        };
        let line = String::from_utf8(tlschat::wire::encode(&msg)).unwrap();
        let escaped = json(line.trim_end());
        assert!(is_inert(&escaped), "{escaped}");
        assert!(
            escaped.contains(r"\u009b2J \u202ex \udb40\udc01 \u001b"),
            "{escaped}"
        );
        assert_eq!(tlschat::wire::decode_server(escaped.as_bytes()), Ok(msg));
    }

    #[test]
    fn inert_means_nothing_for_the_terminal_to_obey() {
        assert!(is_inert("^[]0;x^G <U+202E>"));
        assert!(!is_inert("\x1b"));
        assert!(!is_inert("\u{85}"));
        assert!(!is_inert("\u{202e}"));
    }
}
