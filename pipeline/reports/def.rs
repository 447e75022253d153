//! Report and chart definitions: plain files in `reports/` (one SQL file per table
//! with a TOML file of metadata beside it; charts likewise in `reports/charts/`), so
//! a statistician changes a report by editing them, not the program.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ReportError;

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
    /// "vertical": a one-row table shown as label / value lines.
    pub layout: Option<String>,
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
}

/// Everything in a definitions folder.
#[derive(Debug, Clone)]
pub struct Definitions {
    pub dir: PathBuf,
    /// `_prelude.sql` (and any other `_*.sql`), run first, in name order.
    pub preludes: Vec<(PathBuf, String)>,
    pub reports: Vec<ReportDef>,
    pub charts: Vec<ChartDef>,
}

fn read(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    toml::from_str(&read(path)?).map_err(|e| ReportError::Definition {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The `.sql` files of a folder, sorted by name, split into `_` preludes and the rest.
fn sql_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), ReportError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    paths.sort();
    Ok(paths.into_iter().partition(|p| stem(p).starts_with('_')))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The metadata file beside a SQL file; a SQL file without one is an error (a
/// report without labels would reach the statisticians as bare column names).
fn meta_path(sql: &Path) -> Result<PathBuf, ReportError> {
    let toml = sql.with_extension("toml");
    if toml.is_file() {
        Ok(toml)
    } else {
        Err(ReportError::Definition {
            path: sql.to_path_buf(),
            message: format!(
                "has no metadata file beside it; create {} with its title, sheet and columns",
                toml.display()
            ),
        })
    }
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
    /// `$PIPELINE_REPORTS`, else `reports/` in the current folder, else the one
    /// shipped with the source.
    pub fn load_default() -> Result<Definitions, ReportError> {
        let candidates = [
            std::env::var_os("PIPELINE_REPORTS").map(PathBuf::from),
            Some(PathBuf::from("reports")),
            Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("reports")),
        ];
        let dir = candidates
            .into_iter()
            .flatten()
            .find(|d| d.join("_prelude.sql").is_file())
            .ok_or(ReportError::NotFound)?;
        Definitions::load(&dir)
    }

    pub fn load(dir: &Path) -> Result<Definitions, ReportError> {
        let (prelude_paths, report_paths) = sql_files(dir)?;
        let mut preludes = Vec::new();
        for p in prelude_paths {
            let text = read(&p)?;
            preludes.push((p, text));
        }
        let mut reports = Vec::new();
        let mut charts = Vec::new();
        for sql_path in report_paths {
            let toml = meta_path(&sql_path)?;
            let meta: ReportMeta = parse(&toml)?;
            check_columns(&toml, &meta)?;
            if let Some(chart) = &meta.chart {
                charts.push(ChartDef {
                    name: chart.name.clone().unwrap_or_else(|| stem(&sql_path)),
                    meta: chart.clone(),
                    source: ChartSource::Table(stem(&sql_path)),
                });
            }
            reports.push(ReportDef {
                name: stem(&sql_path),
                sql: read(&sql_path)?,
                meta,
                sql_path,
            });
        }
        let chart_dir = dir.join("charts");
        if chart_dir.is_dir() {
            for sql_path in sql_files(&chart_dir)?.1 {
                let meta: ChartMeta = parse(&meta_path(&sql_path)?)?;
                charts.push(ChartDef {
                    name: stem(&sql_path),
                    source: ChartSource::Sql(read(&sql_path)?),
                    meta,
                });
            }
        }
        // Charts appear (workbook folder, dashboard) in the order of their names.
        charts.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Definitions {
            dir: dir.to_path_buf(),
            preludes,
            reports,
            charts,
        })
    }
}
