//! The leadership dashboard (领导驾驶舱): one self-contained HTML file — inline CSS
//! and SVG, no script, no network — built only from the aggregate report tables, so
//! no ID number, name or bank account can reach it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::def::Format;
use super::table::{Cell, Table};
use super::{chart, ReportError, ReportRun};

/// The key-figure tiles: (summary column, title, secondary line's column and prefix).
const TILES: &[(&str, &str, Option<(&str, &str)>)] = &[
    (
        "enrolled",
        "参保人数",
        Some(("covered", "应参保人员中已参保 ")),
    ),
    ("coverage_rate", "参保率", Some(("eligible", "应参保 "))),
    (
        "agreement_rate",
        "三方协议签订率",
        Some(("agreements", "已签 ")),
    ),
    (
        "beneficiaries",
        "领取待遇人数",
        Some(("beneficiaries_yoy", "同比增减 ")),
    ),
    ("beneficiaries_yoy_rate", "领取人数同比", None),
    (
        "paid_month",
        "本月发放(元)",
        Some(("payout_rate", "发放率 ")),
    ),
    ("paid_ytd", "本年累计发放(元)", None),
    ("fund_balance", "基金余额(元)", None),
    (
        "open_findings",
        "未结稽核疑点",
        Some(("amount_at_risk", "涉及金额 ¥")),
    ),
];

/// The page's style (also used by the workbench's dashboard, pipeline/serve/).
pub const CSS: &str = r#"
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#d9e2ec; --accent:#2E6FBA; --bg:#f5f7fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif;
  font-size: clamp(15px, 1.05vw, 22px); }
header { background:var(--accent); color:#fff; padding:1.1em 2em; }
header h1 { margin:0; font-size:1.7em; letter-spacing:.04em; }
header p { margin:.3em 0 0; opacity:.9; }
main { padding:1.2em 2em 2em; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(15em, 1fr)); gap:1em; }
.tile { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.9em 1.1em; }
.tile .k { color:var(--muted); font-size:.95em; }
.tile .v { font-size:2em; font-weight:700; margin:.15em 0; font-variant-numeric: tabular-nums; }
.tile .s { color:var(--muted); font-size:.9em; }
.notes { background:#fff4e5; border:1px solid #f0c36d; padding:.6em 1em; border-radius:6px; margin-bottom:1em; }
h2 { font-size:1.3em; margin:1.6em 0 .6em; border-left:5px solid var(--accent); padding-left:.5em; }
.charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(min(100%, 700px), 1fr)); gap:1em; }
/* Projectors and laptops (up to 1500 px wide): one chart per row, so the labels stay readable. */
@media (max-width: 1500px) { .charts { grid-template-columns: 1fr; } }
figure { margin:0; background:#fff; border:1px solid var(--line); border-radius:8px; padding:.5em; }
figure svg { width:100%; height:auto; display:block; }
table { border-collapse:collapse; width:100%; background:#fff; font-variant-numeric: tabular-nums; }
th, td { border:1px solid var(--line); padding:.45em .7em; }
th { background:#e8f0fa; }
td.n { text-align:right; }
tr.total td { font-weight:700; background:#f2f2f2; }
footer { color:var(--muted); font-size:.85em; padding:0 2em 2em; }
"#;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn require<'a>(run: &'a ReportRun, name: &str) -> Result<&'a Table, ReportError> {
    let t = run.table(name).ok_or_else(|| ReportError::Definition {
        path: Path::new("reports").join(format!("{name}.sql")),
        message: "the dashboard needs this report; restore it or its file name".into(),
    })?;
    if t.def.meta.list {
        // Lists carry personal data; the dashboard must never show one.
        return Err(ReportError::Definition {
            path: t.def.sql_path.clone(),
            message: "is a list for action (personal data) and cannot feed the dashboard".into(),
        });
    }
    Ok(t)
}

/// A key figure as a person reads it (in its column's format).
fn summary_value(t: &Table, col: &str) -> String {
    let format = t
        .columns()
        .iter()
        .find(|c| c.name == col)
        .map_or(Format::Text, |c| c.format);
    t.first(col).map_or("—".to_string(), |c| c.display(format))
}

fn tiles(html: &mut String, summary: &Table) {
    html.push_str("<section class=\"tiles\">");
    for (col, title, sub) in TILES {
        let value = summary_value(summary, col);
        let _ = write!(
            html,
            "<div class=\"tile\"><div class=\"k\">{}</div><div class=\"v\" data-kpi=\"{col}\">{}</div>",
            esc(title),
            esc(&value)
        );
        if let Some((c2, prefix)) = sub {
            let v2 = summary_value(summary, c2);
            let _ = write!(
                html,
                "<div class=\"s\">{}<span data-kpi=\"{c2}\">{}</span></div>",
                esc(prefix),
                esc(&v2)
            );
        }
        html.push_str("</div>");
    }
    html.push_str("</section>");
}

/// Townships: coverage from the coverage report, payouts from the benefits report.
fn township_table(html: &mut String, coverage: &Table, benefits: &Table) {
    let cols_c = ["eligible", "covered", "coverage_rate"];
    let cols_b = ["beneficiaries", "total_paid", "payout_rate"];
    let pick = |t: &Table, row: &[Cell], cols: &[&str]| -> Vec<String> {
        cols.iter()
            .map(|c| {
                let i = t.column_index(c);
                i.map_or("—".into(), |i| row[i].display(t.columns()[i].format))
            })
            .collect()
    };
    let key = |t: &Table, row: &[Cell]| {
        t.column_index("township")
            .map_or(String::new(), |i| row[i].csv_text(Format::Text))
    };
    let mut rows: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let blank = |n: usize| vec!["—".to_string(); n];
    for r in &coverage.rows {
        rows.entry(key(coverage, r))
            .or_insert((blank(3), blank(3)))
            .0 = pick(coverage, r, &cols_c);
    }
    for r in &benefits.rows {
        rows.entry(key(benefits, r))
            .or_insert((blank(3), blank(3)))
            .1 = pick(benefits, r, &cols_b);
    }
    html.push_str(
        "<table id=\"townships\"><thead><tr><th>乡镇(街道)</th><th>应参保人数</th><th>已参保人数</th>\
         <th>参保率</th><th>领取待遇人数</th><th>本月发放(元)</th><th>发放率</th></tr></thead><tbody>",
    );
    let mut line = |name: &str, c: &[String], b: &[String], class: &str| {
        let _ = write!(html, "<tr{class}><td>{}</td>", esc(name));
        for v in c.iter().chain(b) {
            let _ = write!(html, "<td class=\"n\">{}</td>", esc(v));
        }
        html.push_str("</tr>");
    };
    for (name, (c, b)) in &rows {
        line(name, c, b, "");
    }
    if let (Some(tc), Some(tb)) = (&coverage.totals, &benefits.totals) {
        line(
            "全县合计",
            &pick(coverage, tc, &cols_c),
            &pick(benefits, tb, &cols_b),
            " class=\"total\"",
        );
    }
    html.push_str("</tbody></table>");
}

/// The page as a string.
pub fn render(run: &ReportRun) -> Result<String, ReportError> {
    let month = run.month.format("%Y年%m月").to_string();
    let mut html = String::with_capacity(256 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>城乡居民养老保险 {month} 领导驾驶舱</title><style>{CSS}</style></head><body>\
         <header><h1>城乡居民基本养老保险 · {month}</h1>\
         <p>数据截至报告月末 · 生成时间 {} · 无个人信息 (aggregates only)</p></header><main>",
        esc(&run.generated_at)
    );
    html.push_str(&content(run)?);
    let _ = write!(html, "</main><footer>{FOOTER}</footer></body></html>\n");
    Ok(html)
}

/// What the dashboard says under its figures.
pub const FOOTER: &str = "参保率 = 应参保人员中已参保 ÷ 应参保人数（公安户籍正常、无死亡记录、16周岁以上、非在校学生、未参加职工养老保险）；\
         发放率 = 发放成功笔数 ÷ 应发笔数；金额单位：元。";

/// The page's content (notes, key figures, charts, township table) without the
/// document around it: the static page and the workbench both show it.
pub fn content(run: &ReportRun) -> Result<String, ReportError> {
    let summary = require(run, "00_summary")?;
    let coverage = require(run, "01_coverage_township")?;
    let benefits = require(run, "08_benefits_township")?;
    let mut html = String::with_capacity(256 * 1024);
    if !run.notes.is_empty() {
        html.push_str("<div class=\"notes\">");
        for n in &run.notes {
            let _ = write!(html, "<div>注意：{}</div>", esc(n));
        }
        html.push_str("</div>");
    }
    tiles(&mut html, summary);
    html.push_str("<h2>图表</h2><section class=\"charts\">");
    for c in &run.charts {
        let svg = chart::svg_string(c)?;
        let _ = write!(html, "<figure id=\"chart-{}\">{svg}</figure>", esc(&c.name));
    }
    html.push_str("</section><h2>各乡镇情况</h2>");
    township_table(&mut html, coverage, benefits);
    if let Some(card) = run.table("14_scorecard").filter(|t| !t.def.meta.list) {
        html.push_str("<h2>乡镇考核排名（月督查）</h2>");
        scorecard_table(&mut html, card);
    }
    Ok(html)
}

/// The scorecard's columns the dashboard shows, in order.
const SCORECARD: &[&str] = &[
    "rank",
    "township",
    "score",
    "coverage_rate",
    "contribution_rate",
    "deduction_rate",
    "cert_rate",
    "findings_open",
    "findings_resolved",
    "recovered",
];

/// The township scorecard, ranked, with the county line (its totals row).
fn scorecard_table(html: &mut String, t: &Table) {
    let cols: Vec<usize> = SCORECARD.iter().filter_map(|c| t.column_index(c)).collect();
    html.push_str("<table id=\"scorecard\"><thead><tr>");
    for &i in &cols {
        let _ = write!(html, "<th>{}</th>", esc(&t.columns()[i].label));
    }
    html.push_str("</tr></thead><tbody>");
    let mut line = |row: &[Cell], class: &str| {
        let _ = write!(html, "<tr{class}>");
        for &i in &cols {
            let c = &t.columns()[i];
            let v = row[i].display(c.format);
            let n = if c.format == Format::Text {
                ""
            } else {
                " class=\"n\""
            };
            let _ = write!(html, "<td{n}>{}</td>", esc(&v));
        }
        html.push_str("</tr>");
    };
    for r in &t.rows {
        line(r, "");
    }
    if let Some(total) = &t.totals {
        line(total, " class=\"total\"");
    }
    html.push_str("</tbody></table>");
}

/// Writes the dashboard page (atomically).
pub fn write(run: &ReportRun, path: &Path) -> Result<(), ReportError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(super::io_err(dir))?;
    }
    super::write_atomic(path, render(run)?.as_bytes())
}
