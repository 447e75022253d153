//! Text decoding for CSV: UTF-8 or GB18030, detected line by line.
//!
//! Files arrive from Excel on Chinese Windows (GBK/GB18030), from web exports
//! (UTF-8, often with a BOM), and sometimes as a concatenation of both. A line
//! that is valid UTF-8 is UTF-8 — GB18030 Chinese text is practically never valid
//! UTF-8 — and any other line is decoded as GB18030. Bytes that are neither
//! become U+FFFD, and the validator quarantines that row (乱码) rather than guess.
//! Byte 0x0A never occurs inside a GB18030 character, so splitting on it is safe.
//!
//! The output also has one line-end convention: CRLF (what Excel writes) becomes LF
//! and the last line gets its LF if the file lacks one. The CSV reader then counts
//! lines exactly as an editor shows them (see `source`), whatever the file's ends.

use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What the decoder saw, for the file report.
#[derive(Debug, Default)]
pub struct EncodingSeen {
    pub bom: AtomicU64,
    pub utf8_lines: AtomicU64,
    pub gb_lines: AtomicU64,
}

pub struct LineDecoder<R> {
    inner: R,
    out: Vec<u8>,
    pos: usize,
    raw: Vec<u8>,
    started: bool,
    bytes: Arc<AtomicU64>,
    seen: Arc<EncodingSeen>,
}

/// Raw bytes read per refill (cut back to the last complete line).
const CHUNK: usize = 1 << 20;

impl<R: BufRead> LineDecoder<R> {
    pub fn new(inner: R, bytes: Arc<AtomicU64>, seen: Arc<EncodingSeen>) -> Self {
        LineDecoder {
            inner,
            out: Vec::with_capacity(CHUNK),
            pos: 0,
            raw: Vec::with_capacity(CHUNK + 4096),
            started: false,
            bytes,
            seen,
        }
    }

    /// Reads about a chunk of whole lines into `raw`; false at end of input.
    fn fill_raw(&mut self) -> std::io::Result<bool> {
        self.raw.clear();
        while self.raw.len() < CHUNK {
            let n = self.inner.read_until(b'\n', &mut self.raw)?;
            if n == 0 {
                break;
            }
        }
        self.bytes
            .fetch_add(self.raw.len() as u64, Ordering::Relaxed);
        Ok(!self.raw.is_empty())
    }

    fn refill(&mut self) -> std::io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        if !self.fill_raw()? {
            return Ok(false);
        }
        let mut raw: &[u8] = &self.raw;
        if !self.started {
            self.started = true;
            if let Some(rest) = raw.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
                self.seen.bom.store(1, Ordering::Relaxed);
                raw = rest;
            }
        }
        // Fast path: the whole chunk is UTF-8 (the common case for big files).
        if std::str::from_utf8(raw).is_ok() {
            if !raw.is_ascii() {
                self.seen.utf8_lines.fetch_add(1, Ordering::Relaxed);
            }
            self.out.extend_from_slice(raw);
            self.normalise_line_ends();
            return Ok(true);
        }
        for line in raw.split_inclusive(|b| *b == b'\n') {
            if std::str::from_utf8(line).is_ok() {
                if !line.is_ascii() {
                    self.seen.utf8_lines.fetch_add(1, Ordering::Relaxed);
                }
                self.out.extend_from_slice(line);
            } else {
                self.seen.gb_lines.fetch_add(1, Ordering::Relaxed);
                let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(line);
                self.out.extend_from_slice(text.as_bytes());
            }
        }
        self.normalise_line_ends();
        Ok(true)
    }

    /// CRLF → LF, and a final LF. A chunk always ends with a whole line (or the end
    /// of the file), so a CRLF pair is never split between two chunks.
    fn normalise_line_ends(&mut self) {
        if self.out.contains(&b'\r') {
            crlf_to_lf(&mut self.out);
        }
        if self.out.last().is_some_and(|b| *b != b'\n') {
            self.out.push(b'\n');
        }
    }
}

/// Removes every CR that directly precedes an LF (a lone CR is kept).
fn crlf_to_lf(v: &mut Vec<u8>) {
    let mut w = 0;
    for r in 0..v.len() {
        if v[r] == b'\r' && v.get(r + 1) == Some(&b'\n') {
            continue;
        }
        v[w] = v[r];
        w += 1;
    }
    v.truncate(w);
}

impl<R: BufRead> Read for LineDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl EncodingSeen {
    /// `utf8`, `utf8-bom`, `gb18030`, or `mixed` (some lines of each).
    pub fn label(&self) -> &'static str {
        let gb = self.gb_lines.load(Ordering::Relaxed) > 0;
        let utf8 = self.utf8_lines.load(Ordering::Relaxed) > 0;
        let bom = self.bom.load(Ordering::Relaxed) > 0;
        match (gb, utf8 || bom) {
            (true, true) => "mixed",
            (true, false) => "gb18030",
            (false, _) if bom => "utf8-bom",
            _ => "utf8",
        }
    }
}
