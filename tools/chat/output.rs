//! Where the session's lines go: straight to standard output, or above the line editor's
//! prompt while a person is typing. At a terminal, long lines are wrapped by [`wrap`].

use std::io::{self, Write};

use crate::editor::Printer;
use crate::wrap;

pub enum Output {
    /// `wrap` unless the lines are JSON for a program.
    Plain {
        stdout: io::Stdout,
        wrap: bool,
    },
    Editor(Printer),
}

impl Output {
    pub fn plain(json: bool) -> Output {
        Output::Plain {
            stdout: io::stdout(),
            wrap: !json,
        }
    }

    /// Writes `text` (whole lines, `\n` included). An error means nobody reads our output
    /// any more (a closed pipe).
    pub fn write(&mut self, text: &str) -> io::Result<()> {
        // Not a terminal (a pipe, a file): no width, and nothing to wrap for.
        let columns = match self {
            Output::Plain { wrap: false, .. } => None,
            _ => wrap::terminal_columns(),
        };
        let rows = text.lines().flat_map(|line| match columns {
            Some(columns) => wrap::rows(line, columns),
            None => vec![line.to_string()],
        });
        match self {
            Output::Plain { stdout, .. } => {
                let mut out = stdout.lock();
                for row in rows {
                    out.write_all(row.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                out.flush()
            }
            Output::Editor(printer) => {
                // With its newline: the printer adds one only while the prompt is shown.
                for row in rows {
                    printer.print(format!("{row}\n"));
                }
                Ok(())
            }
        }
    }

    /// Whether the line editor's prompt is still on the last line of the screen.
    pub fn on_prompt(&self) -> bool {
        matches!(self, Output::Editor(printer) if printer.on_prompt())
    }

    /// Lets what was written reach the screen before the program ends.
    pub fn finish(&mut self) {
        if let Output::Editor(printer) = self {
            printer.finish();
        }
    }
}
