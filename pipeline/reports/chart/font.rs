//! The shipped CJK font: registered with plotters, and measured for layout.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartError;

/// The family every text style uses; the only one registered with plotters.
pub const FONT_FAMILY: &str = "wqy-microhei";

pub(super) static FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/wqy-microhei.ttc"
));

/// What SVG viewers get instead of the bare family: a machine without the shipped
/// font falls back to a CJK system font (Microsoft YaHei on Chinese Windows).
pub(super) const SVG_FONT_STACK: &str = "wqy-microhei, 'WenQuanYi Micro Hei', 'Microsoft YaHei', \
                              'PingFang SC', 'Noto Sans CJK SC', sans-serif";


pub(super) struct LoadedFont {
    /// None only if the font tables could not be read; text then goes through
    /// plotters unchanged (uneven spacing, but legible).
    pub(super) metrics: Option<FontMetrics>,
}

/// Registers the font with plotters once per process. plotters keeps fonts in a
/// global table, and with ab_glyph (no `ttf` feature) an unregistered family fails
/// every text draw.
pub(super) fn font() -> Option<&'static LoadedFont> {
    static FONT: OnceLock<Option<LoadedFont>> = OnceLock::new();
    FONT.get_or_init(|| {
        register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).ok()?;
        Some(LoadedFont {
            metrics: FontMetrics::parse(FONT_BYTES),
        })
    })
    .as_ref()
}

pub(super) fn loaded_font(target: &Path) -> Result<&'static LoadedFont, ChartError> {
    font().ok_or_else(|| ChartError::Font {
        file: target.to_path_buf(),
    })
}

/// Horizontal metrics read straight from the font file.
///
/// plotters 0.3.7's ab_glyph renderer drops every glyph's left side bearing (it draws
/// the outline at the pen position instead of pen + bearing), so each glyph shifts
/// left by its own bearing and "各乡镇" shows a gap after 乡. plotters exposes no
/// bearings, so bitmaps place each glyph separately at pen + bearing, with advances
/// and bearings from the `hmtx` table; text widths for layout come from here too.
pub(super) struct FontMetrics {
    data: &'static [u8],
    hmtx: usize,
    num_h_metrics: usize,
    cmap: Cmap,
    /// Pixels per font unit at plotters font size 1.
    pub(super) px_per_unit: f64,
}

#[derive(Clone, Copy)]
pub(super) enum Cmap {
    /// Offset of a format 4 (BMP segment) subtable.
    Segments(usize),
    /// Offset of a format 12 (full Unicode group) subtable.
    Groups(usize),
}

pub(super) fn be_u16(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

pub(super) fn be_u32(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl FontMetrics {
    /// Reads face 0 (what ab_glyph's `FontRef::try_from_slice` renders) of a TTF/TTC.
    pub(super) fn parse(data: &'static [u8]) -> Option<Self> {
        let face = if data.get(0..4)? == b"ttcf" {
            be_u32(data, 12)? as usize
        } else {
            0
        };
        let tables = usize::from(be_u16(data, face + 4)?);
        let table = |tag: &[u8; 4]| {
            (0..tables)
                .map(|i| face + 12 + 16 * i)
                .find(|&rec| data.get(rec..rec + 4) == Some(&tag[..]))
                .and_then(|rec| be_u32(data, rec + 8))
                .map(|offset| offset as usize)
        };
        let hhea = table(b"hhea")?;
        let num_h_metrics = usize::from(be_u16(data, hhea + 34)?);
        if num_h_metrics == 0 {
            return None;
        }
        let mut metrics = FontMetrics {
            data,
            hmtx: table(b"hmtx")?,
            num_h_metrics,
            cmap: find_cmap(data, table(b"cmap")?)?,
            px_per_unit: 0.0,
        };
        metrics.px_per_unit = metrics.calibrate()?;
        Some(metrics)
    }

    /// ab_glyph scales by the font's ascent-descent height, which depends on OS/2 flags;
    /// rather than re-derive it, measure a long run of one glyph through plotters.
    pub(super) fn calibrate(&self) -> Option<f64> {
        const SIZE: f64 = 1000.0;
        let sample = "国".repeat(10);
        let (px, _) = (FONT_FAMILY, SIZE).into_font().box_size(&sample).ok()?;
        let (advance, _) = self.h_metrics(self.glyph_id('国'));
        let per_unit = f64::from(px) / (10.0 * SIZE * f64::from(advance));
        (per_unit.is_finite() && per_unit > 0.0).then_some(per_unit)
    }

    pub(super) fn glyph_id(&self, c: char) -> u16 {
        let found = match self.cmap {
            Cmap::Segments(at) => u16::try_from(u32::from(c))
                .ok()
                .and_then(|c| segment_glyph(self.data, at, c)),
            Cmap::Groups(at) => group_glyph(self.data, at, u32::from(c)),
        };
        found.unwrap_or(0)
    }

    /// (advance width, left side bearing) in font units.
    pub(super) fn h_metrics(&self, glyph: u16) -> (u16, i16) {
        let g = usize::from(glyph);
        let last = self.num_h_metrics - 1;
        let advance = be_u16(self.data, self.hmtx + 4 * g.min(last)).unwrap_or(0);
        let lsb_at = if g <= last {
            self.hmtx + 4 * g + 2
        } else {
            self.hmtx + 4 * self.num_h_metrics + 2 * (g - self.num_h_metrics)
        };
        let lsb = be_u16(self.data, lsb_at).map_or(0, |v| v as i16);
        (advance, lsb)
    }

    pub(super) fn width_px(&self, text: &str, size: f64) -> f64 {
        let units: f64 = text
            .chars()
            .map(|c| f64::from(self.h_metrics(self.glyph_id(c)).0))
            .sum();
        units * self.px_per_unit * size
    }
}

/// Picks the Unicode cmap subtable: full-range (format 12) if present, else BMP (format 4).
pub(super) fn find_cmap(data: &[u8], cmap: usize) -> Option<Cmap> {
    let count = usize::from(be_u16(data, cmap + 2)?);
    let subtables: Vec<(u16, u16, usize)> = (0..count)
        .filter_map(|i| {
            let rec = cmap + 4 + 8 * i;
            let platform = be_u16(data, rec)?;
            let encoding = be_u16(data, rec + 2)?;
            let at = cmap + be_u32(data, rec + 4)? as usize;
            Some((platform, encoding, at))
        })
        .collect();
    let unicode = |&&(p, e, _): &&(u16, u16, usize)| p == 0 || (p == 3 && (e == 1 || e == 10));
    let with_format = |format: u16| {
        subtables
            .iter()
            .filter(unicode)
            .find(|(_, _, at)| be_u16(data, *at) == Some(format))
            .map(|&(_, _, at)| at)
    };
    with_format(12)
        .map(Cmap::Groups)
        .or_else(|| with_format(4).map(Cmap::Segments))
}

/// Format 4 lookup: binary search of segment end codes, then delta or glyph array.
pub(super) fn segment_glyph(d: &[u8], at: usize, c: u16) -> Option<u16> {
    let seg_x2 = usize::from(be_u16(d, at + 6)?);
    let ends = at + 14;
    let starts = ends + seg_x2 + 2;
    let deltas = starts + seg_x2;
    let range_offsets = deltas + seg_x2;
    let (mut lo, mut hi) = (0, seg_x2 / 2);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if be_u16(d, ends + 2 * mid)? < c {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let seg = 2 * lo;
    let start = be_u16(d, starts + seg)?;
    if lo == seg_x2 / 2 || c < start {
        return None;
    }
    let delta = be_u16(d, deltas + seg)?;
    let range_offset = usize::from(be_u16(d, range_offsets + seg)?);
    if range_offset == 0 {
        return Some(c.wrapping_add(delta));
    }
    let glyph_at = range_offsets + seg + range_offset + 2 * usize::from(c - start);
    let glyph = be_u16(d, glyph_at)?;
    (glyph != 0).then(|| glyph.wrapping_add(delta))
}

/// Format 12 lookup: binary search of sequential map groups.
pub(super) fn group_glyph(d: &[u8], at: usize, c: u32) -> Option<u16> {
    let groups = be_u32(d, at + 12)? as usize;
    let (mut lo, mut hi) = (0, groups);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let rec = at + 16 + 12 * mid;
        if be_u32(d, rec + 4)? < c {
            lo = mid + 1;
        } else if be_u32(d, rec)? > c {
            hi = mid;
        } else {
            let glyph = be_u32(d, rec + 8)? + (c - be_u32(d, rec)?);
            return u16::try_from(glyph).ok();
        }
    }
    None
}

/// Width in pixels of `text` at a plotters font size.
pub(super) fn text_width(text: &str, size: f64) -> i32 {
    if let Some(metrics) = font().and_then(|f| f.metrics.as_ref()) {
        return metrics.width_px(text, size).ceil() as i32;
    }
    match (FONT_FAMILY, size).into_font().box_size(text) {
        Ok((w, _)) => i32::try_from(w).unwrap_or(i32::MAX),
        // Only if the font is unusable: CJK ≈ 0.85 em-size, Latin about half that.
        Err(_) => {
            let units: f64 = text
                .chars()
                .map(|c| if c.is_ascii() { 0.45 } else { 0.85 })
                .sum();
            (units * size).ceil() as i32
        }
    }
}

/// Cuts `text` to fit `max_w` pixels, marking the cut with an ellipsis.
pub(super) fn fit_text(text: &str, size: f64, max_w: i32) -> String {
    if text_width(text, size) <= max_w {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while chars.pop().is_some() {
        let candidate: String = chars.iter().chain(['…'].iter()).collect();
        if text_width(&candidate, size) <= max_w {
            return candidate;
        }
    }
    "…".to_string()
}

pub(super) fn text_style(size: f64, color: RGBColor, anchor: (HPos, VPos)) -> TextStyle<'static> {
    // Built field by field: `TextStyle::color` ties the style's lifetime to a borrow
    // of the colour.
    TextStyle {
        font: (FONT_FAMILY, size).into_font(),
        color: color.to_backend_color(),
        pos: Pos::new(anchor.0, anchor.1),
    }
}
