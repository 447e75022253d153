//! Report charts drawn to PNG and SVG with plotters.
//!
//! Chinese text is drawn with the shipped WenQuanYi Micro Hei font, registered once
//! with plotters' ab_glyph text backend. The caller hands over numbers already scaled
//! to f64 for drawing and preformatted strings for every printed value, so the only
//! numbers formatted here are axis ticks.
//!
//! plotters is used as a drawing surface (shapes, text, PNG/SVG encoding); the layout
//! is computed here in pixels. Its chart builder labels categorical axes poorly (a
//! single category maps to the wrong place, month labels cannot be thinned to a
//! chosen step) and its axis text goes through the glyph bug described at
//! [`FontMetrics`], so every label is placed by this module.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The family every text style uses; the only one registered with plotters.
pub const FONT_FAMILY: &str = "wqy-microhei";

static FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/wqy-microhei.ttc"
));

/// What SVG viewers get instead of the bare family: a machine without the shipped
/// font falls back to a CJK system font (Microsoft YaHei on Chinese Windows).
const SVG_FONT_STACK: &str = "wqy-microhei, 'WenQuanYi Micro Hei', 'Microsoft YaHei', \
                              'PingFang SC', 'Noto Sans CJK SC', sans-serif";

const NO_DATA_TEXT: &str = "无数据 (no data)";

const WIDTH: u32 = 1600;
const MIN_HEIGHT: u32 = 900;

// plotters sizes are ab_glyph pixel heights (ascent to descent): a CJK glyph is about
// 0.85 × size wide, and the SVG backend writes font-size = size / 1.24. So 26 gives
// ≈21-22 px text, readable on a projector.
const TITLE_SIZE: f64 = 44.0;
const MIN_TITLE_SIZE: f64 = 30.0;
const TEXT_SIZE: f64 = 26.0;
const DESC_SIZE: f64 = 28.0;
const NO_DATA_SIZE: f64 = 36.0;
/// Height of a line of TEXT_SIZE text as plotters lays it out (size / 1.24).
const TEXT_LINE: i32 = 21;

const MARGIN: i32 = 30;
const TITLE_TOP: i32 = 20;
/// Gap between an axis and its tick labels.
const TICK_GAP: i32 = 10;
const TICK_LEN: i32 = 6;
/// Under a horizontal value axis: tick labels, then the axis description.
const VALUE_AXIS_AREA: i32 = 90;
/// Under the month axis: one row of labels.
const MONTH_AXIS_AREA: i32 = 50;
/// Above a Monthly plot: the unit descriptions of the vertical axes.
const UNIT_STRIP: i32 = 52;
/// Vertical space per category so labels of neighbouring rows never touch.
const ROW_HEIGHT: u32 = 46;
/// Everything of an HBar/Pyramid canvas that is not rows: title, legend, axis, margins.
const ROW_CHART_CHROME: u32 = 240;
const LEGEND_ROW: i32 = 40;
const LEGEND_MARK: i32 = 36;
const LEGEND_GAP: i32 = 36;
/// Widest a bar may get, in pixels from its centre line (a single category would
/// otherwise fill the plot).
const MAX_BAR_HALF_PX: f64 = 30.0;
const MAX_TICKS: usize = 9;

const BLUE_: RGBColor = RGBColor(0x2E, 0x6F, 0xBA);
const ORANGE: RGBColor = RGBColor(0xE0, 0x7B, 0x39);
const GREEN_: RGBColor = RGBColor(0x4C, 0x9A, 0x5F);
const PURPLE: RGBColor = RGBColor(0x8E, 0x5E, 0xA2);
const RED_: RGBColor = RGBColor(0xC0, 0x50, 0x4D);
const PALETTE: [RGBColor; 5] = [BLUE_, ORANGE, GREEN_, PURPLE, RED_];
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const AXIS: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xE2, 0xE2, 0xE2);
const MUTED: RGBColor = RGBColor(0x88, 0x88, 0x88);

/// What to draw. Titles and labels are Chinese (with English allowed).
pub struct Chart {
    /// File stem, e.g. "coverage_by_township".
    pub name: String,
    /// E.g. "各乡镇参保率 Coverage by township (2026-10)".
    pub title: String,
    pub data: ChartData,
}

pub enum ChartData {
    /// Horizontal bars, one per category, top to bottom in the given order.
    /// `value_labels[i]` is printed at the end of bar i (e.g. "84.69%" or "12 项 · ¥3,456.00").
    HBar {
        categories: Vec<String>,
        values: Vec<f64>,
        value_labels: Vec<String>,
        axis_label: String,
    },
    /// Monthly series over time: `x` are month labels ("2024-11" … "2026-10"), drawn in order.
    /// `bars` (optional) are drawn as columns on the left axis; `lines` as lines with point
    /// markers — on the left axis, or on a right (secondary) axis when `secondary_axis_label` is Some
    /// (then bars use the left axis and lines the right one). A legend names every series.
    Monthly {
        x: Vec<String>,
        bars: Option<Series>,
        lines: Vec<Series>,
        axis_label: String,
        secondary_axis_label: Option<String>,
    },
    /// Population pyramid: bands bottom (youngest) to top (oldest); left = male (男), right = female (女).
    Pyramid {
        bands: Vec<String>,
        left: Series,
        right: Series,
        axis_label: String,
    },
}

pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("{}: the shipped font {FONT_FAMILY} could not be loaded", file.display())]
    Font { file: PathBuf },
    #[error("{}: {problem}", file.display())]
    InvalidData { file: PathBuf, problem: String },
    #[error("drawing {} failed: {message}", file.display())]
    Draw { file: PathBuf, message: String },
    #[error("cannot write {}: {source}", file.display())]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Draws the chart to `dir/<name>.png` (1600×900 for Monthly/HBar; HBar height may grow with the
/// number of categories so labels never overlap) and `dir/<name>.svg`; returns both paths.
pub fn render(chart: &Chart, dir: &Path) -> Result<(PathBuf, PathBuf), ChartError> {
    let png = dir.join(format!("{}.png", chart.name));
    let svg = dir.join(format!("{}.svg", chart.name));
    check_chart(chart, &png)?;
    std::fs::create_dir_all(dir).map_err(|source| ChartError::Io {
        file: png.clone(),
        source,
    })?;
    write_png(chart, &png)?;
    let text = draw_svg(chart, &svg)?;
    std::fs::write(&svg, text).map_err(|source| ChartError::Io {
        file: svg.clone(),
        source,
    })?;
    Ok((png, svg))
}

/// The SVG text alone (for inlining into an HTML page), same drawing as the .svg file.
pub fn svg_string(chart: &Chart) -> Result<String, ChartError> {
    let target = PathBuf::from(format!("{}.svg", chart.name));
    check_chart(chart, &target)?;
    draw_svg(chart, &target)
}

// ---------------------------------------------------------------------------
// Backends and errors

type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn write_png(chart: &Chart, path: &Path) -> Result<(), ChartError> {
    let font = loaded_font(path)?;
    let root = BitMapBackend::new(path, canvas_size(chart)).into_drawing_area();
    let canvas = Canvas {
        root: &root,
        glyphs: font.metrics.as_ref(),
    };
    // present() encodes and writes the file; its I/O errors arrive as drawing errors.
    draw_chart(&canvas, chart)
        .and_then(|()| root.present())
        .map_err(|e| draw_error(path, e))
}

fn draw_svg(chart: &Chart, target: &Path) -> Result<String, ChartError> {
    loaded_font(target)?;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, canvas_size(chart)).into_drawing_area();
        // Whole strings in SVG: the viewer lays them out, and they stay searchable.
        let canvas = Canvas {
            root: &root,
            glyphs: None,
        };
        draw_chart(&canvas, chart)
            .and_then(|()| root.present())
            .map_err(|e| draw_error(target, e))?;
    }
    Ok(with_font_stack(&buf))
}

/// plotters writes `font-family="wqy-microhei"` verbatim (the name has nothing to
/// escape); swap in the fallback stack. Single quotes are fine inside the
/// double-quoted attribute.
fn with_font_stack(svg: &str) -> String {
    svg.replace(
        &format!("font-family=\"{FONT_FAMILY}\""),
        &format!("font-family=\"{SVG_FONT_STACK}\""),
    )
}

fn draw_error<E: std::error::Error + Send + Sync>(
    file: &Path,
    err: DrawingAreaErrorKind<E>,
) -> ChartError {
    ChartError::Draw {
        file: file.to_path_buf(),
        message: err.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Font

struct LoadedFont {
    /// None only if the font tables could not be read; text then goes through
    /// plotters unchanged (uneven spacing, but legible).
    metrics: Option<FontMetrics>,
}

/// Registers the font with plotters once per process. plotters keeps fonts in a
/// global table, and with ab_glyph (no `ttf` feature) an unregistered family fails
/// every text draw.
fn font() -> Option<&'static LoadedFont> {
    static FONT: OnceLock<Option<LoadedFont>> = OnceLock::new();
    FONT.get_or_init(|| {
        register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).ok()?;
        Some(LoadedFont {
            metrics: FontMetrics::parse(FONT_BYTES),
        })
    })
    .as_ref()
}

fn loaded_font(target: &Path) -> Result<&'static LoadedFont, ChartError> {
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
struct FontMetrics {
    data: &'static [u8],
    hmtx: usize,
    num_h_metrics: usize,
    cmap: Cmap,
    /// Pixels per font unit at plotters font size 1.
    px_per_unit: f64,
}

#[derive(Clone, Copy)]
enum Cmap {
    /// Offset of a format 4 (BMP segment) subtable.
    Segments(usize),
    /// Offset of a format 12 (full Unicode group) subtable.
    Groups(usize),
}

fn be_u16(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn be_u32(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl FontMetrics {
    /// Reads face 0 (what ab_glyph's `FontRef::try_from_slice` renders) of a TTF/TTC.
    fn parse(data: &'static [u8]) -> Option<Self> {
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
    fn calibrate(&self) -> Option<f64> {
        const SIZE: f64 = 1000.0;
        let sample = "国".repeat(10);
        let (px, _) = (FONT_FAMILY, SIZE).into_font().box_size(&sample).ok()?;
        let (advance, _) = self.h_metrics(self.glyph_id('国'));
        let per_unit = f64::from(px) / (10.0 * SIZE * f64::from(advance));
        (per_unit.is_finite() && per_unit > 0.0).then_some(per_unit)
    }

    fn glyph_id(&self, c: char) -> u16 {
        let found = match self.cmap {
            Cmap::Segments(at) => u16::try_from(u32::from(c))
                .ok()
                .and_then(|c| segment_glyph(self.data, at, c)),
            Cmap::Groups(at) => group_glyph(self.data, at, u32::from(c)),
        };
        found.unwrap_or(0)
    }

    /// (advance width, left side bearing) in font units.
    fn h_metrics(&self, glyph: u16) -> (u16, i16) {
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

    fn width_px(&self, text: &str, size: f64) -> f64 {
        let units: f64 = text
            .chars()
            .map(|c| f64::from(self.h_metrics(self.glyph_id(c)).0))
            .sum();
        units * self.px_per_unit * size
    }
}

/// Picks the Unicode cmap subtable: full-range (format 12) if present, else BMP (format 4).
fn find_cmap(data: &[u8], cmap: usize) -> Option<Cmap> {
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
fn segment_glyph(d: &[u8], at: usize, c: u16) -> Option<u16> {
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
fn group_glyph(d: &[u8], at: usize, c: u32) -> Option<u16> {
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
fn text_width(text: &str, size: f64) -> i32 {
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
fn fit_text(text: &str, size: f64, max_w: i32) -> String {
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

fn text_style(size: f64, color: RGBColor, anchor: (HPos, VPos)) -> TextStyle<'static> {
    // Built field by field: `TextStyle::color` ties the style's lifetime to a borrow
    // of the colour.
    TextStyle {
        font: (FONT_FAMILY, size).into_font(),
        color: color.to_backend_color(),
        pos: Pos::new(anchor.0, anchor.1),
    }
}

// ---------------------------------------------------------------------------
// Input checks

fn check_chart(chart: &Chart, target: &Path) -> Result<(), ChartError> {
    let problem = name_problem(&chart.name).or_else(|| length_problem(&chart.data));
    match problem {
        Some(problem) => Err(ChartError::InvalidData {
            file: target.to_path_buf(),
            problem,
        }),
        None => Ok(()),
    }
}

/// The name becomes a file stem inside `dir`; anything that could leave `dir` is a bug.
fn name_problem(name: &str) -> Option<String> {
    let bad = name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']);
    bad.then(|| format!("chart name {name:?} is not a plain file stem"))
}

/// Parallel vectors of different lengths are a caller bug: say so instead of
/// silently dropping values.
fn length_problem(data: &ChartData) -> Option<String> {
    let mismatch = |what: &str, got: usize, want: usize, of: &str| {
        (got != want).then(|| format!("{what} has {got} entries but there are {want} {of}"))
    };
    let series = |s: &Series, want: usize, of: &str| {
        mismatch(&format!("series {:?}", s.name), s.values.len(), want, of)
    };
    match data {
        ChartData::HBar {
            categories,
            values,
            value_labels,
            ..
        } => {
            let n = categories.len();
            mismatch("values", values.len(), n, "categories")
                .or_else(|| mismatch("value_labels", value_labels.len(), n, "categories"))
        }
        ChartData::Monthly { x, bars, lines, .. } => bars
            .iter()
            .chain(lines)
            .find_map(|s| series(s, x.len(), "months")),
        ChartData::Pyramid {
            bands, left, right, ..
        } => series(left, bands.len(), "bands").or_else(|| series(right, bands.len(), "bands")),
    }
}

fn has_data(data: &ChartData) -> bool {
    let any_finite = |s: &Series| s.values.iter().any(|v| v.is_finite());
    match data {
        ChartData::HBar {
            categories, values, ..
        } => !categories.is_empty() && values.iter().any(|v| v.is_finite()),
        ChartData::Monthly { x, bars, lines, .. } => {
            !x.is_empty() && bars.iter().chain(lines).any(any_finite)
        }
        ChartData::Pyramid {
            bands, left, right, ..
        } => !bands.is_empty() && (any_finite(left) || any_finite(right)),
    }
}

fn canvas_size(chart: &Chart) -> (u32, u32) {
    let rows = match &chart.data {
        ChartData::HBar { categories, .. } => categories.len(),
        ChartData::Pyramid { bands, .. } => bands.len(),
        ChartData::Monthly { .. } => 0,
    };
    let rows = u32::try_from(rows).unwrap_or(u32::MAX);
    let needed = ROW_CHART_CHROME.saturating_add(rows.saturating_mul(ROW_HEIGHT));
    (WIDTH, needed.max(MIN_HEIGHT))
}

// ---------------------------------------------------------------------------
// Canvas: pixel-space drawing on top of a plotters backend

struct Canvas<'a, DB: DrawingBackend> {
    root: &'a DrawingArea<DB, Shift>,
    /// Some: place glyphs one by one with their bearings (bitmaps, see FontMetrics).
    glyphs: Option<&'static FontMetrics>,
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    fn width(&self) -> i32 {
        self.root.dim_in_pixel().0 as i32
    }

    fn height(&self) -> i32 {
        self.root.dim_in_pixel().1 as i32
    }

    fn text(
        &self,
        text: &str,
        at: (i32, i32),
        size: f64,
        color: RGBColor,
        anchor: (HPos, VPos),
    ) -> DrawResult<(), DB> {
        match self.glyphs {
            Some(metrics) => self.glyph_text(metrics, text, at, size, color, anchor),
            None => {
                let style = text_style(size, color, anchor);
                self.root.draw(&Text::new(text, at, style))
            }
        }
    }

    /// One glyph per draw, each at pen + its own left side bearing.
    fn glyph_text(
        &self,
        metrics: &FontMetrics,
        text: &str,
        (x, y): (i32, i32),
        size: f64,
        color: RGBColor,
        (h, v): (HPos, VPos),
    ) -> DrawResult<(), DB> {
        let scale = metrics.px_per_unit * size;
        let width = metrics.width_px(text, size);
        let mut pen = match h {
            HPos::Left => f64::from(x),
            HPos::Center => f64::from(x) - width / 2.0,
            HPos::Right => f64::from(x) - width,
        };
        let style = text_style(size, color, (HPos::Left, v));
        let mut glyph = [0u8; 4];
        for c in text.chars() {
            let (advance, bearing) = metrics.h_metrics(metrics.glyph_id(c));
            if !c.is_whitespace() {
                let gx = pen.round() as i32 + (f64::from(bearing) * scale).floor() as i32;
                let one: &str = c.encode_utf8(&mut glyph);
                self.root.draw(&Text::new(one, (gx, y), style.clone()))?;
            }
            pen += f64::from(advance) * scale;
        }
        Ok(())
    }

    /// Filled rectangle between two corners in any order; nothing for zero area.
    fn rect(&self, a: (i32, i32), b: (i32, i32), color: RGBColor) -> DrawResult<(), DB> {
        if a.0 == b.0 || a.1 == b.1 {
            return Ok(());
        }
        let corners = [(a.0.min(b.0), a.1.min(b.1)), (a.0.max(b.0), a.1.max(b.1))];
        self.root.draw(&Rectangle::new(corners, color.filled()))
    }

    fn line(&self, points: Vec<(i32, i32)>, color: RGBColor, width: u32) -> DrawResult<(), DB> {
        self.root
            .draw(&PathElement::new(points, color.stroke_width(width)))
    }

    fn dot(&self, at: (i32, i32), radius: i32, color: RGBColor) -> DrawResult<(), DB> {
        self.root.draw(&Circle::new(at, radius, color.filled()))
    }
}

/// Linear map from data values to pixels (`from` for `lo`, `to` for `hi`).
#[derive(Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    from: i32,
    to: i32,
}

impl Scale {
    fn px(&self, v: f64) -> i32 {
        let t = if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        };
        (f64::from(self.from) + t * f64::from(self.to - self.from)).round() as i32
    }
}

/// The plot rectangle in absolute pixels.
#[derive(Clone, Copy)]
struct Frame {
    left: i32,
    top: i32,
    right: i32,
    bottom: i32,
}

impl Frame {
    fn x_scale(&self, lo: f64, hi: f64) -> Scale {
        Scale {
            lo,
            hi,
            from: self.left,
            to: self.right,
        }
    }

    fn y_scale(&self, lo: f64, hi: f64) -> Scale {
        Scale {
            lo,
            hi,
            from: self.bottom,
            to: self.top,
        }
    }

    /// Centre of slot `i` of `n` equal slots along `from..to`.
    fn slot(from: i32, to: i32, n: usize, i: usize) -> i32 {
        let step = f64::from(to - from) / n as f64;
        (f64::from(from) + step * (i as f64 + 0.5)).round() as i32
    }
}

// ---------------------------------------------------------------------------
// Axis ticks

/// Tick label with thousands separators and at most two decimals:
/// 1234567 → "1,234,567", 0.85 → "0.85", -1500.5 → "-1,500.5".
fn fmt_tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    // Rounding first drops float noise such as 0.30000000000000004.
    let rounded = if v.abs() < 1e13 {
        (v * 100.0).round() / 100.0
    } else {
        v.round()
    };
    let fixed = format!("{:.2}", rounded.abs());
    let digits = fixed.trim_end_matches('0').trim_end_matches('.');
    let sign = if rounded < 0.0 && digits != "0" {
        "-"
    } else {
        ""
    };
    format!("{sign}{}", super::table::group_thousands(digits))
}

/// plotters' "nice" key points (1, 2, 5 × 10^k steps), at most `max` of them.
fn nice_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    RangedCoordf64::from(lo..hi).key_points(max)
}

/// Ticks for a horizontal axis, thinned until each label has room.
fn x_ticks(lo: f64, hi: f64, plot_w: i32, fmt: &dyn Fn(f64) -> String) -> Vec<f64> {
    let mut max = MAX_TICKS;
    loop {
        let ticks = nice_ticks(lo, hi, max);
        let widest = ticks
            .iter()
            .map(|&t| text_width(&fmt(t), TEXT_SIZE))
            .max()
            .unwrap_or(0);
        let room = plot_w / (ticks.len() as i32).max(1);
        if max <= 2 || room >= widest + 24 {
            return ticks;
        }
        max -= 1;
    }
}

/// Ticks for a vertical axis: one label per ~60 px at most.
fn y_ticks(lo: f64, hi: f64, plot_h: i32) -> Vec<f64> {
    let max = usize::try_from(plot_h / 60)
        .unwrap_or(2)
        .clamp(2, MAX_TICKS);
    nice_ticks(lo, hi, max)
}

fn widest_tick(ticks: &[f64]) -> i32 {
    ticks
        .iter()
        .map(|&t| text_width(&fmt_tick(t), TEXT_SIZE))
        .max()
        .unwrap_or(0)
}

/// Grid, ticks and labels of a horizontal value axis under the frame, with the
/// description centred below.
fn draw_x_value_axis<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    frame: Frame,
    xs: Scale,
    fmt: &dyn Fn(f64) -> String,
    desc: &str,
) -> DrawResult<(), DB> {
    let ticks = x_ticks(xs.lo, xs.hi, frame.right - frame.left, fmt);
    let label_y = frame.bottom + TICK_LEN + TICK_GAP;
    for t in ticks {
        let x = xs.px(t);
        if x < frame.left - 1 || x > frame.right + 1 {
            continue;
        }
        canvas.line(vec![(x, frame.top), (x, frame.bottom)], GRID, 1)?;
        canvas.line(
            vec![(x, frame.bottom), (x, frame.bottom + TICK_LEN)],
            AXIS,
            2,
        )?;
        let label = fmt(t);
        // Keep end labels inside the canvas.
        let half = text_width(&label, TEXT_SIZE) / 2;
        let lx = x.clamp(half + 4, canvas.width() - half - 4);
        canvas.text(
            &label,
            (lx, label_y),
            TEXT_SIZE,
            INK,
            (HPos::Center, VPos::Top),
        )?;
    }
    canvas.line(
        vec![(frame.left, frame.bottom), (frame.right, frame.bottom)],
        AXIS,
        2,
    )?;
    let desc = fit_text(desc, DESC_SIZE, canvas.width() - 2 * MARGIN);
    let centre = (frame.left + frame.right) / 2;
    let desc_y = label_y + TEXT_LINE + 18;
    canvas.text(
        &desc,
        (centre, desc_y),
        DESC_SIZE,
        INK,
        (HPos::Center, VPos::Top),
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Left,
    Right,
}

/// Ticks and labels of a vertical value axis on one side of the frame; the left
/// axis also draws the horizontal grid.
fn draw_y_value_axis<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    frame: Frame,
    ys: Scale,
    side: Side,
) -> DrawResult<(), DB> {
    let (x, dir, anchor) = match side {
        Side::Left => (frame.left, -1, HPos::Right),
        Side::Right => (frame.right, 1, HPos::Left),
    };
    for t in y_ticks(ys.lo, ys.hi, frame.bottom - frame.top) {
        let y = ys.px(t);
        if y < frame.top - 1 || y > frame.bottom + 1 {
            continue;
        }
        if side == Side::Left {
            canvas.line(vec![(frame.left, y), (frame.right, y)], GRID, 1)?;
        }
        canvas.line(vec![(x, y), (x + dir * TICK_LEN, y)], AXIS, 2)?;
        let at = (x + dir * (TICK_LEN + TICK_GAP), y);
        canvas.text(&fmt_tick(t), at, TEXT_SIZE, INK, (anchor, VPos::Center))?;
    }
    canvas.line(vec![(x, frame.top), (x, frame.bottom)], AXIS, 2)
}

// ---------------------------------------------------------------------------
// Drawing: common parts

fn draw_chart<DB: DrawingBackend>(canvas: &Canvas<DB>, chart: &Chart) -> DrawResult<(), DB> {
    canvas.root.fill(&WHITE)?;
    let top = draw_title(canvas, &chart.title)?;
    if !has_data(&chart.data) {
        return draw_no_data(canvas, top);
    }
    match &chart.data {
        ChartData::HBar {
            categories,
            values,
            value_labels,
            axis_label,
        } => {
            let bars = HBar {
                categories,
                values,
                labels: value_labels,
                axis_label,
            };
            draw_hbar(canvas, top, &bars)
        }
        ChartData::Monthly {
            x,
            bars,
            lines,
            axis_label,
            secondary_axis_label,
        } => {
            // A right axis only makes sense beside bars on the left; without bars the
            // lines take the left axis under their own description.
            let (left, right) = match (bars, secondary_axis_label.as_deref()) {
                (Some(_), Some(right)) => (axis_label.as_str(), Some(right)),
                (None, Some(lines_label)) => (lines_label, None),
                (_, None) => (axis_label.as_str(), None),
            };
            let monthly = Monthly {
                x,
                bars: bars.as_ref(),
                lines,
                left,
                right,
            };
            draw_monthly(canvas, top, &monthly)
        }
        ChartData::Pyramid {
            bands,
            left,
            right,
            axis_label,
        } => draw_pyramid(canvas, top, bands, [left, right], axis_label),
    }
}

/// Draws the title centred at the top, shrinking it to fit; returns the y where
/// the rest of the chart may start.
fn draw_title<DB: DrawingBackend>(canvas: &Canvas<DB>, title: &str) -> DrawResult<i32, DB> {
    let width = canvas.width();
    let max_w = width - 2 * MARGIN;
    let mut size = TITLE_SIZE;
    while size > MIN_TITLE_SIZE && text_width(title, size) > max_w {
        size -= 2.0;
    }
    let text = fit_text(title, size, max_w);
    let anchor = (HPos::Center, VPos::Top);
    canvas.text(&text, (width / 2, TITLE_TOP), size, INK, anchor)?;
    Ok(TITLE_TOP + size as i32 + 16)
}

fn draw_no_data<DB: DrawingBackend>(canvas: &Canvas<DB>, top: i32) -> DrawResult<(), DB> {
    let centre = (canvas.width() / 2, (top + canvas.height()) / 2);
    let anchor = (HPos::Center, VPos::Center);
    canvas.text(NO_DATA_TEXT, centre, NO_DATA_SIZE, MUTED, anchor)
}

#[derive(Clone, Copy)]
enum Mark {
    Bar,
    Line,
}

struct LegendEntry<'a> {
    name: &'a str,
    color: RGBColor,
    mark: Mark,
}

fn legend_item_width(entry: &LegendEntry) -> i32 {
    LEGEND_MARK + 10 + text_width(entry.name, TEXT_SIZE)
}

/// Greedy rows of legend entries that fit `max_w`.
fn legend_rows<'e, 'a>(
    entries: &'e [LegendEntry<'a>],
    max_w: i32,
) -> Vec<Vec<&'e LegendEntry<'a>>> {
    let mut rows: Vec<Vec<&LegendEntry>> = Vec::new();
    let mut used = 0;
    for entry in entries {
        let w = legend_item_width(entry);
        match rows.last_mut() {
            Some(row) if used + LEGEND_GAP + w <= max_w => {
                row.push(entry);
                used += LEGEND_GAP + w;
            }
            _ => {
                rows.push(vec![entry]);
                used = w;
            }
        }
    }
    rows
}

/// A centred legend strip under the title (never over the data); returns its height.
fn draw_legend<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    top: i32,
    entries: &[LegendEntry],
) -> DrawResult<i32, DB> {
    let width = canvas.width();
    let rows = legend_rows(entries, width - 2 * MARGIN);
    for (r, row) in rows.iter().enumerate() {
        let gaps = LEGEND_GAP * (row.len() as i32 - 1);
        let row_w: i32 = row.iter().map(|e| legend_item_width(e)).sum::<i32>() + gaps;
        let y = top + r as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        let mut x = (width - row_w) / 2;
        for entry in row {
            draw_legend_mark(canvas, entry, x, y)?;
            let at = (x + LEGEND_MARK + 10, y);
            canvas.text(entry.name, at, TEXT_SIZE, INK, (HPos::Left, VPos::Center))?;
            x += legend_item_width(entry) + LEGEND_GAP;
        }
    }
    Ok(rows.len() as i32 * LEGEND_ROW + 6)
}

fn draw_legend_mark<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    entry: &LegendEntry,
    x: i32,
    y: i32,
) -> DrawResult<(), DB> {
    match entry.mark {
        Mark::Bar => canvas.rect((x + 4, y - 10), (x + LEGEND_MARK - 4, y + 10), entry.color),
        Mark::Line => {
            canvas.line(vec![(x, y), (x + LEGEND_MARK, y)], entry.color, 3)?;
            canvas.dot((x + LEGEND_MARK / 2, y), 5, entry.color)
        }
    }
}

/// Finite min and max of the values, if any.
fn finite_bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Padded range for a value axis. Bars need the zero baseline (`include_zero`) and
/// start exactly there; lines float so small changes in big numbers stay visible.
/// Flat or empty data still gets a non-empty range.
fn value_range(values: impl IntoIterator<Item = f64>, include_zero: bool) -> (f64, f64) {
    let (min, max) = finite_bounds(values).unwrap_or((0.0, 0.0));
    let (mut lo, mut hi) = if include_zero {
        (min.min(0.0), max.max(0.0))
    } else {
        (min, max)
    };
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.08
    } else {
        (hi.abs() * 0.1).max(1.0)
    };
    if !(include_zero && lo == 0.0) {
        lo -= pad;
    }
    if !(include_zero && hi == 0.0 && span > 0.0) {
        hi += pad;
    }
    // Non-negative data never gets a negative axis.
    if min >= 0.0 && lo < 0.0 {
        lo = 0.0;
    }
    (lo, hi)
}

/// Half the thickness of a bar in pixels: `share` of its slot, capped.
fn bar_half(slot_px: f64, share: f64) -> i32 {
    (slot_px * share).clamp(1.0, MAX_BAR_HALF_PX).round() as i32
}

/// A dark line at value 0 when the axis spans both signs.
fn zero_line<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    scale: Scale,
    span: (i32, i32),
    vertical: bool,
) -> DrawResult<(), DB> {
    if !(scale.lo < 0.0 && scale.hi > 0.0) {
        return Ok(());
    }
    let p = scale.px(0.0);
    let points = if vertical {
        vec![(p, span.0), (p, span.1)]
    } else {
        vec![(span.0, p), (span.1, p)]
    };
    canvas.line(points, AXIS, 2)
}

// ---------------------------------------------------------------------------
// HBar

struct HBar<'a> {
    categories: &'a [String],
    values: &'a [f64],
    labels: &'a [String],
    axis_label: &'a str,
}

fn draw_hbar<DB: DrawingBackend>(canvas: &Canvas<DB>, top: i32, d: &HBar) -> DrawResult<(), DB> {
    let (width, height) = (canvas.width(), canvas.height());
    let n = d.categories.len();
    // Category labels may take up to 40% of the width; longer ones are cut with "…".
    let cats: Vec<String> = (d.categories.iter())
        .map(|c| fit_text(c, TEXT_SIZE, width * 2 / 5))
        .collect();
    let label_w = cats.iter().map(|c| text_width(c, TEXT_SIZE)).max();
    let frame = Frame {
        left: MARGIN + label_w.unwrap_or(0) + 16,
        top: top + 10,
        right: width - MARGIN - 10,
        bottom: height - MARGIN - VALUE_AXIS_AREA,
    };
    // Room for value labels beside the bars: right of non-negative, left of negative.
    let room = |negative: bool| {
        let labelled = d.values.iter().zip(d.labels);
        let widths = labelled
            .filter(|(v, _)| (**v < 0.0) == negative)
            .map(|(_, l)| text_width(l, TEXT_SIZE) + 16);
        widths.max().unwrap_or(0)
    };
    let plot_w = frame.right - frame.left;
    let (lo, hi) = hbar_x_range(d.values, plot_w, room(true), room(false));
    let xs = frame.x_scale(lo, hi);
    draw_x_value_axis(canvas, frame, xs, &fmt_tick, d.axis_label)?;

    let slot_px = f64::from(frame.bottom - frame.top) / n as f64;
    let half = bar_half(slot_px, 0.32);
    let zero = xs.px(0.0);
    for (i, cat) in cats.iter().enumerate() {
        // First category on top.
        let y = Frame::slot(frame.top, frame.bottom, n, i);
        let at = (frame.left - 12, y);
        canvas.text(cat, at, TEXT_SIZE, INK, (HPos::Right, VPos::Center))?;
        let v = if d.values[i].is_finite() {
            d.values[i]
        } else {
            0.0
        };
        let end = xs.px(v);
        canvas.rect((zero, y - half), (end, y + half), BLUE_)?;
        let (anchor, at) = if v < 0.0 {
            (HPos::Right, (end - 8, y))
        } else {
            (HPos::Left, (end + 8, y))
        };
        canvas.text(&d.labels[i], at, TEXT_SIZE, INK, (anchor, VPos::Center))?;
    }
    let baseline = if lo < 0.0 { zero } else { frame.left };
    canvas.line(
        vec![(baseline, frame.top), (baseline, frame.bottom)],
        AXIS,
        2,
    )
}

/// Value range of an HBar: data from min(0, …) to max(0, …), widened so the value
/// labels (`left_room`/`right_room` pixels) fit beside the longest bars.
fn hbar_x_range(values: &[f64], plot_w: i32, left_room: i32, right_room: i32) -> (f64, f64) {
    let (min, max) = finite_bounds(values.iter().copied()).unwrap_or((0.0, 0.0));
    let (lo, hi) = (min.min(0.0), max.max(0.0));
    let span = if hi > lo { hi - lo } else { 1.0 };
    // Keep at least a third of the plot for the bars themselves.
    let data_px = (plot_w - left_room - right_room).max(plot_w / 3).max(1);
    let per_px = span / f64::from(data_px);
    let hi = lo + span;
    let lo = lo - f64::from(left_room) * per_px;
    (lo, hi + f64::from(right_room) * per_px)
}

// ---------------------------------------------------------------------------
// Monthly

struct Monthly<'a> {
    x: &'a [String],
    bars: Option<&'a Series>,
    lines: &'a [Series],
    /// Description of the left axis.
    left: &'a str,
    /// Some: lines go on a right axis with this description.
    right: Option<&'a str>,
}

fn monthly_legend<'a>(bars: Option<&'a Series>, lines: &'a [Series]) -> Vec<LegendEntry<'a>> {
    let bar = bars.map(|s| LegendEntry {
        name: &s.name,
        color: PALETTE[0],
        mark: Mark::Bar,
    });
    // Lines continue the palette after the bar colour so no two series share one.
    let offset = usize::from(bars.is_some());
    let lines = lines.iter().enumerate().map(|(k, s)| LegendEntry {
        name: &s.name,
        color: PALETTE[(k + offset) % PALETTE.len()],
        mark: Mark::Line,
    });
    bar.into_iter().chain(lines).collect()
}

fn draw_monthly<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    top: i32,
    d: &Monthly,
) -> DrawResult<(), DB> {
    let legend = monthly_legend(d.bars, d.lines);
    let top = top + draw_legend(canvas, top + 4, &legend)?;
    let bar_values = d.bars.iter().flat_map(|s| s.values.iter().copied());
    let line_values = d.lines.iter().flat_map(|s| s.values.iter().copied());
    let (lo, hi) = match d.right {
        Some(_) => value_range(bar_values, true),
        None => value_range(bar_values.chain(line_values.clone()), d.bars.is_some()),
    };
    let right_range = d.right.map(|_| value_range(line_values, false));

    let frame = monthly_frame(canvas, top, (lo, hi), right_range);
    let ys = frame.y_scale(lo, hi);
    let rs = right_range.map_or(ys, |(rlo, rhi)| frame.y_scale(rlo, rhi));
    draw_unit_labels(canvas, frame, d.left, d.right)?;
    draw_y_value_axis(canvas, frame, ys, Side::Left)?;
    if d.right.is_some() {
        draw_y_value_axis(canvas, frame, rs, Side::Right)?;
    }

    let n = d.x.len();
    let xs: Vec<i32> = (0..n)
        .map(|i| Frame::slot(frame.left, frame.right, n, i))
        .collect();
    let slot_px = f64::from(frame.right - frame.left) / n as f64;
    if let Some(series) = d.bars {
        let half = bar_half(slot_px, 0.3);
        for (&x, &v) in xs.iter().zip(&series.values) {
            if v.is_finite() {
                canvas.rect((x - half, ys.px(0.0)), (x + half, ys.px(v)), PALETTE[0])?;
            }
        }
    }
    zero_line(canvas, ys, (frame.left, frame.right), false)?;
    let line_entries = legend.iter().skip(usize::from(d.bars.is_some()));
    for (series, entry) in d.lines.iter().zip(line_entries) {
        draw_line_series(canvas, &xs, rs, &series.values, entry.color, slot_px)?;
    }
    canvas.line(
        vec![(frame.left, frame.bottom), (frame.right, frame.bottom)],
        AXIS,
        2,
    )?;
    draw_month_labels(canvas, d.x, &xs, frame.bottom, slot_px)
}

/// Plot frame of a Monthly chart: tick label widths decide the side margins.
fn monthly_frame<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    top: i32,
    (lo, hi): (f64, f64),
    right: Option<(f64, f64)>,
) -> Frame {
    let top = top + UNIT_STRIP;
    let bottom = canvas.height() - MARGIN - MONTH_AXIS_AREA;
    let label_room = |(lo, hi): (f64, f64)| {
        widest_tick(&y_ticks(lo, hi, bottom - top)) + TICK_LEN + TICK_GAP + 6
    };
    let right_room = right.map_or(20, label_room);
    Frame {
        left: MARGIN + label_room((lo, hi)),
        top,
        right: canvas.width() - MARGIN - right_room,
        bottom,
    }
}

/// Axis units sit above each vertical axis, horizontally: readable without turning
/// one's head, and no rotated text.
fn draw_unit_labels<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    frame: Frame,
    left: &str,
    right: Option<&str>,
) -> DrawResult<(), DB> {
    let max_w = match right {
        Some(_) => canvas.width() / 2 - 2 * MARGIN,
        None => canvas.width() - 2 * MARGIN,
    };
    // Clear of the top tick label, which is centred on frame.top.
    let y = frame.top - 24;
    let left = fit_text(left, DESC_SIZE, max_w);
    let anchor = (HPos::Left, VPos::Bottom);
    canvas.text(&left, (MARGIN, y), DESC_SIZE, INK, anchor)?;
    if let Some(right) = right {
        let right = fit_text(right, DESC_SIZE, max_w);
        let at = (canvas.width() - MARGIN, y);
        canvas.text(&right, at, DESC_SIZE, INK, (HPos::Right, VPos::Bottom))?;
    }
    Ok(())
}

/// A line broken at missing (non-finite) values, with a marker per point.
fn draw_line_series<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    xs: &[i32],
    scale: Scale,
    values: &[f64],
    color: RGBColor,
    slot_px: f64,
) -> DrawResult<(), DB> {
    let points: Vec<Option<(i32, i32)>> = xs
        .iter()
        .zip(values)
        .map(|(&x, &v)| v.is_finite().then(|| (x, scale.px(v))))
        .collect();
    for run in points.split(Option::is_none).filter(|run| run.len() > 1) {
        canvas.line(run.iter().flatten().copied().collect(), color, 3)?;
    }
    // Markers only while they stay apart.
    let radius = if slot_px >= 20.0 { 5 } else { 3 };
    if slot_px >= 8.0 {
        for &p in points.iter().flatten() {
            canvas.dot(p, radius, color)?;
        }
    }
    Ok(())
}

/// Month labels under the axis, every `step`-th one so they never overlap; the
/// latest month is always labelled. Every month keeps a tick mark while they fit.
fn draw_month_labels<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    months: &[String],
    xs: &[i32],
    axis_y: i32,
    slot_px: f64,
) -> DrawResult<(), DB> {
    let n = months.len();
    let widest = months.iter().map(|m| text_width(m, TEXT_SIZE)).max();
    let needed = f64::from(widest.unwrap_or(0) + 20);
    let step = month_step(((needed / slot_px.max(1.0)).ceil() as usize).max(1));
    for (i, (month, &x)) in months.iter().zip(xs).enumerate() {
        let labelled = (n - 1 - i).is_multiple_of(step);
        if labelled || slot_px >= 4.0 {
            canvas.line(vec![(x, axis_y), (x, axis_y + TICK_LEN)], AXIS, 2)?;
        }
        if labelled {
            let at = (x, axis_y + TICK_LEN + TICK_GAP);
            canvas.text(month, at, TEXT_SIZE, INK, (HPos::Center, VPos::Top))?;
        }
    }
    Ok(())
}

/// The smallest calendar-friendly label step (divisors of a year, then whole years)
/// of at least `min` months, so labels fall on the same months every year.
fn month_step(min: usize) -> usize {
    [1, 2, 3, 4, 6, 12]
        .into_iter()
        .find(|&s| s >= min)
        .unwrap_or_else(|| min.div_ceil(12) * 12)
}

// ---------------------------------------------------------------------------
// Pyramid

fn draw_pyramid<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    top: i32,
    bands: &[String],
    sides: [&Series; 2],
    axis_label: &str,
) -> DrawResult<(), DB> {
    let colors = [BLUE_, RED_];
    let legend: Vec<LegendEntry> = (sides.iter().zip(colors))
        .map(|(s, color)| LegendEntry {
            name: &s.name,
            color,
            mark: Mark::Bar,
        })
        .collect();
    let top = top + draw_legend(canvas, top + 4, &legend)?;
    let (width, height) = (canvas.width(), canvas.height());
    let n = bands.len();
    let labels: Vec<String> = (bands.iter())
        .map(|b| fit_text(b, TEXT_SIZE, width / 5))
        .collect();
    let label_w = labels.iter().map(|b| text_width(b, TEXT_SIZE)).max();
    let frame = Frame {
        left: MARGIN + label_w.unwrap_or(0) + 16,
        top: top + 10,
        right: width - MARGIN - 30,
        bottom: height - MARGIN - VALUE_AXIS_AREA,
    };
    let all = sides.iter().flat_map(|s| s.values.iter().map(|v| v.abs()));
    let extent = finite_bounds(all).map_or(0.0, |(_, hi)| hi);
    let extent = if extent > 0.0 { extent * 1.08 } else { 1.0 };
    let xs = frame.x_scale(-extent, extent);
    // Both halves count people, so ticks left of centre read positive.
    let fmt = |v: f64| fmt_tick(v.abs());
    draw_x_value_axis(canvas, frame, xs, &fmt, axis_label)?;

    let slot_px = f64::from(frame.bottom - frame.top) / n as f64;
    let half = bar_half(slot_px, 0.4);
    let centre = xs.px(0.0);
    for (i, label) in labels.iter().enumerate() {
        // Youngest band at the bottom.
        let y = Frame::slot(frame.bottom, frame.top, n, i);
        let at = (frame.left - 12, y);
        canvas.text(label, at, TEXT_SIZE, INK, (HPos::Right, VPos::Center))?;
        for ((series, sign), color) in sides.iter().zip([-1.0, 1.0]).zip(colors) {
            let v = series.values[i];
            if v.is_finite() {
                canvas.rect((centre, y - half), (xs.px(sign * v), y + half), color)?;
            }
        }
    }
    canvas.line(vec![(centre, frame.top), (centre, frame.bottom)], AXIS, 2)
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder removed when the test ends.
    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("temporary folder")
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn coverage() -> Chart {
        Chart {
            name: "coverage".into(),
            title: "各乡镇参保率 Coverage by township (2026-10)".into(),
            data: ChartData::HBar {
                categories: strings(&["竹沟镇", "留庄镇", "三里河街道", "盘古乡"]),
                values: vec![84.69, 91.2, 77.05, 0.0],
                value_labels: strings(&["84.69%", "91.20%", "77.05%", "0.00%"]),
                axis_label: "参保率 (%)".into(),
            },
        }
    }

    fn monthly() -> Chart {
        let month = |i: i32| format!("{}-{:02}", 2024 + (i + 10) / 12, (i + 10) % 12 + 1);
        let series = |name: &str, base: f64, step: f64| Series {
            name: name.into(),
            values: (0..24).map(|i| base + step * f64::from(i)).collect(),
        };
        Chart {
            name: "payouts".into(),
            title: "每月发放 Monthly payouts".into(),
            data: ChartData::Monthly {
                x: (0..24).map(month).collect(),
                bars: Some(series("发放金额 (万元)", 1200.0, 10.0)),
                lines: vec![series("领取人数", 20000.0, 50.0)],
                axis_label: "万元".into(),
                secondary_axis_label: Some("人".into()),
            },
        }
    }

    fn empty() -> Chart {
        Chart {
            name: "empty".into(),
            title: "空图 Empty".into(),
            data: ChartData::Monthly {
                x: vec![],
                bars: None,
                lines: vec![],
                axis_label: "万元".into(),
                secondary_axis_label: None,
            },
        }
    }

    #[test]
    fn tick_format_groups_thousands() {
        assert_eq!(fmt_tick(1234567.0), "1,234,567");
        assert_eq!(fmt_tick(0.30000000000000004), "0.3");
        assert_eq!(fmt_tick(-1500.5), "-1,500.5");
        assert_eq!(fmt_tick(-0.001), "0");
        assert_eq!(fmt_tick(999.999), "1,000");
        assert_eq!(fmt_tick(12.345), "12.35");
        assert_eq!(fmt_tick(100.0), "100");
    }

    #[test]
    fn month_steps_are_calendar_friendly() {
        let steps: Vec<usize> = [1, 2, 5, 7, 12, 13, 25].map(month_step).to_vec();
        assert_eq!(steps, vec![1, 2, 6, 12, 12, 24, 36]);
    }

    #[test]
    fn font_metrics_match_plotters_measure() {
        let metrics = font().and_then(|f| f.metrics.as_ref()).expect("metrics");
        assert_ne!(metrics.glyph_id('镇'), 0);
        assert_ne!(metrics.glyph_id('A'), 0);
        let text = "各乡镇参保率 Coverage 2026-10";
        let ours = text_width(text, TEXT_SIZE);
        let (theirs, _) = (FONT_FAMILY, TEXT_SIZE)
            .into_font()
            .box_size(text)
            .expect("measure");
        assert!((ours - theirs as i32).abs() <= 3, "{ours} vs {theirs}");
    }

    #[test]
    fn empty_data_gives_files_with_note() {
        let dir = temp_dir();
        let (png, svg) = render(&empty(), dir.path()).expect("empty chart renders");
        assert!(png.is_file() && svg.is_file());
        let text = std::fs::read_to_string(&svg).expect("svg readable");
        assert!(text.contains("无数据"));
        assert!(text.contains("空图 Empty"));
    }

    #[test]
    fn degenerate_data_draws() {
        let one = ChartData::HBar {
            categories: strings(&["竹沟镇"]),
            values: vec![-3.0],
            value_labels: strings(&["-3"]),
            axis_label: "x".into(),
        };
        let zeros = ChartData::Pyramid {
            bands: strings(&["16-19", "85+"]),
            left: Series {
                name: "男".into(),
                values: vec![0.0, 0.0],
            },
            right: Series {
                name: "女".into(),
                values: vec![0.0, f64::NAN],
            },
            axis_label: "人".into(),
        };
        for data in [one, zeros] {
            let chart = Chart {
                name: "d".into(),
                title: "t".into(),
                data,
            };
            let svg = svg_string(&chart).expect("degenerate chart draws");
            assert!(!svg.contains("无数据"));
        }
    }

    #[test]
    fn svg_has_title_and_font_stack() {
        let svg = svg_string(&coverage()).expect("svg");
        assert!(svg.contains("各乡镇参保率 Coverage by township (2026-10)"));
        assert!(svg.contains("竹沟镇") && svg.contains("84.69%"));
        assert!(svg.contains(&format!("font-family=\"{SVG_FONT_STACK}\"")));
        assert!(!svg.contains(&format!("font-family=\"{FONT_FAMILY}\"")));
    }

    #[test]
    fn output_is_deterministic() {
        for chart in [coverage(), monthly()] {
            let first = svg_string(&chart).expect("svg");
            assert_eq!(first, svg_string(&chart).expect("svg"));
        }
        let (a, b) = (temp_dir(), temp_dir());
        let (png_a, svg_a) = render(&monthly(), a.path()).expect("render a");
        let (png_b, svg_b) = render(&monthly(), b.path()).expect("render b");
        let read = |p: &Path| std::fs::read(p).expect("read output");
        assert_eq!(read(&svg_a), read(&svg_b));
        assert_eq!(read(&png_a), read(&png_b));
    }

    #[test]
    fn png_has_ink() {
        let dir = temp_dir();
        let (png, _) = render(&monthly(), dir.path()).expect("render");
        let bytes = std::fs::read(&png).expect("png readable");
        assert!(bytes.starts_with(b"\x89PNG"));
        assert!(bytes.len() > 20_000, "PNG only {} bytes", bytes.len());

        // The same drawing into a raw RGB buffer: count pixels that are not white.
        let chart = coverage();
        let (w, h) = canvas_size(&chart);
        let mut buf = vec![0u8; (w * h * 3) as usize];
        let font = loaded_font(Path::new("buffer")).expect("font");
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            let canvas = Canvas {
                root: &root,
                glyphs: font.metrics.as_ref(),
            };
            draw_chart(&canvas, &chart).expect("draw");
            root.present().expect("present");
        }
        let inked = buf.chunks(3).filter(|p| p.iter().any(|&c| c < 200)).count();
        assert!(inked > 5_000, "only {inked} dark pixels");
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let mut chart = coverage();
        if let ChartData::HBar { values, .. } = &mut chart.data {
            values.pop();
        }
        let err = svg_string(&chart).expect_err("mismatch");
        assert!(err.to_string().contains("coverage.svg"), "{err}");
        let bad_name = Chart {
            name: "../x".into(),
            ..coverage()
        };
        assert!(matches!(
            svg_string(&bad_name),
            Err(ChartError::InvalidData { .. })
        ));
    }
}
