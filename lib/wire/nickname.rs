//! What a nickname may be, and when two nicknames are the same one.
//!
//! People tell each other apart by how nicknames look, so the rules are about looks: a
//! nickname is stored in NFC (one spelling for one appearance), may not contain anything
//! invisible or blank (spaces, zero-width and bidi controls, fillers such as U+3164), and two
//! nicknames are the same when they look alike: when their confusable skeletons (Unicode
//! TR39) match after lowercasing ([`nickname_skeleton`]). So `alice`, `ALICE`, `аlice`
//! (Cyrillic а) and `alicе` are one nickname, and whoever holds one of them holds them all.

use std::fmt;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::GeneralSecurityProfile;

use crate::wire::MAX_NICKNAME_CHARS;

/// Why a nickname was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicknameError {
    Empty,
    TooLong,
    /// Spaces or line breaks: `/msg` could not name such a user.
    Whitespace,
    /// It would read like a command.
    LeadingSlash,
    /// A character that shows as nothing, or as something else than it is.
    Invisible(char),
    /// It starts with a mark meant to combine with a character before it.
    LeadingMark,
}

impl fmt::Display for NicknameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NicknameError::Empty => write!(f, "a nickname cannot be empty"),
            NicknameError::TooLong => {
                write!(f, "a nickname is at most {MAX_NICKNAME_CHARS} characters")
            }
            NicknameError::Whitespace => write!(f, "a nickname cannot contain spaces"),
            NicknameError::LeadingSlash => write!(f, "a nickname cannot start with '/'"),
            NicknameError::Invisible(c) => write!(
                f,
                "a nickname cannot contain invisible or control characters (U+{:04X})",
                u32::from(*c)
            ),
            NicknameError::LeadingMark => {
                write!(f, "a nickname cannot start with a combining mark")
            }
        }
    }
}

impl std::error::Error for NicknameError {}

/// Checks a nickname against the rules and returns the form it is stored in (NFC).
pub fn normalize_nickname(nickname: &str) -> Result<String, NicknameError> {
    let nfc: String = nickname.nfc().collect();
    let chars = nfc.chars().count();
    if chars == 0 {
        return Err(NicknameError::Empty);
    }
    if chars > MAX_NICKNAME_CHARS {
        return Err(NicknameError::TooLong);
    }
    if nfc.chars().any(char::is_whitespace) {
        return Err(NicknameError::Whitespace);
    }
    if nfc.starts_with('/') {
        return Err(NicknameError::LeadingSlash);
    }
    if let Some(c) = nfc.chars().find(|&c| is_invisible(c)) {
        return Err(NicknameError::Invisible(c));
    }
    if nfc.chars().next().is_some_and(is_combining_mark) {
        return Err(NicknameError::LeadingMark);
    }
    Ok(nfc)
}

/// Checks a nickname against the rules (what [`normalize_nickname`] accepts).
pub fn validate_nickname(nickname: &str) -> Result<(), NicknameError> {
    normalize_nickname(nickname).map(drop)
}

/// A nickname ignoring case, for sorting and comparing as people read them.
pub fn nickname_key(nickname: &str) -> String {
    nickname.nfc().flat_map(char::to_lowercase).collect()
}

/// The key under which nicknames are unique, and by which `private` finds its recipient:
/// nicknames that look alike share it.
pub fn nickname_skeleton(nickname: &str) -> String {
    unicode_security::skeleton(&nickname_key(nickname)).collect()
}

/// Control, format, private-use, unassigned, default-ignorable (zero-width, bidi, variation
/// selectors, fillers) and blank-looking characters.
/// Format characters (Cf) that show nothing and yet are not default-ignorable, so no table
/// of Unicode's flags them: Arabic and Syriac number signs, Egyptian hieroglyph controls,
/// interlinear annotation marks. The terminal client hides them too.
pub fn is_hidden_format(c: char) -> bool {
    matches!(
        c,
        '\u{600}'..='\u{605}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

fn is_invisible(c: char) -> bool {
    if c.is_control() {
        return true;
    }
    // Blank glyphs that are ordinary symbols or letters to Unicode.
    const BLANK: &[char] = &['\u{2800}', '\u{3164}', '\u{FFA0}', '\u{115F}', '\u{1160}'];
    if BLANK.contains(&c) || is_hidden_format(c) {
        return true;
    }
    // TR39 identifier types: unassigned, private-use and surrogate code points have none or
    // Not_Character; Default_Ignorable covers zero-width, bidi and filler characters.
    matches!(
        c.identifier_type(),
        None | Some(IdentifierType::Not_Character) | Some(IdentifierType::Default_Ignorable)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_international_nicknames_are_fine() {
        for ok in [
            "alice",
            "Zoë",
            "bob_2",
            "[away]bob",
            "Ærøskøbing",
            "李小龍",
            "🙂",
        ] {
            assert_eq!(normalize_nickname(ok).as_deref(), Ok(ok), "{ok}");
        }
        assert!(validate_nickname(&"x".repeat(MAX_NICKNAME_CHARS)).is_ok());
    }

    #[test]
    fn nicknames_are_stored_in_nfc() {
        assert_eq!(normalize_nickname("Zoe\u{308}").as_deref(), Ok("Zoë"));
        assert_eq!(nickname_key("Zoe\u{308}"), nickname_key("zoë"));
        assert_eq!(nickname_skeleton("Zoe\u{308}"), nickname_skeleton("zoë"));
    }

    #[test]
    fn invisible_blank_and_command_like_nicknames_are_refused() {
        let cases = [
            ("", NicknameError::Empty),
            ("bob smith", NicknameError::Whitespace),
            ("*** alice has left the room", NicknameError::Whitespace),
            ("a\u{2028}b", NicknameError::Whitespace),
            ("alice\u{a0}", NicknameError::Whitespace),
            ("/msg", NicknameError::LeadingSlash),
            ("ali\u{200b}ce", NicknameError::Invisible('\u{200b}')),
            ("alice\u{feff}", NicknameError::Invisible('\u{feff}')),
            ("\u{202e}ecila", NicknameError::Invisible('\u{202e}')),
            ("\u{200b}", NicknameError::Invisible('\u{200b}')),
            ("\u{3164}", NicknameError::Invisible('\u{3164}')),
            ("\u{2800}", NicknameError::Invisible('\u{2800}')),
            ("a\u{0}b", NicknameError::Invisible('\u{0}')),
            ("a\u{85}b", NicknameError::Whitespace),
            ("x\u{e000}", NicknameError::Invisible('\u{e000}')),
            ("x\u{10ffff}", NicknameError::Invisible('\u{10ffff}')),
            ("x\u{0378}", NicknameError::Invisible('\u{0378}')),
            ("x\u{fe0f}", NicknameError::Invisible('\u{fe0f}')),
            ("x\u{0600}", NicknameError::Invisible('\u{0600}')),
            ("\u{301}x", NicknameError::LeadingMark),
        ];
        for (nickname, why) in cases {
            assert_eq!(normalize_nickname(nickname), Err(why), "{nickname:?}");
        }
        assert_eq!(
            validate_nickname(&"x".repeat(MAX_NICKNAME_CHARS + 1)),
            Err(NicknameError::TooLong)
        );
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        let alice = nickname_skeleton("alice");
        for twin in ["ALICE", "Alice", "\u{430}lice", "alic\u{435}", "ａｌｉｃｅ"] {
            assert_eq!(nickname_skeleton(twin), alice, "{twin}");
        }
        assert_ne!(nickname_skeleton("alicia"), alice);
        assert_eq!(nickname_skeleton("rn"), nickname_skeleton("m"));
        // Sorting and case-insensitive comparison stay as people read.
        assert_eq!(nickname_key("ALice"), "alice");
        assert_ne!(nickname_key("m"), nickname_key("rn"));
    }
}
