//! The look of every chart: canvas and text sizes, spacing, colours.

use plotters::style::RGBColor;

pub(super) const NO_DATA_TEXT: &str = "无数据 (no data)";

pub(super) const WIDTH: u32 = 1600;
pub(super) const MIN_HEIGHT: u32 = 900;

// plotters sizes are ab_glyph pixel heights (ascent to descent): a CJK glyph is about
// 0.85 × size wide, and the SVG backend writes font-size = size / 1.24. So 26 gives
// ≈21-22 px text, readable on a projector.
pub(super) const TITLE_SIZE: f64 = 44.0;
pub(super) const MIN_TITLE_SIZE: f64 = 30.0;
pub(super) const TEXT_SIZE: f64 = 26.0;
pub(super) const DESC_SIZE: f64 = 28.0;
pub(super) const NO_DATA_SIZE: f64 = 36.0;
/// Height of a line of TEXT_SIZE text as plotters lays it out (size / 1.24).
pub(super) const TEXT_LINE: i32 = 21;

pub(super) const MARGIN: i32 = 30;
pub(super) const TITLE_TOP: i32 = 20;
/// Gap between an axis and its tick labels.
pub(super) const TICK_GAP: i32 = 10;
pub(super) const TICK_LEN: i32 = 6;
/// Under a horizontal value axis: tick labels, then the axis description.
pub(super) const VALUE_AXIS_AREA: i32 = 90;
/// Under the month axis: one row of labels.
pub(super) const MONTH_AXIS_AREA: i32 = 50;
/// Above a Monthly plot: the unit descriptions of the vertical axes.
pub(super) const UNIT_STRIP: i32 = 52;
/// Vertical space per category so labels of neighbouring rows never touch.
pub(super) const ROW_HEIGHT: u32 = 46;
/// Everything of an HBar/Pyramid canvas that is not rows: title, legend, axis, margins.
pub(super) const ROW_CHART_CHROME: u32 = 240;
pub(super) const LEGEND_ROW: i32 = 40;
pub(super) const LEGEND_MARK: i32 = 36;
pub(super) const LEGEND_GAP: i32 = 36;
/// Widest a bar may get, in pixels from its centre line (a single category would
/// otherwise fill the plot).
pub(super) const MAX_BAR_HALF_PX: f64 = 30.0;
pub(super) const MAX_TICKS: usize = 9;

pub(super) const BLUE_: RGBColor = RGBColor(0x2E, 0x6F, 0xBA);
pub(super) const ORANGE: RGBColor = RGBColor(0xE0, 0x7B, 0x39);
pub(super) const GREEN_: RGBColor = RGBColor(0x4C, 0x9A, 0x5F);
pub(super) const PURPLE: RGBColor = RGBColor(0x8E, 0x5E, 0xA2);
pub(super) const RED_: RGBColor = RGBColor(0xC0, 0x50, 0x4D);
pub(super) const PALETTE: [RGBColor; 5] = [BLUE_, ORANGE, GREEN_, PURPLE, RED_];
pub(super) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(super) const AXIS: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(super) const GRID: RGBColor = RGBColor(0xE2, 0xE2, 0xE2);
pub(super) const MUTED: RGBColor = RGBColor(0x88, 0x88, 0x88);
