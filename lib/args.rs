//! Command-line words, read the same way by every binary: `--flag value` and `--flag=value`.

/// One option word, with the value it carried after `=`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The word as typed (`--server`, `-h`, or a stray argument).
    pub name: String,
    inline: Option<String>,
}

/// The words after the program name.
pub struct Words<I> {
    rest: I,
}

impl<I: Iterator<Item = String>> Words<I> {
    pub fn new(args: impl IntoIterator<IntoIter = I, Item = String>) -> Words<I> {
        Words {
            rest: args.into_iter(),
        }
    }

    /// The next option word, split at `=` when it is a `--long=value` option.
    pub fn next_flag(&mut self) -> Option<Flag> {
        let word = self.rest.next()?;
        Some(match word.split_once('=') {
            Some((name, value)) if name.starts_with("--") => Flag {
                name: name.to_string(),
                inline: Some(value.to_string()),
            },
            _ => Flag {
                name: word,
                inline: None,
            },
        })
    }

    /// The value of `flag`: what followed `=`, or else the next word.
    pub fn value(&mut self, flag: &Flag) -> Option<String> {
        flag.inline.clone().or_else(|| self.rest.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_give_the_same_value() {
        let args = ["--server=a:1", "--nickname", "bob", "-h", "--x=y=z"].map(String::from);
        let mut words = Words::new(args);
        let mut seen = Vec::new();
        while let Some(flag) = words.next_flag() {
            let value = match flag.name.as_str() {
                "-h" => None,
                _ => words.value(&flag),
            };
            seen.push((flag.name, value));
        }
        assert_eq!(
            seen,
            [
                ("--server".into(), Some("a:1".into())),
                ("--nickname".into(), Some("bob".into())),
                ("-h".into(), None),
                ("--x".into(), Some("y=z".into())),
            ]
        );
        let mut words = Words::new(["--ca".to_string()]);
        let flag = words.next_flag().unwrap();
        assert_eq!(words.value(&flag), None);
    }
}
