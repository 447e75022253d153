//! Report and chart definitions: plain files in `reports/` (one SQL file per table
//! with a TOML file of metadata beside it; charts likewise in `reports/charts/`), so
//! a statistician changes a report by editing them, not the program. They are built
//! into the binary; a definitions folder replaces or adds files (pipeline/defs.rs).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ReportError;
use crate::defs::{parse_toml, DefFile, DefSource};

/// How a column's values are written (XLSX number format, CSV text, chart labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Text,
    Integer,
    /// Yuan with two decimals and thousands separators.
    Yuan,
    /// A fraction shown as a percentage with two decimals.
    Percent,
    Date,
}

/// Which package a report table or chart belongs to (`packages = [...]` in its
/// TOML; without it, the monthly package only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Package {
    /// 月报: `pipeline report --month`.
    Month,
    /// 季报 (季度工作总结): `pipeline report --quarter`.
    Quarter,
    /// 年报 (年度决算): `pipeline report --year`.
    Year,
    /// 基金支出计划表 (附表十四): `pipeline plan --year`.
    Plan,
    /// 村级公示 (rules 第五十六条): `pipeline notice --public`.
    Notice,
}

impl Package {
    /// The package's name in file names (`_prelude_plan.sql`) and in `packages = [...]`.
    pub fn name(self) -> &'static str {
        match self {
            Package::Month => "month",
            Package::Quarter => "quarter",
            Package::Year => "year",
            Package::Plan => "plan",
            Package::Notice => "notice",
        }
    }

    /// Whether the prelude file `path` runs for this package: `_prelude_month.sql`,
    /// `_prelude_quarter.sql`, `_prelude_year.sql`, `_prelude_plan.sql` and
    /// `_prelude_notice.sql` only for their own (after `_prelude.sql`, by name order),
    /// any other `_*.sql` (`_prelude.sql`) for every package.
    pub fn runs_prelude(self, path: &Path) -> bool {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let stem = stem.unwrap_or_default();
        let own = ["month", "quarter", "year", "plan", "notice"]
            .iter()
            .find(|n| stem == format!("_prelude_{n}"));
        own.is_none_or(|n| *n == self.name())
    }

    /// The package of a report period.
    pub fn of(period: crate::domain::Period) -> Package {
        match period.kind() {
            crate::domain::PeriodKind::Month => Package::Month,
            crate::domain::PeriodKind::Quarter => Package::Quarter,
            crate::domain::PeriodKind::Year => Package::Year,
        }
    }
}

fn month_only() -> Vec<Package> {
    vec![Package::Month]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// The SQL result column.
    pub name: String,
    /// The Chinese header.
    pub label: String,
    #[serde(default)]
    pub format: Format,
    /// Totals row: "sum", "count" (rows), or "a/b" (the ratio of two summed columns).
    pub total: Option<String>,
    /// Column width in characters (default: from the header and the values).
    pub width: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportMeta {
    pub title: String,
    pub title_en: String,
    /// Sheet name in the workbook (at most 31 characters).
    pub sheet: String,
    /// The label of the totals row; no totals row when absent.
    pub totals: Option<String>,
    /// A list for action (personal data): ID numbers are masked unless --unmasked,
    /// and the dashboard never shows it.
    #[serde(default)]
    pub list: bool,
    /// An official form that must carry whole ID numbers (附表十二, 十二之二: they go to
    /// the finance bureau with the money): its `mask_id(...)` shows them whole, as
    /// `--unmasked` would, and the sheet says so. Only with `list = true`.
    #[serde(default)]
    pub full_ids: bool,
    /// "vertical": a one-row table shown as label / value lines.
    pub layout: Option<String>,
    /// The packages the table is part of (default: the monthly one).
    #[serde(default = "month_only")]
    pub packages: Vec<Package>,
    /// Whether the province roll-up carries the table (default yes). The bank and
    /// finance-bureau reconciliations are each county's own (its bank accounts, its
    /// notices): a county export carries no statements, so they say `province = false`.
    #[serde(default = "yes")]
    pub province: bool,
    pub columns: Vec<ColumnDef>,
    /// A chart drawn from this table's rows (`[chart]`; its columns by name).
    pub chart: Option<ChartMeta>,
}

/// One report table: its name (the file stem), metadata and SQL.
#[derive(Debug, Clone)]
pub struct ReportDef {
    pub name: String,
    pub meta: ReportMeta,
    pub sql: String,
    pub sql_path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesDef {
    pub column: String,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    /// Horizontal bars: columns `category`, `value`.
    Hbar,
    /// Months on the x axis: column `month`, then the named series.
    Monthly,
    /// Age pyramid: column `band`, then the left and right series.
    Pyramid,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartMeta {
    /// File name of the chart; for a chart in a report's TOML (default: the report's).
    pub name: Option<String>,
    pub title: String,
    pub title_en: String,
    pub kind: ChartKind,
    pub axis_label: String,
    pub secondary_axis_label: Option<String>,
    /// Hbar: how values are written in bar labels, and a label template where
    /// `{column}` is that column's formatted value.
    #[serde(default)]
    pub format: Format,
    pub label: Option<String>,
    /// Hbar: values are multiplied by this for drawing (100 draws fractions as %).
    pub scale: Option<u32>,
    pub bars: Option<SeriesDef>,
    #[serde(default)]
    pub lines: Vec<SeriesDef>,
    pub left: Option<SeriesDef>,
    pub right: Option<SeriesDef>,
    /// Hbar: the columns holding the bar names and values (default `category`, `value`).
    pub category: Option<String>,
    pub value: Option<String>,
    /// Hbar: order the bars by value, "ascending" or "descending" (default: as queried).
    pub sort: Option<String>,
    /// The packages the chart is drawn in (default: the monthly one). A chart of a
    /// table's rows is drawn only where its table is computed.
    #[serde(default = "month_only")]
    pub packages: Vec<Package>,
}

/// Where a chart's rows come from.
#[derive(Debug, Clone)]
pub enum ChartSource {
    /// Its own query (`charts/N_name.sql`).
    Sql(String),
    /// The rows of a report table (a `[chart]` in the report's TOML).
    Table(String),
}

#[derive(Debug, Clone)]
pub struct ChartDef {
    pub name: String,
    pub meta: ChartMeta,
    pub source: ChartSource,
    /// The file to name in messages: the chart's SQL, or the TOML of its table.
    pub path: PathBuf,
}

/// The report package's definitions: `reports/` of the built-in definitions with
/// a definitions folder's files laid over them (pipeline/defs.rs).
#[derive(Debug, Clone)]
pub struct Definitions {
    /// `_prelude.sql` (and any other `_*.sql`), run first, in name order; a
    /// package's own (`_prelude_plan.sql`) only for that package.
    pub preludes: Vec<(PathBuf, String)>,
    pub reports: Vec<ReportDef>,
    pub charts: Vec<ChartDef>,
}

fn yes() -> bool {
    true
}

impl Definitions {
    /// The definitions the province roll-up runs per county: without the tables
    /// that say `province = false`.
    pub fn for_province(&self) -> Definitions {
        let mut defs = self.clone();
        defs.reports.retain(|d| d.meta.province);
        defs
    }
}

/// The metadata file of a SQL file; a SQL file without one is an error (a report
/// without labels would reach the statisticians as bare column names).
fn meta_of(sql: &DefFile, meta: Option<DefFile>) -> Result<DefFile, ReportError> {
    meta.ok_or_else(|| ReportError::Definition {
        path: sql.path.clone(),
        message: format!(
            "has no metadata file beside it; create {} with its title, sheet and columns",
            sql.path.with_extension("toml").display()
        ),
    })
}

fn check_columns(path: &Path, meta: &ReportMeta) -> Result<(), ReportError> {
    let bad = |message: String| ReportError::Definition {
        path: path.to_path_buf(),
        message,
    };
    if meta.sheet.chars().count() > 31 || meta.sheet.contains(['[', ']', ':', '*', '?', '/', '\\'])
    {
        return Err(bad(format!(
            "sheet name {:?} must be at most 31 characters without []:*?/\\",
            meta.sheet
        )));
    }
    if meta.full_ids && !meta.list {
        return Err(bad(
            "full_ids = true is for a form with personal data: add list = true, so that \
             the dashboard never shows it"
                .into(),
        ));
    }
    for c in &meta.columns {
        if let Some(t) = &c.total {
            if let Some((a, b)) = t.split_once('/') {
                for part in [a, b] {
                    if !meta.columns.iter().any(|x| x.name == part.trim()) {
                        return Err(bad(format!(
                            "column {}: total {t:?} names {part:?}, which is not a column",
                            c.name
                        )));
                    }
                }
            } else if t != "sum" && t != "count" {
                return Err(bad(format!(
                    "column {}: total must be \"sum\", \"count\" or \"a/b\", not {t:?}",
                    c.name
                )));
            }
        }
    }
    Ok(())
}

impl Definitions {
    /// The definitions this process uses (built in, or with `--definitions DIR`).
    pub fn load_default() -> Result<Definitions, ReportError> {
        Definitions::load(crate::defs::active())
    }

    /// `reports/*.sql` with their TOML beside them (files starting with `_` are
    /// preludes), then `reports/charts/`, from `src` (through the one loader of such
    /// pairs, `defs::DefSource::pairs`). A TOML file without its SQL is not a table.
    pub fn load(src: &DefSource) -> Result<Definitions, ReportError> {
        let mut preludes = Vec::new();
        let mut reports = Vec::new();
        let mut charts = Vec::new();
        for pair in src.pairs("reports", |_| true)? {
            let Some(sql) = pair.sql else { continue };
            if pair.name.starts_with('_') {
                preludes.push((sql.path, sql.text));
                continue;
            }
            let toml = meta_of(&sql, pair.meta)?;
            let meta: ReportMeta = parse_toml(&toml)?;
            check_columns(&toml.path, &meta)?;
            if let Some(chart) = &meta.chart {
                charts.push(ChartDef {
                    name: chart.name.clone().unwrap_or_else(|| pair.name.clone()),
                    meta: chart.clone(),
                    source: ChartSource::Table(pair.name.clone()),
                    path: toml.path.clone(),
                });
            }
            reports.push(ReportDef {
                name: pair.name,
                sql: sql.text,
                meta,
                sql_path: sql.path,
            });
        }
        for pair in src.pairs("reports/charts", |_| true)? {
            let Some(sql) = pair.sql else { continue };
            let meta: ChartMeta = parse_toml(&meta_of(&sql, pair.meta)?)?;
            charts.push(ChartDef {
                name: pair.name,
                source: ChartSource::Sql(sql.text),
                meta,
                path: sql.path,
            });
        }
        // Charts appear (workbook folder, dashboard) in the order of their names.
        charts.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Definitions {
            preludes,
            reports,
            charts,
        })
    }
}
