//! Standard output, buffered; a closed pipe ends the command quietly (see
//! `Fail::from(io::Error)`).

use std::io::{self, BufWriter, Stdout, Write};

pub struct Out {
    w: BufWriter<Stdout>,
}

impl Out {
    pub fn new() -> Self {
        Out {
            w: BufWriter::new(io::stdout()),
        }
    }

    /// Writes text as is.
    pub fn text(&mut self, s: &str) -> io::Result<()> {
        self.w.write_all(s.as_bytes())
    }

    /// Writes one line.
    pub fn line(&mut self, s: &str) -> io::Result<()> {
        self.w.write_all(s.as_bytes())?;
        self.w.write_all(b"\n")
    }

    /// Writes a JSON value as one line.
    pub fn json(&mut self, v: &serde_json::Value) -> io::Result<()> {
        self.line(&v.to_string())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = self.w.flush();
    }
}
