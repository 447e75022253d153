//! Pixel-space drawing on top of a plotters backend, and the maps from values to pixels.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::font::{text_style, FontMetrics};
use super::DrawResult;

pub(super) struct Canvas<'a, DB: DrawingBackend> {
    pub(super) root: &'a DrawingArea<DB, Shift>,
    /// Some: place glyphs one by one with their bearings (bitmaps, see FontMetrics).
    pub(super) glyphs: Option<&'static FontMetrics>,
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    pub(super) fn width(&self) -> i32 {
        self.root.dim_in_pixel().0 as i32
    }

    pub(super) fn height(&self) -> i32 {
        self.root.dim_in_pixel().1 as i32
    }

    pub(super) fn text(
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
    pub(super) fn glyph_text(
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
    pub(super) fn rect(&self, a: (i32, i32), b: (i32, i32), color: RGBColor) -> DrawResult<(), DB> {
        if a.0 == b.0 || a.1 == b.1 {
            return Ok(());
        }
        let corners = [(a.0.min(b.0), a.1.min(b.1)), (a.0.max(b.0), a.1.max(b.1))];
        self.root.draw(&Rectangle::new(corners, color.filled()))
    }

    pub(super) fn line(
        &self,
        points: Vec<(i32, i32)>,
        color: RGBColor,
        width: u32,
    ) -> DrawResult<(), DB> {
        self.root
            .draw(&PathElement::new(points, color.stroke_width(width)))
    }

    pub(super) fn dot(&self, at: (i32, i32), radius: i32, color: RGBColor) -> DrawResult<(), DB> {
        self.root.draw(&Circle::new(at, radius, color.filled()))
    }
}

/// Linear map from data values to pixels (`from` for `lo`, `to` for `hi`).
#[derive(Clone, Copy)]
pub(super) struct Scale {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) from: i32,
    pub(super) to: i32,
}

impl Scale {
    pub(super) fn px(&self, v: f64) -> i32 {
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
pub(super) struct Frame {
    pub(super) left: i32,
    pub(super) top: i32,
    pub(super) right: i32,
    pub(super) bottom: i32,
}

impl Frame {
    pub(super) fn x_scale(&self, lo: f64, hi: f64) -> Scale {
        Scale {
            lo,
            hi,
            from: self.left,
            to: self.right,
        }
    }

    pub(super) fn y_scale(&self, lo: f64, hi: f64) -> Scale {
        Scale {
            lo,
            hi,
            from: self.bottom,
            to: self.top,
        }
    }

    /// Centre of slot `i` of `n` equal slots along `from..to`.
    pub(super) fn slot(from: i32, to: i32, n: usize, i: usize) -> i32 {
        let step = f64::from(to - from) / n as f64;
        (f64::from(from) + step * (i as f64 + 0.5)).round() as i32
    }
}
