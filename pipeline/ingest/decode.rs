//! Text decoding for CSV: UTF-8 or GB18030, detected line by line.
//!
//! Files arrive from Excel on Chinese Windows (GBK/GB18030), from web exports
//! (UTF-8, often with a BOM), and sometimes as a concatenation of both. A line is
//! decided on its own bytes wherever they are unambiguous, so the same line reads
//! the same in any file, order or company (docs/rules.md § Files):
//! - a line that is not valid UTF-8 is GB18030;
//! - a line that is valid UTF-8 is UTF-8, unless most of its UTF-8 reading's
//!   non-ASCII characters are ones pension records are not written in (Latin-1, IPA, Greek… — what GBK text such
//!   as 陆平胜 `C2BD C6BD CAA4` becomes when read as UTF-8: `½ƽʤ`) and its GB18030
//!   reading has none: short GBK lines are valid UTF-8 more often than one thinks
//!   (thousands of names in a county of a million).
//!
//! - a line that reads well both ways — valid UTF-8 with an unexpected character
//!   or a few, but not most of them or only one, and a clean GB18030 reading —
//!   follows the file: GB18030 if the file's lines decided so far, those of its
//!   1 MiB chunk included, are mostly GB18030, otherwise UTF-8. In a GBK export of
//!   a million persons some hundreds of lines are like that (police record 肖梅 in
//!   GBK, `D0A4 C3B7`, reads as UTF-8 `Ф÷`, one Cyrillic letter and ÷); decided
//!   alone, they read differently from the same rows in UTF-8, and a re-export
//!   stored them again as corrections.
//!
//! Bytes that are neither become U+FFFD, and the validator quarantines that row
//! (乱码) rather than guess. Byte 0x0A never occurs inside a GB18030 character, so
//! splitting on it is safe.
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
        // Fast path: the whole chunk is UTF-8 with no byte that could start an
        // unexpected character (the common case for big files).
        if !may_be_misread(raw) && std::str::from_utf8(raw).is_ok() {
            if !raw.is_ascii() {
                self.seen.utf8_lines.fetch_add(1, Ordering::Relaxed);
            }
            self.out.extend_from_slice(raw);
            self.normalise_line_ends();
            return Ok(true);
        }
        let lines: Vec<(&[u8], Line)> = raw
            .split_inclusive(|b| *b == b'\n')
            .map(|line| (line, decode_line(line)))
            .collect();
        let gb_wins = self.gb_majority(&lines);
        let (out, seen) = (&mut self.out, &self.seen);
        for (line, decoded) in lines {
            let (text, counter) = match &decoded {
                Line::Ascii => (line, None),
                Line::Gb(text) => (text.as_bytes(), Some(&seen.gb_lines)),
                Line::Either(text) if gb_wins => (text.as_bytes(), Some(&seen.gb_lines)),
                Line::Utf8 | Line::Either(_) => (line, Some(&seen.utf8_lines)),
            };
            if let Some(counter) = counter {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            out.extend_from_slice(text);
        }
        self.normalise_line_ends();
        Ok(true)
    }

    /// Whether the lines decided so far in this file, this chunk's included, are
    /// mostly GB18030: the tie-break for lines that read well both ways.
    fn gb_majority(&self, lines: &[(&[u8], Line)]) -> bool {
        let (mut gb, mut utf8) = (
            self.seen.gb_lines.load(Ordering::Relaxed),
            self.seen.utf8_lines.load(Ordering::Relaxed),
        );
        for (_, decoded) in lines {
            match decoded {
                Line::Gb(_) => gb += 1,
                Line::Utf8 => utf8 += 1,
                Line::Ascii | Line::Either(_) => {}
            }
        }
        gb > utf8
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

enum Line<'a> {
    Ascii,
    Utf8,
    Gb(std::borrow::Cow<'a, str>),
    /// Reads well both ways: valid UTF-8 with some unexpected characters, but not
    /// most of them or only one, and a clean GB18030 reading (held here).
    Either(std::borrow::Cow<'a, str>),
}

/// How one line reads (see the module comment).
fn decode_line(line: &[u8]) -> Line<'_> {
    if line.is_ascii() {
        return Line::Ascii;
    }
    let text = match std::str::from_utf8(line) {
        Err(_) => return Line::Gb(gb18030(line).0),
        Ok(text) => text,
    };
    let odd = Oddness::of(text);
    if odd.unexpected == 0 {
        return Line::Utf8;
    }
    match gb18030(line) {
        (gb, false) if gb.chars().all(expected_char) => {
            if odd.mostly_unexpected() {
                Line::Gb(gb)
            } else {
                Line::Either(gb)
            }
        }
        _ => Line::Utf8,
    }
}

fn gb18030(line: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    encoding_rs::GB18030.decode_without_bom_handling(line)
}

/// How many of a text's non-ASCII characters are unexpected ones.
struct Oddness {
    wide: usize,
    unexpected: usize,
}

impl Oddness {
    fn of(text: &str) -> Self {
        let (mut wide, mut unexpected) = (0usize, 0usize);
        for c in text.chars().filter(|c| !c.is_ascii()) {
            wide += 1;
            unexpected += usize::from(!expected_char(c));
        }
        Oddness { wide, unexpected }
    }

    /// Most, and at least two: GBK read as UTF-8 is nearly all unexpected, while a
    /// word such as Müller in a line of Chinese, or one odd sign, is not.
    fn mostly_unexpected(&self) -> bool {
        self.unexpected >= 2 && self.unexpected * 2 > self.wide
    }
}

/// Characters pension records are written in: ASCII, CJK ideographs (with the
/// extensions), CJK and full-width punctuation, general punctuation (“”…—), number
/// forms (Ⅱ, ①), the middle dot of transcribed names (阿卜杜·热合曼), ¥, °, ±, ²,
/// ³, µ, × and ÷.
fn expected_char(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x7F
        | 0xA5
        | 0xB0..=0xB3
        | 0xB5
        | 0xB7
        | 0xD7
        | 0xF7
        | 0x2000..=0x206F
        | 0x2100..=0x218F
        | 0x2460..=0x24FF
        | 0x2E80..=0x2FDF
        | 0x3000..=0x303F
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFFEF
        | 0x20000..=0x3134F)
}

/// Whether UTF-8 bytes may hold a character outside `expected_char`: a lead byte of
/// U+0080–U+1FFF (C2–E1) or U+A000–U+EFFF (EA–EE). Checked over whole blocks so
/// it vectorises; a chunk of plain Chinese UTF-8 text has none and skips the
/// line-by-line pass.
fn may_be_misread(raw: &[u8]) -> bool {
    raw.chunks(64).any(|block| {
        block.iter().fold(false, |any, &b| {
            any | matches!(b, 0xC2..=0xE1 | 0xEA..=0xEE)
        })
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> String {
        let mut out = String::new();
        LineDecoder::new(bytes, Default::default(), Default::default())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    fn gbk(text: &str) -> Vec<u8> {
        encoding_rs::GB18030.encode(text).0.into_owned()
    }

    #[test]
    fn a_gbk_line_that_is_valid_utf8_reads_as_gbk() {
        let line = gbk("FF2012040000892,陆平胜,55.00\n");
        assert!(
            std::str::from_utf8(&line).is_ok(),
            "the case: GBK bytes valid as UTF-8"
        );
        assert_eq!(decode(&line), "FF2012040000892,陆平胜,55.00\n");
        // The same line in a UTF-8 file, after a GBK line, or alone: read the same.
        let mut mixed = "个人编号,姓名\n".as_bytes().to_vec();
        mixed.extend(gbk("1,王五\n"));
        mixed.extend(&line);
        assert_eq!(
            decode(&mixed),
            "个人编号,姓名\n1,王五\nFF2012040000892,陆平胜,55.00\n"
        );
    }

    #[test]
    fn a_line_that_reads_both_ways_follows_its_file() {
        // 肖梅 in GBK is D0A4 C3B7, which is also UTF-8: Ф (odd) and ÷ (expected).
        let police = gbk("411725197207180104,20160405,police,20160319,肖梅\n");
        assert_eq!(
            std::str::from_utf8(&police).unwrap(),
            "411725197207180104,20160405,police,20160319,Ф÷\n"
        );
        // In a GBK file it is GBK, wherever it stands.
        let header = gbk("身份证号,登记日期,来源,死亡日期,姓名\n");
        let other = gbk("411725194502123969,20160718,police,20160625,王五\n");
        for file in [
            [header.clone(), police.clone(), other.clone()].concat(),
            [police.clone(), header.clone(), other.clone()].concat(),
        ] {
            assert!(decode(&file).contains(",肖梅\n"), "{}", decode(&file));
        }
        // In a UTF-8 file, or alone, the same bytes are the UTF-8 text they are.
        let utf8 = [
            "身份证号,登记日期,来源,死亡日期,姓名\n".as_bytes(),
            police.as_slice(),
        ]
        .concat();
        assert!(decode(&utf8).ends_with(",Ф÷\n"));
        assert!(decode(&police).ends_with(",Ф÷\n"));
    }

    #[test]
    fn utf8_lines_stay_utf8() {
        for text in [
            "1,阿卜杜·热合曼,1.00\n",
            "2,张三,“东关”村,Ⅱ组,①\n",
            "3,Müller 张三\n",
            "4,½ 亩\n",
            "5,¥100.25\n",
        ] {
            assert_eq!(decode(text.as_bytes()), text);
        }
    }

    #[test]
    fn gbk_files_and_crlf() {
        assert_eq!(decode(&gbk("姓名\r\n李四\r\n")), "姓名\n李四\n");
        assert_eq!(decode(b"\xEF\xBB\xBFa,b\r\n1,2"), "a,b\n1,2\n");
    }
}
