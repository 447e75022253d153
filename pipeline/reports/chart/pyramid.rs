//! The population pyramid: age bands bottom to top, men left and women right.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{bar_half, draw_x_value_axis, finite_bounds, fmt_tick};
use super::canvas::{Canvas, Frame};
use super::font::{fit_text, text_width};
use super::legend::{draw_legend, LegendEntry, Mark};
use super::style::*;
use super::{DrawResult, Series};

pub(super) fn draw_pyramid<DB: DrawingBackend>(
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
