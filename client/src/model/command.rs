//! What the user typed into the message entry: a message or an IRC-style `/command`.

/// The parsed contents of the message entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Plain text for the room.
    Say(String),
    /// `/me ACTION`.
    Me(String),
    /// `/msg NAME TEXT`.
    Msg {
        to: String,
        text: String,
    },
    /// `/nick NAME`.
    Nick(String),
    /// `/quit [REASON]`.
    Quit(Option<String>),
    Help,
    /// A known command used the wrong way; holds its usage line.
    Usage(&'static str),
    /// `/something` this client does not know.
    Unknown(String),
}

/// The text `/help` shows, one command a line.
pub const HELP: &[&str] = &[
    "/nick NAME: change your nickname",
    "/msg NAME TEXT: send a private message",
    "/me ACTION: describe what you are doing",
    "/quit [REASON]: leave the room (Login reconnects)",
    "/help: show this list",
    "Start a message with // to send a leading slash; Tab completes nicknames; Up and Down recall what you sent.",
];

/// Parses one submitted line; `None` for a blank one.
pub fn parse(input: &str) -> Option<Command> {
    let input = input.trim();
    if input.is_empty() {
        return None;
    }
    if let Some(escaped) = input.strip_prefix("//") {
        return Some(Command::Say(format!("/{escaped}")));
    }
    let Some(body) = input.strip_prefix('/') else {
        return Some(Command::Say(input.to_string()));
    };
    let (name, rest) = match body.split_once(char::is_whitespace) {
        Some((name, rest)) => (name, rest.trim()),
        None => (body, ""),
    };
    let command = match name.to_lowercase().as_str() {
        "me" if rest.is_empty() => Command::Usage("/me ACTION"),
        "me" => Command::Me(rest.to_string()),
        "nick" if rest.is_empty() => Command::Usage("/nick NAME"),
        "nick" => Command::Nick(rest.to_string()),
        "msg" | "query" => match rest.split_once(char::is_whitespace) {
            Some((to, text)) if !text.trim().is_empty() => Command::Msg {
                to: to.to_string(),
                text: text.trim().to_string(),
            },
            _ => Command::Usage("/msg NAME TEXT"),
        },
        "quit" | "exit" => Command::Quit((!rest.is_empty()).then(|| rest.to_string())),
        "help" | "?" => Command::Help,
        _ => Command::Unknown(name.to_string()),
    };
    Some(command)
}

/// How long a message's text is, in the characters the server counts (after trimming, the
/// text of `/me` and `/msg` without the command); 0 for other commands.
pub fn message_chars(input: &str) -> usize {
    match parse(input) {
        Some(Command::Say(text) | Command::Me(text) | Command::Msg { text, .. }) => {
            text.chars().count()
        }
        _ => 0,
    }
}

/// Why `input` cannot be sent as it is, if it is over the server's length limit.
pub fn too_long(input: &str) -> Option<String> {
    let chars = message_chars(input);
    let limit = tlschat::wire::MAX_MESSAGE_CHARS;
    (chars > limit).then(|| {
        format!(
            "Too long to send: {chars} characters, and the limit is {limit}. Shorten it by {}.",
            chars - limit
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_as_the_server_counts_it() {
        assert_eq!(message_chars("  héllo "), 5);
        assert_eq!(message_chars("/me waves"), 5);
        assert_eq!(message_chars("/msg bob hi"), 2);
        assert_eq!(message_chars("/nick somebody"), 0);
        let limit = tlschat::wire::MAX_MESSAGE_CHARS;
        assert_eq!(too_long(&"x".repeat(limit)), None);
        assert_eq!(
            too_long(&"x".repeat(limit + 5)).as_deref(),
            Some("Too long to send: 4005 characters, and the limit is 4000. Shorten it by 5.")
        );
    }

    #[test]
    fn plain_text_and_escapes() {
        assert_eq!(parse("  "), None);
        assert_eq!(parse(" hello "), Some(Command::Say("hello".into())));
        assert_eq!(
            parse("//etc/hosts"),
            Some(Command::Say("/etc/hosts".into()))
        );
    }

    #[test]
    fn commands() {
        assert_eq!(parse("/me waves"), Some(Command::Me("waves".into())));
        assert_eq!(parse("/NICK bob"), Some(Command::Nick("bob".into())));
        assert_eq!(
            parse("/msg bob  see you later "),
            Some(Command::Msg {
                to: "bob".into(),
                text: "see you later".into()
            })
        );
        assert_eq!(parse("/quit"), Some(Command::Quit(None)));
        assert_eq!(
            parse("/quit bye all"),
            Some(Command::Quit(Some("bye all".into())))
        );
        assert_eq!(parse("/help"), Some(Command::Help));
    }

    #[test]
    fn mistakes_are_reported() {
        assert_eq!(parse("/msg bob"), Some(Command::Usage("/msg NAME TEXT")));
        assert_eq!(parse("/nick"), Some(Command::Usage("/nick NAME")));
        assert_eq!(parse("/me"), Some(Command::Usage("/me ACTION")));
        assert_eq!(
            parse("/frobnicate x"),
            Some(Command::Unknown("frobnicate".into()))
        );
    }
}
