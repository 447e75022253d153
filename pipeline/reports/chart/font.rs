//! The shipped CJK font: registered with plotters, and measured for layout.

use std::path::Path;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, ScaleFont};
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
    /// None only if ab_glyph cannot read the font; text then goes through
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

/// Horizontal metrics of the shipped font, from ab_glyph (the library plotters
/// renders with).
///
/// plotters 0.3.7's ab_glyph renderer drops every glyph's left side bearing (it draws
/// the outline at the pen position instead of pen + bearing), so each glyph shifts
/// left by its own bearing and "各乡镇" shows a gap after 乡. plotters exposes no
/// bearings, so bitmaps place each glyph separately at pen + bearing, with advances
/// and bearings from ab_glyph; text widths for layout come from here too.
pub(super) struct FontMetrics {
    font: FontRef<'static>,
    /// Pixels per font unit at plotters font size 1.
    pub(super) px_per_unit: f64,
}

impl FontMetrics {
    /// Face 0 of the collection: what plotters' `FontRef::try_from_slice` renders.
    fn parse(data: &'static [u8]) -> Option<Self> {
        let font = FontRef::try_from_slice(data).ok()?;
        // plotters scales by `PxScale::from(size)`: size pixels from ascent to
        // descent, so one unit is 1 / (ascent − descent) at size 1 — ab_glyph's own
        // horizontal scale factor at scale 1.
        let px_per_unit = f64::from(font.as_scaled(1.0).h_scale_factor());
        (px_per_unit.is_finite() && px_per_unit > 0.0).then_some(FontMetrics { font, px_per_unit })
    }

    /// The glyph for `c`; glyph 0 (the font's "missing" box) when it has none.
    pub(super) fn glyph_id(&self, c: char) -> GlyphId {
        self.font.glyph_id(c)
    }

    /// (advance width, left side bearing) in font units.
    pub(super) fn h_metrics(&self, glyph: GlyphId) -> (f32, f32) {
        (
            self.font.h_advance_unscaled(glyph),
            self.font.h_side_bearing_unscaled(glyph),
        )
    }

    pub(super) fn width_px(&self, text: &str, size: f64) -> f64 {
        let units: f64 = text
            .chars()
            .map(|c| f64::from(self.h_metrics(self.glyph_id(c)).0))
            .sum();
        units * self.px_per_unit * size
    }
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
