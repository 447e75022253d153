//! Horizontal bars, one per category (coverage by township, findings by check).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{bar_half, draw_x_value_axis, finite_bounds, fmt_tick};
use super::canvas::{Canvas, Frame};
use super::font::{fit_text, text_width};
use super::style::*;
use super::DrawResult;

pub(super) struct HBar<'a> {
    pub(super) categories: &'a [String],
    pub(super) values: &'a [f64],
    pub(super) labels: &'a [String],
    pub(super) axis_label: &'a str,
}

pub(super) fn draw_hbar<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    top: i32,
    d: &HBar,
) -> DrawResult<(), DB> {
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
pub(super) fn hbar_x_range(
    values: &[f64],
    plot_w: i32,
    left_room: i32,
    right_room: i32,
) -> (f64, f64) {
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
