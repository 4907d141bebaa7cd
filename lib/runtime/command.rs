//! What the user typed: a message for the room or an IRC-style `/command`. Both clients parse
//! their input here, so they know the same commands, word the same mistakes and count a
//! message's length as the server does.

use crate::wire::{ClientMsg, MAX_MESSAGE_CHARS};

/// One submitted line, understood.
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
    /// `/retry`: send again the latest message that was not delivered.
    Retry,
    /// `/quit [REASON]`.
    Quit(Option<String>),
    Help,
    /// A known command used the wrong way; holds its usage line.
    Usage(&'static str),
    /// `/something` this client does not know.
    Unknown(String),
}

/// One line of `/help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandHelp {
    pub usage: &'static str,
    pub meaning: &'static str,
}

/// Every command, for `/help`; each client adds what only it has (buttons, keys).
pub const COMMANDS: &[CommandHelp] = &[
    CommandHelp {
        usage: "/me ACTION",
        meaning: "describe what you are doing",
    },
    CommandHelp {
        usage: "/msg NAME TEXT",
        meaning: "send a private message",
    },
    CommandHelp {
        usage: "/nick NAME",
        meaning: "change your nickname",
    },
    CommandHelp {
        usage: "/retry",
        meaning: "send again the latest message that was not delivered",
    },
    CommandHelp {
        usage: "/quit [REASON]",
        meaning: "leave the room",
    },
    CommandHelp {
        usage: "/help",
        meaning: "show this list",
    },
    CommandHelp {
        usage: "//TEXT",
        meaning: "send TEXT starting with a single /",
    },
];

/// Parses one submitted line (a line ending is ignored); `None` for a blank one.
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
        "retry" => Command::Retry,
        "quit" | "exit" => Command::Quit((!rest.is_empty()).then(|| rest.to_string())),
        "help" | "?" => Command::Help,
        _ => Command::Unknown(name.to_string()),
    };
    Some(command)
}

impl Command {
    /// The chat message this command sends, if it is one.
    pub fn chat_message(&self) -> Option<ClientMsg> {
        Some(match self {
            Command::Say(text) => ClientMsg::Broadcast {
                message: text.clone(),
                action: false,
            },
            Command::Me(text) => ClientMsg::Broadcast {
                message: text.clone(),
                action: true,
            },
            Command::Msg { to, text } => ClientMsg::Private {
                to: to.clone(),
                message: text.clone(),
                action: false,
            },
            _ => return None,
        })
    }

    /// What is wrong with the line, as a sentence, when it is a mistake.
    pub fn mistake(&self) -> Option<String> {
        match self {
            Command::Usage(usage) => Some(format!("Usage: {usage}")),
            Command::Unknown(name) => {
                Some(format!("Unknown command /{name}: type /help for the list"))
            }
            _ => None,
        }
    }
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
    too_many_chars(message_chars(input))
}

/// Why a message of `chars` characters (as [`message_chars`] counts) cannot be sent, if it
/// is over the limit: for a caller that has counted already.
pub fn too_many_chars(chars: usize) -> Option<String> {
    let limit = MAX_MESSAGE_CHARS;
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
        assert_eq!(too_long(&"x".repeat(MAX_MESSAGE_CHARS)), None);
        assert_eq!(
            too_long(&"x".repeat(MAX_MESSAGE_CHARS + 5)).as_deref(),
            Some("Too long to send: 4005 characters, and the limit is 4000. Shorten it by 5.")
        );
    }

    #[test]
    fn plain_text_and_escapes() {
        assert_eq!(parse("  "), None);
        assert_eq!(parse(" hello \r\n"), Some(Command::Say("hello".into())));
        assert_eq!(
            parse("//etc/hosts"),
            Some(Command::Say("/etc/hosts".into()))
        );
    }

    #[test]
    fn commands() {
        assert_eq!(parse("/me waves\r\n"), Some(Command::Me("waves".into())));
        assert_eq!(parse("/NICK bob"), Some(Command::Nick("bob".into())));
        let private = parse("/msg bob  see you later ").expect("a command");
        assert_eq!(
            private,
            Command::Msg {
                to: "bob".into(),
                text: "see you later".into()
            }
        );
        assert_eq!(
            private.chat_message(),
            Some(ClientMsg::Private {
                to: "bob".into(),
                message: "see you later".into(),
                action: false
            })
        );
        assert_eq!(parse("/quit"), Some(Command::Quit(None)));
        assert_eq!(
            parse("/QUIT bye all"),
            Some(Command::Quit(Some("bye all".into())))
        );
        assert_eq!(parse("/retry"), Some(Command::Retry));
        assert_eq!(parse("/help"), Some(Command::Help));
        assert_eq!(parse("/help").and_then(|c| c.chat_message()), None);
    }

    #[test]
    fn mistakes_are_reported() {
        assert_eq!(parse("/msg bob"), Some(Command::Usage("/msg NAME TEXT")));
        assert_eq!(parse("/nick"), Some(Command::Usage("/nick NAME")));
        assert_eq!(parse("/me"), Some(Command::Usage("/me ACTION")));
        let unknown = parse("/frobnicate x").expect("a command");
        assert_eq!(unknown, Command::Unknown("frobnicate".into()));
        assert_eq!(
            unknown.mistake().as_deref(),
            Some("Unknown command /frobnicate: type /help for the list")
        );
        assert_eq!(
            parse("/me").and_then(|c| c.mistake()).as_deref(),
            Some("Usage: /me ACTION")
        );
    }
}
