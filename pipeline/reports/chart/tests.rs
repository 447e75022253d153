//! Unit tests of the drawing: formats, steps, the font's metrics, and whole charts
//! drawn to files and buffers.

use std::path::Path;

use plotters::prelude::*;

use super::axis::fmt_tick;
use super::font::{font, loaded_font, text_width, FONT_FAMILY, SVG_FONT_STACK};
use super::monthly::month_step;
use super::style::TEXT_SIZE;
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
    assert_ne!(metrics.glyph_id('镇').0, 0);
    assert_ne!(metrics.glyph_id('A').0, 0);
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
