//! The command line of every binary, read one way: each declares a table of its options (name,
//! value placeholder, help sentence, how to apply it), and both parsing and `--help` come from
//! that table, so the two cannot drift apart. Options are `--name value` or `--name=value`;
//! `-h` and `--help` are always there.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

mod help;
pub use help::help;

/// One option in a binary's table; `T` is what the options build.
pub struct Opt<T> {
    /// `--name`, as listed in `--help`.
    pub name: &'static str,
    /// Another spelling that is accepted but not listed (`--nick` for `--nickname`).
    pub alias: Option<&'static str>,
    /// What it does, for `--help` (wrapped there to the width of the text).
    pub help: &'static str,
    pub kind: Kind<T>,
}

/// Whether an option takes a value, and what it does with it.
pub enum Kind<T> {
    /// `--name` alone.
    Switch(fn(&mut T)),
    /// `--name VALUE`; `placeholder` is how `--help` writes the value (`FILE`, `N`).
    Value {
        placeholder: &'static str,
        apply: fn(&mut T, &str) -> Result<(), Bad>,
    },
}

impl<T> Opt<T> {
    pub const fn switch(name: &'static str, help: &'static str, apply: fn(&mut T)) -> Opt<T> {
        Opt {
            name,
            alias: None,
            help,
            kind: Kind::Switch(apply),
        }
    }

    pub const fn value(
        name: &'static str,
        placeholder: &'static str,
        help: &'static str,
        apply: fn(&mut T, &str) -> Result<(), Bad>,
    ) -> Opt<T> {
        Opt {
            name,
            alias: None,
            help,
            kind: Kind::Value { placeholder, apply },
        }
    }

    /// The same option under another, unlisted name. (A closure before `.or` needs its
    /// argument types written out: the table's type does not reach it through a method.)
    pub const fn or(self, alias: &'static str) -> Opt<T> {
        Opt {
            alias: Some(alias),
            ..self
        }
    }
}

/// Why a value does not suit its option; see [`Error::BadValue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bad {
    /// It is not what the option takes, described as "a number of at least 1".
    Wants(String),
    /// It was understood but cannot be used, for this reason.
    Because(String),
}

/// A command line that makes no sense, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A word that is not one of the program's options.
    Unknown(String),
    /// An option that takes a value came last.
    NoValue {
        option: &'static str,
        placeholder: &'static str,
    },
    /// `--switch=value` for an option that takes none.
    SwitchWithValue { option: &'static str },
    /// A value the option cannot use.
    BadValue {
        option: &'static str,
        text: String,
        why: Bad,
    },
    /// An option the program cannot run without.
    Required {
        option: &'static str,
        placeholder: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unknown(word) => write!(f, "unknown option '{}'", word.escape_debug()),
            Error::NoValue {
                option,
                placeholder,
            } => write!(f, "{option} needs a value: {placeholder}"),
            Error::SwitchWithValue { option } => write!(f, "{option} takes no value"),
            Error::BadValue { option, text, why } => match why {
                Bad::Wants(wants) => {
                    write!(f, "{option} takes {wants}, not '{}'", text.escape_debug())
                }
                Bad::Because(reason) => write!(f, "{option} '{}': {reason}", text.escape_debug()),
            },
            Error::Required {
                option,
                placeholder,
            } => write!(f, "{option} {placeholder} is required"),
        }
    }
}

impl std::error::Error for Error {}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<T> {
    Run(T),
    Help,
}

/// Applies the arguments after the program name to `target`, in order.
pub fn parse<T>(
    table: &[Opt<T>],
    mut target: T,
    args: impl IntoIterator<Item = String>,
) -> Result<Parsed<T>, Error> {
    let mut args = args.into_iter();
    while let Some(word) = args.next() {
        let (name, inline) = match word.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (word.as_str(), None),
        };
        if name == "-h" || name == "--help" {
            return Ok(Parsed::Help);
        }
        let opt = table
            .iter()
            .find(|o| o.name == name || o.alias == Some(name))
            .ok_or_else(|| Error::Unknown(name.to_string()))?;
        match &opt.kind {
            Kind::Switch(apply) if inline.is_none() => apply(&mut target),
            Kind::Switch(_) => return Err(Error::SwitchWithValue { option: opt.name }),
            Kind::Value { placeholder, apply } => {
                let text = match inline {
                    Some(text) => text.to_string(),
                    None => args.next().ok_or(Error::NoValue {
                        option: opt.name,
                        placeholder,
                    })?,
                };
                apply(&mut target, &text).map_err(|why| Error::BadValue {
                    option: opt.name,
                    text,
                    why,
                })?;
            }
        }
    }
    Ok(Parsed::Run(target))
}

/// Stores a parsed value: `|o, v| set(&mut o.count, at_least(v, 1))`.
pub fn set<V>(slot: &mut V, value: Result<V, Bad>) -> Result<(), Bad> {
    *slot = value?;
    Ok(())
}

/// A number of at least `min`.
pub fn at_least<N: FromStr + PartialOrd + fmt::Display>(text: &str, min: N) -> Result<N, Bad> {
    match text.trim().parse::<N>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(Bad::Wants(format!("a number of at least {min}"))),
    }
}

/// A finite number above `floor`, for rates.
pub fn above(text: &str, floor: f64) -> Result<f64, Bad> {
    match text.trim().parse::<f64>() {
        Ok(n) if n > floor && n.is_finite() => Ok(n),
        _ => Err(Bad::Wants(format!("a number above {floor}"))),
    }
}

/// A finite number of at least `min`, for counts that may be fractional.
pub fn number(text: &str, min: f64) -> Result<f64, Bad> {
    match text.trim().parse::<f64>() {
        Ok(n) if n >= min && n.is_finite() => Ok(n),
        _ => Err(Bad::Wants(format!("a number of at least {min}"))),
    }
}

/// A number of seconds of at least `min`, such as `2.5`.
pub fn seconds(text: &str, min: f64) -> Result<Duration, Bad> {
    let wants = || Bad::Wants(format!("a number of seconds of at least {min}"));
    let secs = number(text, min).map_err(|_| wants())?;
    Duration::try_from_secs_f64(secs).map_err(|_| wants())
}

/// `--server HOST:PORT` of both clients: the address to dial, with the default port.
pub fn server_address(text: &str) -> Result<String, Bad> {
    crate::runtime::address::parse_server(text).map_err(|e| Bad::Because(e.to_string()))
}

/// `--nickname NAME` of both clients: one the server would accept.
pub fn nickname(text: &str) -> Result<String, Bad> {
    crate::wire::validate_nickname(text).map_err(|e| Bad::Because(e.to_string()))?;
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Seen {
        server: String,
        count: u32,
        quiet: bool,
        extra: Vec<String>,
    }

    const TABLE: &[Opt<Seen>] = &[
        Opt::value("--server", "HOST:PORT", "where to connect", |s, v| {
            s.server = v.to_string();
            Ok(())
        }),
        Opt::value(
            "--count",
            "N",
            "how many times [default: 1]",
            |s: &mut Seen, v| {
                s.count = at_least(v, 1)?;
                Ok(())
            },
        )
        .or("-n"),
        Opt::switch("--quiet", "print nothing", |s| s.quiet = true),
        Opt::value(
            "--a-rather-long-option-name",
            "ARG",
            "one more argument, which may be given any number of times, and whose help is \
             long enough to wrap onto a second line",
            |s, v| {
                s.extra.push(v.to_string());
                Ok(())
            },
        ),
    ];

    fn run(words: &[&str]) -> Result<Parsed<Seen>, Error> {
        parse(TABLE, Seen::default(), words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn both_spellings_aliases_and_switches() {
        let got = run(&["--server=a:1=2", "-n", "3", "--quiet"]);
        let want = Seen {
            server: "a:1=2".into(),
            count: 3,
            quiet: true,
            extra: vec![],
        };
        assert_eq!(got, Ok(Parsed::Run(want)));
        let got = run(&["--a-rather-long-option-name", "--quiet"]);
        assert!(matches!(got, Ok(Parsed::Run(s)) if s.extra == ["--quiet"] && !s.quiet));
        assert_eq!(run(&["--count", "x", "--help"]).ok(), None);
        assert_eq!(run(&["--quiet", "-h", "--bogus"]), Ok(Parsed::Help));
    }

    #[test]
    fn mistakes_are_sentences() {
        let err = |words: &[&str]| run(words).err().map(|e| e.to_string());
        assert_eq!(err(&["--frob"]).as_deref(), Some("unknown option '--frob'"));
        assert_eq!(err(&["stray"]).as_deref(), Some("unknown option 'stray'"));
        assert_eq!(
            err(&["--server"]).as_deref(),
            Some("--server needs a value: HOST:PORT")
        );
        assert_eq!(
            err(&["--count=0"]).as_deref(),
            Some("--count takes a number of at least 1, not '0'")
        );
        assert_eq!(
            err(&["--quiet=yes"]).as_deref(),
            Some("--quiet takes no value")
        );
        assert_eq!(
            err(&["--\u{1b}[2J"]).as_deref(),
            Some("unknown option '--\\u{1b}[2J'")
        );
    }

    #[test]
    fn help_lists_every_option_aligned_and_wrapped() {
        let text = help("Usage: t [OPTIONS]", TABLE, "Bye.");
        let expected = "\
Usage: t [OPTIONS]

Options:
  --server HOST:PORT  where to connect
  --count N           how many times [default: 1]
  --quiet             print nothing
  --a-rather-long-option-name ARG
                      one more argument, which may be given any number of times, and whose
                      help is long enough to wrap onto a second line
  -h, --help          show this help

Bye.
";
        assert_eq!(text, expected);
        assert!(text.lines().all(|l| l.chars().count() <= help::WIDTH));
    }

    #[test]
    fn values_are_checked() {
        assert_eq!(at_least::<usize>("12", 1), Ok(12));
        assert!(at_least::<usize>("-1", 0).is_err());
        assert_eq!(above("0.5", 0.0), Ok(0.5));
        for bad in ["0", "inf", "NaN", "x"] {
            assert!(above(bad, 0.0).is_err(), "{bad}");
        }
        assert_eq!(seconds("2.5", 0.001), Ok(Duration::from_millis(2500)));
        for bad in ["0", "inf", "1e300", "x"] {
            assert!(seconds(bad, 0.001).is_err(), "{bad}");
        }
    }
}
