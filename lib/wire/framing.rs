//! Splits a byte stream into `\n`-terminated lines, however the bytes arrive: one at a time,
//! many lines in one read, or a line split across reads. A line longer than the limit is an
//! error rather than a memory problem: nothing past the limit is ever buffered.

use std::sync::Arc;

/// One encoded line, shared by every recipient of a broadcast.
pub type Frame = Arc<[u8]>;

/// A line exceeded the limit; the stream cannot be resynchronised safely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong {
    pub limit: usize,
}

/// Accumulates bytes and yields complete lines.
#[derive(Debug)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Where the next line starts in `buf`.
    start: usize,
    /// How far `buf` has been searched for `\n` already, so bytes are scanned once.
    scanned: usize,
    limit: usize,
}

impl LineBuffer {
    /// A buffer that accepts lines of at most `limit` bytes (excluding `\n`).
    pub fn new(limit: usize) -> LineBuffer {
        LineBuffer {
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            limit,
        }
    }

    /// Appends bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scanned = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line without its `\n` (a trailing `\r` is dropped too), `None` when
    /// more bytes are needed, or an error if the pending line is already over the limit.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, LineTooLong> {
        let from = self.scanned.max(self.start);
        match self.buf[from..].iter().position(|&b| b == b'\n') {
            Some(offset) => {
                let end = from + offset;
                let line_start = self.start;
                self.start = end + 1;
                self.scanned = self.start;
                let mut line = &self.buf[line_start..end];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                if line.len() > self.limit {
                    return Err(LineTooLong { limit: self.limit });
                }
                Ok(Some(line))
            }
            None => {
                self.scanned = self.buf.len();
                if self.buf.len() - self.start > self.limit + 1 {
                    return Err(LineTooLong { limit: self.limit });
                }
                self.compact();
                Ok(None)
            }
        }
    }

    /// Bytes received but not yet returned as a line.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        // Give back memory after a burst: an idle connection should hold almost nothing.
        if self.buf.is_empty() && self.buf.capacity() > 8 * 1024 {
            self.buf = Vec::new();
        } else if self.buf.capacity() > 4 * (self.buf.len() + 1024) {
            self.buf.shrink_to(2 * self.buf.len() + 1024);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(buf: &mut LineBuffer) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(line) = buf.next_line().unwrap() {
            out.push(line.to_vec());
        }
        out
    }

    #[test]
    fn many_lines_in_one_read() {
        let mut buf = LineBuffer::new(100);
        buf.extend(b"a\nbb\r\nccc\nd");
        assert_eq!(
            drain(&mut buf),
            vec![b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()]
        );
        buf.extend(b"d\n");
        assert_eq!(drain(&mut buf), vec![b"dd".to_vec()]);
        assert_eq!(buf.pending(), 0);
    }

    #[test]
    fn byte_by_byte() {
        let mut buf = LineBuffer::new(100);
        let mut lines = Vec::new();
        for b in b"hello\nworld\n" {
            buf.extend(&[*b]);
            lines.extend(drain(&mut buf));
        }
        assert_eq!(lines, vec![b"hello".to_vec(), b"world".to_vec()]);
    }

    #[test]
    fn limit_is_exact() {
        let mut buf = LineBuffer::new(4);
        buf.extend(b"abcd\n");
        assert_eq!(buf.next_line().unwrap(), Some(&b"abcd"[..]));
        buf.extend(b"abcde\n");
        assert_eq!(buf.next_line(), Err(LineTooLong { limit: 4 }));
    }

    #[test]
    fn over_long_line_without_newline_is_caught_early() {
        let mut buf = LineBuffer::new(4);
        buf.extend(b"abcde");
        assert_eq!(buf.next_line(), Ok(None));
        buf.extend(b"f");
        assert_eq!(buf.next_line(), Err(LineTooLong { limit: 4 }));
    }
}
