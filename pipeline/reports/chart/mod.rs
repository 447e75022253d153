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

mod axis;
mod canvas;
mod font;
mod hbar;
mod legend;
mod monthly;
mod pyramid;
mod style;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use self::canvas::Canvas;
use self::font::{fit_text, loaded_font, text_width, FONT_FAMILY, SVG_FONT_STACK};
use self::hbar::{draw_hbar, HBar};
use self::monthly::{draw_monthly, Monthly};
use self::pyramid::draw_pyramid;
use self::style::*;

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
// Drawing: the parts every chart has, then its own kind

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
