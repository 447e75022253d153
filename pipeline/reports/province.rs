//! The province (全省汇总) on DuckDB, over the counties' exports (export.rs):
//! each county's monthly tables by the report SQL as it is, side by side with a
//! county column and a province total row; and the checks only a province can make
//! (`reports/province/<CODE>.sql`), over every county at once. Spark runs the same
//! SQL over the same files (`spark/province.py`); the figures must agree to the fen.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use duckdb::Connection;

use super::def::{ColumnDef, ReportDef, ReportMeta};
use super::table::{totals_row, Cell, Table};
use super::{io_err, Definitions, Format, Package, ReportError, ReportOptions, ReportRun};
use crate::warehouse::lit;

/// The label of the province's totals row.
pub const PROVINCE_TOTAL: &str = "全省合计";

/// The columns every cross-county check returns, in order (the checks' README).
pub const FINDING_COLUMNS: &[(&str, &str, Format)] = &[
    ("check_code", "疑点类型", Format::Text),
    ("id_number", "身份证号", Format::Text),
    ("county", "县(区)", Format::Text),
    ("person_no", "个人编号", Format::Text),
    ("other_county", "另一县(区)", Format::Text),
    ("other_person_no", "另一县个人编号", Format::Text),
    ("month_from", "起始年月", Format::Date),
    ("month_to", "截止年月", Format::Date),
    ("amount_at_risk", "涉及金额(元)", Format::Yuan),
    ("evidence", "依据", Format::Text),
];

/// One cross-county check: `reports/province/<CODE>.sql` and its metadata.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossCheckMeta {
    pub title: String,
    pub title_en: String,
    pub severity: String,
    /// Where the rule comes from (docs/rules.md).
    pub rule: String,
}

#[derive(Debug, Clone)]
pub struct CrossCheck {
    pub code: String,
    pub meta: CrossCheckMeta,
    pub sql: String,
    pub path: PathBuf,
}

/// The cross-county checks of the definitions in use.
pub fn cross_checks(src: &crate::defs::DefSource) -> Result<Vec<CrossCheck>, ReportError> {
    let mut out = Vec::new();
    for pair in src.pairs("reports/province", |_| true)? {
        let (Some(sql), Some(toml)) = (pair.sql, pair.meta) else {
            return Err(ReportError::Definition {
                path: PathBuf::from(format!("reports/province/{}", pair.name)),
                message: "a cross-county check needs both its .sql and its .toml".into(),
            });
        };
        let meta: CrossCheckMeta =
            toml::from_str(&toml.text).map_err(|e| ReportError::Definition {
                path: toml.path.clone(),
                message: e.to_string(),
            })?;
        out.push(CrossCheck {
            code: pair.name,
            meta,
            sql: sql.text,
            path: sql.path,
        });
    }
    Ok(out)
}

/// The province's month: per county the monthly tables, the province tables, the
/// cross-county findings.
pub struct ProvinceRun {
    pub month: NaiveDate,
    pub counties: Vec<String>,
    /// Each county's own package, computed from its export.
    pub by_county: Vec<(String, ReportRun)>,
    /// The province package: every table with a county column and a total row.
    pub run: ReportRun,
    /// Cross-county findings, every check together (full ID numbers: each county's
    /// audit section verifies its own in the field).
    pub findings: Table,
}

impl ProvinceRun {
    /// The findings a county gets back (where it pays, or where the other record is).
    pub fn findings_of(&self, county: &str) -> Vec<&Vec<Cell>> {
        let (c, o) = (
            column(&self.findings, "county"),
            column(&self.findings, "other_county"),
        );
        self.findings
            .rows
            .iter()
            .filter(|r| {
                [&r[c], &r[o]]
                    .iter()
                    .any(|x| **x == Cell::Text(county.to_string()))
            })
            .collect()
    }
}

fn column(t: &Table, name: &str) -> usize {
    t.def
        .meta
        .columns
        .iter()
        .position(|c| c.name == name)
        .unwrap_or(0)
}

/// The counties exported into `dir` (its `_county/<code>/` folders), sorted.
pub fn counties(dir: &Path) -> Result<Vec<String>, ReportError> {
    let meta = dir.join("_county");
    let entries = std::fs::read_dir(&meta).map_err(|e| ReportError::Province {
        path: dir.to_path_buf(),
        message: format!(
            "no county exported here ({e}); run `pipeline --warehouse W export --county CODE --month YYYY-MM --out {}` for each county first",
            dir.display()
        ),
    })?;
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    Ok(out)
}

/// The exported tables (folders of `dir` not starting with `_` or `.`).
fn tables(dir: &Path) -> Result<Vec<String>, ReportError> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('_') && !n.starts_with('.'))
        .collect();
    out.sort();
    Ok(out)
}

/// A session over one county's partitions, with its macros for `month`.
fn county_session(dir: &Path, county: &str, month: &str) -> Result<Connection, ReportError> {
    let conn = Connection::open_in_memory()?;
    for t in tables(dir)? {
        let part = dir.join(&t).join(format!("county={county}"));
        if !part.is_dir() {
            continue;
        }
        let glob = part.join("*.parquet");
        conn.execute_batch(&format!(
            "CREATE VIEW \"{t}\" AS SELECT * FROM read_parquet({}, hive_partitioning = false)",
            lit(&glob.to_string_lossy())
        ))?;
    }
    let macros = dir
        .join("_county")
        .join(county)
        .join(format!("macros-{month}.sql"));
    let sql = std::fs::read_to_string(&macros).map_err(|e| ReportError::Province {
        path: macros.clone(),
        message: format!("{e}: county {county} was not exported for {month}"),
    })?;
    conn.execute_batch(&sql)?;
    Ok(conn)
}

/// A session over every county's partitions at once, each table with its `county`
/// column, and the month's report_month() and report_end().
fn province_session(dir: &Path, month: NaiveDate) -> Result<Connection, ReportError> {
    let conn = Connection::open_in_memory()?;
    for t in tables(dir)? {
        let glob = dir.join(&t).join("*").join("*.parquet");
        conn.execute_batch(&format!(
            "CREATE VIEW \"{t}\" AS SELECT * FROM read_parquet({}, hive_partitioning = true, \
             hive_types = {{'county': VARCHAR}}, union_by_name = true)",
            lit(&glob.to_string_lossy())
        ))?;
    }
    let end = crate::domain::calendar::month_end(month);
    conn.execute_batch(&format!(
        "CREATE MACRO report_month() AS DATE '{month}';
         CREATE MACRO report_end() AS DATE '{end}';"
    ))?;
    crate::mask::install(&conn)?;
    Ok(conn)
}

/// Computes the province's month from the exports in `dir`.
pub fn compute(
    dir: &Path,
    month: NaiveDate,
    defs: &Definitions,
) -> Result<ProvinceRun, ReportError> {
    let label = month.format("%Y-%m").to_string();
    let counties = counties(dir)?;
    let opts = ReportOptions::monthly(month, false, false);
    let defs = &defs.for_province();
    let mut by_county = Vec::new();
    for county in &counties {
        let conn = county_session(dir, county, &label)?;
        let run = super::compute_prepared(&conn, defs, &opts, Vec::new())?;
        by_county.push((county.clone(), run));
    }
    let Some((_, first)) = by_county.first() else {
        return Err(ReportError::Province {
            path: dir.to_path_buf(),
            message: "no county exported".into(),
        });
    };
    let tables = first
        .tables
        .iter()
        .map(|t| stack(&t.def, &by_county))
        .collect();
    let mut run = ReportRun {
        month,
        period: first.period,
        package: Package::Month,
        generated_at: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
        tables,
        charts: Vec::new(),
        notes: vec![format!(
            "全省汇总: {} 个县(区) {}",
            counties.len(),
            counties.join("、")
        )],
        unmasked: false,
        whole_ids_in_forms: false,
        prelude_seconds: 0.0,
        chart_seconds: 0.0,
    };
    let conn = province_session(dir, month)?;
    let findings = cross_findings(&conn, false)?;
    // The package's copy hides the birth dates (the province's leaders read it).
    run.tables.push(cross_findings(&conn, true)?);
    Ok(ProvinceRun {
        month,
        counties,
        by_county,
        run,
        findings,
    })
}

/// One table of every county, a county column first, then the province's totals.
fn stack(def: &ReportDef, by_county: &[(String, ReportRun)]) -> Table {
    let mut columns = vec![ColumnDef {
        name: "county".into(),
        label: "县(区)".into(),
        format: Format::Text,
        total: None,
        width: None,
    }];
    columns.extend(def.meta.columns.iter().cloned());
    let def = ReportDef {
        meta: ReportMeta {
            columns,
            // A one-row county table becomes a row per county.
            layout: None,
            chart: None,
            ..def.meta.clone()
        },
        ..def.clone()
    };
    let mut rows = Vec::new();
    for (county, run) in by_county {
        if let Some(t) = run.table(&def.name) {
            for r in &t.rows {
                let mut row = vec![Cell::Text(county.clone())];
                row.extend(r.iter().cloned());
                rows.push(row);
            }
        }
    }
    let totals = def
        .meta
        .totals
        .as_ref()
        .map(|_| totals_row(&def, &rows, PROVINCE_TOTAL));
    Table {
        def,
        rows,
        totals,
        seconds: 0.0,
    }
}

/// Every cross-county check over all counties, as one table; `masked`: ID numbers
/// and evidence as lists for action show them (pipeline/mask.sql).
fn cross_findings(conn: &Connection, masked: bool) -> Result<Table, ReportError> {
    let checks = cross_checks(crate::defs::active())?;
    let cols: Vec<String> = FINDING_COLUMNS
        .iter()
        .skip(1)
        .map(|c| match (masked, c.0) {
            (true, "id_number") => "masked_id(id_number) AS id_number".to_string(),
            (true, "evidence") => "masked_text(evidence) AS evidence".to_string(),
            (_, name) => name.to_string(),
        })
        .collect();
    let union: Vec<String> = checks
        .iter()
        .map(|c| {
            format!(
                "SELECT '{}' AS check_code, {} FROM ({}) q",
                c.code,
                cols.join(", "),
                c.sql.trim().trim_end_matches(';')
            )
        })
        .collect();
    let sql = if union.is_empty() {
        "SELECT NULL AS check_code WHERE false".to_string()
    } else {
        format!(
            "SELECT * FROM ({}) ORDER BY check_code, id_number, county, other_county",
            union.join("\nUNION ALL\n")
        )
    };
    let def = ReportDef {
        name: "cross_county".into(),
        meta: ReportMeta {
            title: "跨县(区)疑点".into(),
            title_en: "Cross-county findings".into(),
            sheet: "跨县疑点".into(),
            // The package's copy sums the amounts; the full list (compared with
            // Spark's, sent back to the counties) is the findings alone.
            totals: masked.then(|| "合计".into()),
            list: true,
            full_ids: false,
            layout: None,
            packages: vec![Package::Month],
            province: true,
            columns: FINDING_COLUMNS
                .iter()
                .map(|(name, label, format)| ColumnDef {
                    name: name.to_string(),
                    label: label.to_string(),
                    format: *format,
                    total: (*name == "amount_at_risk").then(|| "sum".to_string()),
                    width: None,
                })
                .collect(),
            chart: None,
        },
        sql,
        sql_path: PathBuf::from("reports/province"),
    };
    super::table::run(conn, &def)
}

/// A cell as `spark/province.py` writes it and as the comparison reads it: numbers
/// exact and normalised (12.50 → 12.5), dates ISO, empty for NULL.
pub fn canonical(text: &str) -> String {
    match text.parse::<rust_decimal::Decimal>() {
        Ok(d) if !text.is_empty() => d.normalize().to_string(),
        _ => text.to_string(),
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Int(i) => i.to_string(),
        Cell::Dec(d) => d.normalize().to_string(),
        Cell::Text(s) => s.clone(),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
    }
}

/// A table as raw CSV: the column names, exact values, the totals row last (what
/// the Spark job writes, for comparison and for scripts).
pub fn raw_csv(t: &Table) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| ReportError::Usage(format!("writing {}: {e}", t.def.name));
    w.write_record(t.def.meta.columns.iter().map(|c| c.name.as_str()))
        .map_err(err)?;
    for row in t.rows.iter().chain(t.totals.iter()) {
        w.write_record(row.iter().map(cell_text)).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| ReportError::Usage(format!("writing {}: {e}", t.def.name)))
}

/// Rows of a raw CSV as canonical text, sorted (row order within ties of a report's
/// ORDER BY is not part of its meaning).
fn canonical_rows(bytes: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    let header = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for rec in r.records() {
        rows.push(
            rec.map_err(|e| e.to_string())?
                .iter()
                .map(canonical)
                .collect(),
        );
    }
    rows.sort();
    Ok((header, rows))
}

/// Compares the province as DuckDB computed it with the Spark job's CSVs in
/// `spark_csv`: every table and the findings, cell by cell. Returns the
/// differences (empty: every figure agrees to the fen) and the tables compared.
pub fn compare(run: &ProvinceRun, spark_csv: &Path) -> Result<(Vec<String>, usize), ReportError> {
    let mut diffs = Vec::new();
    let mut compared = 0;
    let tables = run
        .run
        .tables
        .iter()
        .filter(|t| t.def.name != "cross_county")
        .chain(std::iter::once(&run.findings));
    for t in tables {
        let path = spark_csv.join(format!("{}.csv", t.def.name));
        let Ok(theirs) = std::fs::read(&path) else {
            diffs.push(format!("{}: no such file from Spark", path.display()));
            continue;
        };
        let ours = canonical_rows(&raw_csv(t)?).map_err(ReportError::Usage)?;
        let theirs = canonical_rows(&theirs).map_err(|e| ReportError::Province {
            path: path.clone(),
            message: e,
        })?;
        compared += 1;
        if ours.0 != theirs.0 {
            diffs.push(format!(
                "{}: columns differ: DuckDB {:?}, Spark {:?}",
                t.def.name, ours.0, theirs.0
            ));
            continue;
        }
        if ours.1.len() != theirs.1.len() {
            diffs.push(format!(
                "{}: {} rows on DuckDB, {} on Spark",
                t.def.name,
                ours.1.len(),
                theirs.1.len()
            ));
        }
        for (a, b) in ours.1.iter().zip(&theirs.1) {
            if a != b {
                diffs.push(format!(
                    "{}: DuckDB row {:?} ≠ Spark row {:?}",
                    t.def.name, a, b
                ));
            }
        }
    }
    Ok((diffs, compared))
}

/// Writes the province package into `out`: the workbook 全省月报_YYYY-MM.xlsx and
/// csv/ (as a county's package, with the masked cross-county findings), raw/ (the
/// same tables as exact values by column name, and the findings), and per county
/// 回县核查/<county>.csv: the findings it is to verify, with full ID numbers.
pub fn write(province: &ProvinceRun, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = super::write_package(&province.run, out)?;
    let monthly = out.join(province.run.workbook_name());
    let book = out.join(format!("全省{}", province.run.workbook_name()));
    std::fs::rename(&monthly, &book).map_err(io_err(&book))?;
    files.retain(|f| *f != monthly);
    files.push(book);
    let raw = out.join("raw");
    let back = out.join("回县核查");
    for d in [&raw, &back] {
        std::fs::create_dir_all(d).map_err(io_err(d))?;
    }
    for t in province
        .run
        .tables
        .iter()
        .filter(|t| t.def.name != "cross_county")
        .chain(std::iter::once(&province.findings))
    {
        let path = raw.join(format!("{}.csv", t.def.name));
        super::write_atomic(&path, &raw_csv(t)?)?;
        files.push(path);
    }
    for county in &province.counties {
        let rows: Vec<Vec<Cell>> = province.findings_of(county).into_iter().cloned().collect();
        let t = Table {
            rows,
            totals: None,
            ..province.findings.clone()
        };
        let path = back.join(format!("{county}.csv"));
        super::write_atomic(&path, &super::csv_bytes(&t)?)?;
        files.push(path);
    }
    Ok(files)
}
