//! Turning what a program wrote into lines the metric rule can match, as real training
//! output needs: progress bars redraw themselves with `\r` (Keras, tqdm, Lightning), so a
//! carriage return ends a line as a newline does; colours and cursor moves are ANSI escape
//! sequences, removed before matching; and nothing a program writes may grow the reader
//! without bound (a line is cut at [`MAX_LINE`] bytes, a file is read in chunks).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The longest line kept whole; the rest of a longer one is dropped. No metric line is
/// this long, and a program that writes megabytes without a newline (`file:/dev/zero`)
/// must not take the runner's memory with it.
pub const MAX_LINE: usize = 64 << 10;
/// How much is read from a growing file at a time.
const CHUNK: usize = 64 << 10;

/// `text` without ANSI escape sequences: CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL` or
/// `ESC \`), character-set designations (`ESC ( B`) and the two-character escapes.
pub fn strip_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                // Parameters and intermediates, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // `ESC ( B` and the like: intermediates, then one final byte.
            Some(c) if (' '..='/').contains(&c) => {
                for c in chars.by_ref() {
                    if !(' '..='/').contains(&c) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Splits a byte stream into lines at `\n` and `\r`, as it arrives in pieces, without
/// control characters other than tabs. Empty lines (the gap in `\r\n`) are dropped: they
/// match nothing.
#[derive(Debug, Default)]
pub struct LineSplitter {
    /// The line so far, at most [`MAX_LINE`] bytes (the rest of a longer one is dropped).
    partial: Vec<u8>,
}

impl LineSplitter {
    /// The lines completed by `bytes`, escape sequences removed.
    pub fn push(&mut self, bytes: &[u8], lines: &mut Vec<String>) {
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                self.end_line(lines);
            } else if b < 0x20 && b != b'\t' && b != 0x1b || b == 0x7f {
                // Backspaces (Keras ends each progress frame with a run of them) and other
                // controls: nothing a pattern should have to match around.
            } else if self.partial.len() < MAX_LINE {
                self.partial.push(b);
            }
        }
    }

    /// The unfinished last line, when the output has ended.
    pub fn finish(&mut self, lines: &mut Vec<String>) {
        self.end_line(lines);
    }

    fn end_line(&mut self, lines: &mut Vec<String>) {
        if self.partial.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.partial);
        let line = strip_ansi(&text).into_owned();
        self.partial.clear();
        if !line.trim().is_empty() {
            lines.push(line);
        }
    }
}

/// Opens a metric source for reading, refusing anything but a regular file: a FIFO would
/// block the reader past any timeout, and a device (`/dev/zero`) never ends. Opened
/// non-blocking so that even a FIFO swapped in after the check cannot hang the open.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// Every line of a regular file, read in chunks (each line bounded by [`MAX_LINE`]).
pub fn read_lines(path: &Path) -> io::Result<Vec<String>> {
    read_last_lines(path, u64::MAX)
}

/// The lines in the last `max_bytes` of a regular file (the first one may be cut), for
/// showing a program's output without holding all of it.
pub fn read_last_lines(path: &Path, max_bytes: u64) -> io::Result<Vec<String>> {
    let mut file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > max_bytes {
        file.seek(io::SeekFrom::Start(len - max_bytes))?;
    }
    let mut splitter = LineSplitter::default();
    let mut lines = Vec::new();
    let mut buf = vec![0; CHUNK];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        splitter.push(&buf[..n], &mut lines);
    }
    splitter.finish(&mut lines);
    Ok(lines)
}

/// Follows a file that a running program appends to (it may not exist yet).
#[derive(Debug)]
pub struct Follow {
    path: std::path::PathBuf,
    file: Option<File>,
    splitter: LineSplitter,
    /// Why the file cannot be followed (not a regular file), once known.
    refused: Option<String>,
}

impl Follow {
    pub fn new(path: std::path::PathBuf) -> Self {
        Self {
            path,
            file: None,
            splitter: LineSplitter::default(),
            refused: None,
        }
    }

    /// Why the source cannot be read, if it cannot (it exists and is no regular file).
    pub fn refused(&self) -> Option<&str> {
        self.refused.as_deref()
    }

    /// The lines completed since the last call, reading at most `budget` bytes (so that a
    /// program writing without pause cannot keep the reader from deciding); with `end`,
    /// everything left and the unfinished last line (the program has exited).
    pub fn lines(&mut self, end: bool) -> Vec<String> {
        let mut lines = Vec::new();
        if self.file.is_none() && self.refused.is_none() {
            match open_regular(&self.path) {
                Ok(f) => self.file = Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => self.refused = Some(e.to_string()),
            }
        }
        if let Some(file) = &mut self.file {
            let mut buf = vec![0; CHUNK];
            // While the program runs, a bounded amount per call; at its end, all of it.
            let mut rounds = if end { usize::MAX } else { 16 };
            while rounds > 0 {
                rounds -= 1;
                match file.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => self.splitter.push(&buf[..n], &mut lines),
                }
            }
        }
        if end {
            self.splitter.finish(&mut lines);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::default();
        let mut lines = Vec::new();
        for c in chunks {
            s.push(c, &mut lines);
        }
        s.finish(&mut lines);
        lines
    }

    #[test]
    fn carriage_returns_and_newlines_end_lines_and_escapes_go() {
        let lines = split(&[
            b"1/3 \x1b[32m\xe2\x94\x81\x1b[0m loss: 0.9\r2/3 loss: 0.8",
            b"\r3/3 loss: 0.7 - val_loss: 0.6\r\nEpoch 2/2\n",
        ]);
        assert_eq!(
            lines,
            [
                "1/3 \u{2501} loss: 0.9",
                "2/3 loss: 0.8",
                "3/3 loss: 0.7 - val_loss: 0.6",
                "Epoch 2/2"
            ]
        );
    }

    #[test]
    fn osc_and_cursor_moves_are_removed() {
        assert_eq!(strip_ansi("\x1b]0;title\x07a\x1b[2K\x1b[1Ab\x1b(Bc"), "abc");
        assert_eq!(strip_ansi("\x1b]8;;http://x\x1b\\link"), "link");
    }

    #[test]
    fn an_endless_line_is_cut_not_kept() {
        let mut s = LineSplitter::default();
        let mut lines = Vec::new();
        let zeros = vec![b'0'; 1 << 20];
        for _ in 0..8 {
            s.push(&zeros, &mut lines);
        }
        assert!(s.partial.len() <= MAX_LINE);
        s.push(b"\nloss: 1\n", &mut lines);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1], "loss: 1");
    }

    #[test]
    fn only_regular_files_are_read() {
        let err = read_lines(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string and mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_lines(&fifo).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let mut follow = Follow::new(fifo);
        assert!(follow.lines(true).is_empty());
        assert!(follow.refused().is_some());
    }
}
