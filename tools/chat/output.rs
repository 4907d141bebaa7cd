//! Where the session's lines go: straight to standard output, or above the line editor's
//! prompt while a person is typing.

use std::io::{self, Write};

use crate::editor::Printer;

pub enum Output {
    Plain(io::Stdout),
    Editor(Printer),
}

impl Output {
    /// Writes `text` (whole lines, `\n` included). An error means nobody reads our output
    /// any more (a closed pipe).
    pub fn write(&mut self, text: &str) -> io::Result<()> {
        match self {
            Output::Plain(stdout) => {
                let mut out = stdout.lock();
                out.write_all(text.as_bytes())?;
                out.flush()
            }
            Output::Editor(printer) => {
                // With its newline: the printer adds one only while the prompt is shown.
                for line in text.lines() {
                    printer.print(format!("{line}\n"));
                }
                Ok(())
            }
        }
    }

    /// Lets what was written reach the screen before the program ends.
    pub fn finish(&mut self) {
        if let Output::Editor(printer) = self {
            printer.finish();
        }
    }
}
