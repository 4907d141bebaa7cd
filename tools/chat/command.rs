//! What a line typed by the user means: the same slash commands as the GUI.

/// One line of input, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Text for the whole room.
    Say(String),
    /// `/me ACTION`.
    Action(String),
    /// `/msg NAME TEXT`.
    Private {
        to: String,
        text: String,
    },
    /// `/nick NAME`.
    Nick(String),
    /// `/retry`: send again the last message the server refused.
    Retry,
    Quit,
    Help,
    /// Nothing to do (a blank line).
    Nothing,
    /// A mistake, explained in a sentence.
    Invalid(String),
}

pub const HELP: &[&str] = &[
    "Commands:",
    "  TEXT              send TEXT to the room",
    "  /me ACTION        send an action (* you ACTION)",
    "  /msg NAME TEXT    send TEXT to NAME only",
    "  /nick NAME        change your nickname",
    "  /retry            send again the last message the server refused",
    "  /quit             leave (so does end of input, Ctrl-D)",
    "  /help             this list",
    "  //TEXT            send TEXT starting with a single /",
    "At a terminal: Up recalls what you sent, Tab completes nicknames.",
];

/// Understands one input line (without its line ending).
pub fn parse(line: &str) -> Command {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Command::Nothing;
    }
    if let Some(escaped) = line.strip_prefix("//") {
        return Command::Say(format!("/{escaped}"));
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Command::Say(line.to_string());
    };
    let (name, args) = match rest.split_once(char::is_whitespace) {
        Some((name, args)) => (name, args.trim()),
        None => (rest, ""),
    };
    match name.to_lowercase().as_str() {
        "me" if args.is_empty() => Command::Invalid("Usage: /me ACTION".into()),
        "me" => Command::Action(args.to_string()),
        "msg" | "query" => match args.split_once(char::is_whitespace) {
            Some((to, text)) if !text.trim().is_empty() => Command::Private {
                to: to.to_string(),
                text: text.trim().to_string(),
            },
            _ => Command::Invalid("Usage: /msg NAME TEXT".into()),
        },
        "nick" if args.is_empty() => Command::Invalid("Usage: /nick NAME".into()),
        "nick" => Command::Nick(args.to_string()),
        "retry" => Command::Retry,
        "quit" | "exit" => Command::Quit,
        "help" | "?" => Command::Help,
        _ => Command::Invalid(format!("Unknown command /{name}: type /help for the list")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(parse("hello"), Command::Say("hello".into()));
        assert_eq!(parse("  "), Command::Nothing);
        assert_eq!(parse("/me waves\r\n"), Command::Action("waves".into()));
        assert_eq!(
            parse("/msg bob  psst hey"),
            Command::Private {
                to: "bob".into(),
                text: "psst hey".into()
            }
        );
        assert_eq!(parse("/nick alicia"), Command::Nick("alicia".into()));
        assert_eq!(parse("/QUIT"), Command::Quit);
        assert_eq!(parse("/retry"), Command::Retry);
        assert_eq!(parse("/help"), Command::Help);
        assert_eq!(parse("//etc"), Command::Say("/etc".into()));
    }

    #[test]
    fn mistakes() {
        assert_eq!(
            parse("/frob x"),
            Command::Invalid("Unknown command /frob: type /help for the list".into())
        );
        assert!(matches!(parse("/msg bob"), Command::Invalid(_)));
        assert!(matches!(parse("/me"), Command::Invalid(_)));
        assert!(matches!(parse("/nick"), Command::Invalid(_)));
    }
}
