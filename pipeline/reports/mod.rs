//! Monthly reports (统计报表), charts and the leadership dashboard.
//!
//! The reports are data: `reports/_prelude.sql` builds shared tables, then each
//! `reports/NN_name.sql` is one table whose `NN_name.toml` gives its title, sheet,
//! Chinese column labels, number formats and totals row; `reports/charts/` holds the
//! charts the same way. This module runs them over the warehouse for one month
//! (`compute`), then writes the package: one workbook with a sheet per table, the
//! same tables as CSV, the charts as PNG and SVG (`write_package`), and the
//! self-contained dashboard page (`dashboard::write`).

/// Drawing: a chart's data → PNG and SVG (font, canvas, axes, one file per kind).
pub(crate) mod chart;
/// A chart definition (`reports/charts/*.toml`, `[chart]`) run over the warehouse → the data `chart` draws.
mod chart_data;
pub mod dashboard;
pub(crate) mod def;
pub mod export;
pub mod notice;
pub mod province;
pub(crate) mod table;
mod xlsx;

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use crate::warehouse::relation_exists;
use duckdb::Connection;

pub use def::{Definitions, Format, Package, ReportDef};

use crate::domain::{Month, Period};
pub use table::{half_up, Cell, Table};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Definitions(#[from] crate::defs::DefsError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("report definition {path}: {message}")]
    Definition { path: PathBuf, message: String },
    #[error("report {path} failed: {source}")]
    Sql {
        path: PathBuf,
        source: duckdb::Error,
    },
    #[error("preparing the report session: {0}")]
    Setup(#[from] duckdb::Error),
    #[error("writing the workbook {path}: {source}")]
    Xlsx {
        path: PathBuf,
        source: rust_xlsxwriter::XlsxError,
    },
    #[error(transparent)]
    Chart(#[from] chart::ChartError),
    #[error(transparent)]
    Params(#[from] crate::params::ParamsError),
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    /// A request that cannot be met as given (what to change is in the message).
    #[error("{0}")]
    Usage(String),
    /// A province input that is not as an export leaves it.
    #[error("province data {path}: {message}")]
    Province { path: PathBuf, message: String },
}

pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Parameters of a report run.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The months the package covers: its flows are summed over them, its positions
    /// taken at the end of the last one (the report month).
    pub period: Period,
    /// Which tables and charts run (their `packages`); `Package::of(period)` for the
    /// monthly, quarterly and annual packages.
    pub package: Package,
    /// The month whose end positions are taken at, when not the period's last month
    /// (a plan for next year is made from this year's data: `plan_options`).
    pub as_of: Option<NaiveDate>,
    /// Show full ID numbers in the lists for action (default: first 6 and last 4).
    pub unmasked: bool,
    /// Compute the lists for action; the dashboard alone does not show them, and at
    /// a million persons they are the largest tables.
    pub lists: bool,
    /// The official forms (`full_ids` in their TOML: 附表十二, 十二之二) show whole ID
    /// numbers, as the finance bureau needs them; the workbench's download for a
    /// statistician, which promises masked lists, sets it false.
    pub whole_ids_in_forms: bool,
}

impl ReportOptions {
    /// The monthly package (月报) of `month` (any day of it).
    pub fn monthly(month: NaiveDate, unmasked: bool, lists: bool) -> ReportOptions {
        ReportOptions::of_period(Period::month(Month::of(month)), unmasked, lists)
    }

    /// The package of a month, quarter or year.
    pub fn of_period(period: Period, unmasked: bool, lists: bool) -> ReportOptions {
        ReportOptions {
            period,
            package: Package::of(period),
            as_of: None,
            unmasked,
            lists,
            whole_ids_in_forms: true,
        }
    }

    /// The fund plan (附表十四) for `year`, made from the warehouse as of the end of
    /// the year before — or of the latest month with payouts, when the data stop
    /// earlier (a plan for next year drawn up in November).
    pub fn plan(conn: &Connection, year: i32) -> Result<ReportOptions, ReportError> {
        let period = Period::year(year).ok_or_else(|| ReportError::Definition {
            path: PathBuf::from("reports/_prelude_plan.sql"),
            message: format!("{year} is not a year the calendar knows"),
        })?;
        let base = Month::new(year - 1, 12).map(Month::first_day);
        let latest: Option<NaiveDate> =
            conn.query_row("SELECT max(month) FROM payout", [], |r| r.get(0))?;
        let as_of = match (base, latest) {
            (Some(b), Some(l)) => Some(b.min(l)),
            (b, _) => b,
        };
        Ok(ReportOptions {
            period,
            package: Package::Plan,
            as_of,
            unmasked: false,
            lists: true,
            whole_ids_in_forms: true,
        })
    }

    /// The village public notice of `month` (its two lists, always masked).
    pub fn notice(month: Month) -> ReportOptions {
        ReportOptions {
            period: Period::month(month),
            package: Package::Notice,
            as_of: None,
            unmasked: false,
            lists: true,
            whole_ids_in_forms: false,
        }
    }

    /// The report month: the first day of the month whose end positions are taken at.
    pub fn month(&self) -> NaiveDate {
        self.as_of
            .unwrap_or_else(|| self.period.last_month().first_day())
    }
}

/// Everything computed for one month, ready to be written.
pub struct ReportRun {
    /// The report month (the period's last month): positions are taken at its end.
    pub month: NaiveDate,
    pub period: Period,
    pub package: Package,
    /// When the run happened (local time), printed in the workbook headers.
    pub generated_at: String,
    pub tables: Vec<Table>,
    pub charts: Vec<chart::Chart>,
    /// Things the reader should know (e.g. the audit has not been run).
    pub notes: Vec<String>,
    pub unmasked: bool,
    /// Whether the official forms (`full_ids`) carry whole ID numbers in this run.
    pub whole_ids_in_forms: bool,
    /// Seconds spent on the preludes (shared tables) and on the chart queries.
    pub prelude_seconds: f64,
    pub chart_seconds: f64,
}

impl ReportRun {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.def.name == name)
    }

    /// `月报_2026-10.xlsx`, `季报_2026-Q3.xlsx`, `年报_2025.xlsx`,
    /// `基金支出计划_2027.xlsx`.
    pub fn workbook_name(&self) -> String {
        match self.package {
            Package::Plan => format!("基金支出计划_{}.xlsx", self.period.label()),
            Package::Notice => format!("公示_{}.xlsx", self.period.label()),
            _ => format!("{}_{}.xlsx", self.period.package_zh(), self.period.label()),
        }
    }

    /// How the workbook's sheets name what they cover: 2026年10月, 2026年第3季度,
    /// 2025年度 (a plan: 2027年度计划).
    pub fn period_zh(&self) -> String {
        match self.package {
            Package::Plan => format!("{}计划", self.period.label_zh()),
            _ => self.period.label_zh(),
        }
    }
}

/// The macros every report may use (documented at the top of `_prelude.sql`).
fn define_macros(conn: &Connection, opts: &ReportOptions) -> Result<(), ReportError> {
    let m = opts.month();
    let end = crate::domain::calendar::month_end(m);
    // The parameters in force in the report month (parameters.toml or its override).
    let params = crate::params::Parameters::load()?;
    let audit = params.audit(m)?;
    let (deadline_month, deadline_day) = audit.contribution_deadline;
    // The latest contribution year whose deadline (31 October) has passed.
    let deadline = NaiveDate::from_ymd_opt(m.year(), deadline_month, deadline_day);
    let contribution_year = if deadline.is_some_and(|d| end >= d) {
        m.year()
    } else {
        m.year() - 1
    };
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP MACRO report_month() AS DATE '{m}';
         CREATE OR REPLACE TEMP MACRO report_end() AS DATE '{end}';
         CREATE OR REPLACE TEMP MACRO year_start() AS DATE '{y}-01-01';
         CREATE OR REPLACE TEMP MACRO contribution_year() AS {contribution_year};
         CREATE OR REPLACE TEMP MACRO ym(d) AS strftime(d, '%Y-%m');
         CREATE OR REPLACE TEMP MACRO age_at(b, d) AS
             (year(d) - year(b) - CASE WHEN strftime(d, '%m%d') < strftime(b, '%m%d') THEN 1 ELSE 0 END);
         CREATE OR REPLACE TEMP MACRO p_pension_age() AS {pa};
         CREATE OR REPLACE TEMP MACRO p_min_age() AS {ma};
         CREATE OR REPLACE TEMP MACRO p_deadline_month() AS {deadline_month};
         CREATE OR REPLACE TEMP MACRO p_deadline_day() AS {deadline_day};
         CREATE OR REPLACE TEMP MACRO p_prepaid_carry_month() AS {pcm};
         CREATE OR REPLACE TEMP MACRO p_fiscal_booking_working_days() AS {fbw};
         CREATE OR REPLACE TEMP MACRO p_unmasked() AS {unmasked};
         CREATE OR REPLACE TEMP MACRO p_account_divisor() AS {divisor}::DECIMAL(18,4);
         CREATE OR REPLACE TEMP MACRO period_start() AS DATE '{ps}';
         CREATE OR REPLACE TEMP MACRO period_end() AS DATE '{pe}';
         CREATE OR REPLACE TEMP MACRO period_months() AS {pm};
         CREATE OR REPLACE TEMP MACRO period_label() AS '{pl}';
         CREATE OR REPLACE TEMP MACRO ly_start() AS DATE '{lys}';
         CREATE OR REPLACE TEMP MACRO ly_end() AS DATE '{lye}';",
        m = m.format("%Y-%m-%d"),
        end = end.format("%Y-%m-%d"),
        y = m.year(),
        pa = audit.pension_age,
        ma = audit.min_contribution_age,
        pcm = audit.prepaid_carry_month,
        fbw = audit.fiscal_booking_working_days,
        unmasked = opts.unmasked,
        divisor = params.ledger(m)?.divisor,
        ps = opts.period.first_day(),
        pe = opts.period.last_day(),
        pm = opts.period.months().len(),
        pl = opts.period.label(),
        lys = opts.period.a_year_earlier().first_day(),
        lye = opts.period.a_year_earlier().last_day(),
    ))?;
    crate::mask::install(conn)?;
    basic_funding(conn, m)?;
    Ok(())
}

/// The basic pension's funding split as SQL (docs/rules.md § Basic pension by
/// funding level): `p_basic_central` holds each version of the central minimum
/// standard (`from_month`, `amount`); `p_province_percent()`, `p_city_percent()`
/// the shares of the local part; `p_notice_days()` a public notice's posting days.
fn basic_funding(conn: &Connection, month: NaiveDate) -> Result<(), ReportError> {
    let p = crate::params::Parameters::load()?.reporting(month)?;
    let versions: Vec<String> = p
        .basic_central
        .iter()
        .map(|(from, amount)| format!("(DATE '{from}', {amount}::DECIMAL(18,2))"))
        .collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE p_basic_central AS
             SELECT * FROM (VALUES {}) t(from_month, amount);
         CREATE OR REPLACE TEMP MACRO p_province_percent() AS {};
         CREATE OR REPLACE TEMP MACRO p_city_percent() AS {};
         CREATE OR REPLACE TEMP MACRO p_notice_days() AS {};",
        versions.join(", "),
        p.province_percent,
        p.city_percent,
        p.notice_days
    ))?;
    Ok(())
}

/// The audit catalogue as a table (check titles in the findings list and chart),
/// and an empty `findings` table when the audit has not been run yet.
fn audit_tables(
    conn: &Connection,
    month: NaiveDate,
    notes: &mut Vec<String>,
) -> Result<(), ReportError> {
    conn.execute_batch(
        "CREATE OR REPLACE TEMP TABLE audit_check (code VARCHAR, title_zh VARCHAR, severity VARCHAR);",
    )?;
    let mut app = conn.appender("audit_check")?;
    for c in crate::audit::CHECKS {
        app.append_row([c.code, c.title_zh, c.severity])?;
    }
    app.flush()?;
    if !relation_exists(conn, "findings")? {
        notes.push(
            "稽核尚未运行 (no audit run yet): findings tables are empty; run `pipeline audit --month YYYY-MM` first"
                .into(),
        );
        conn.execute_batch(
            "CREATE TEMP TABLE findings (finding_id VARCHAR, check_code VARCHAR, severity VARCHAR,
             person_no VARCHAR, id_number VARCHAR, name VARCHAR, township VARCHAR, village VARCHAR,
             month_from DATE, month_to DATE, amount_at_risk DECIMAL(18,2), evidence VARCHAR,
             status VARCHAR, first_seen DATE, last_seen DATE);",
        )?;
    }
    // findings.last_seen is the month of the audit run that last saw it.
    let audited: Option<NaiveDate> =
        conn.query_row("SELECT max(last_seen) FROM findings", [], |r| r.get(0))?;
    if let Some(a) = audited.filter(|a| *a != month) {
        notes.push(format!(
            "稽核疑点截至 {} (findings are from the audit as of {}; run `pipeline audit --month {}` for this month)",
            a.format("%Y-%m"),
            a.format("%Y-%m"),
            month.format("%Y-%m")
        ));
    }
    let last_payout: Option<NaiveDate> =
        conn.query_row("SELECT max(month) FROM payout", [], |r| r.get(0))?;
    if last_payout.is_some_and(|p| p < month) {
        notes.push(format!(
            "本月无发放数据 (the warehouse has payouts only up to {}): payout figures of {} are empty",
            last_payout.map_or(String::new(), |p| p.format("%Y-%m").to_string()),
            month.format("%Y-%m")
        ));
    }
    // The ledger's pooled-fund part needs account_event; without a ledger run it is zero.
    if !relation_exists(conn, "account_event")? {
        notes.push("个人账户尚未计算 (no ledger run yet): the pooled-fund part of payouts shows 0; run `pipeline ledger` first".into());
        conn.execute_batch(
            "CREATE TEMP TABLE account_event (person_no VARCHAR, date DATE, kind VARCHAR, \
             holding VARCHAR, amount DECIMAL(18,2));
             CREATE TEMP TABLE expected_payout (person_no VARCHAR, month DATE, expected_basic DECIMAL(18,2), \
             expected_account DECIMAL(18,2), expected_total DECIMAL(18,2), payable BOOLEAN);
             CREATE TEMP TABLE account_year (person_no VARCHAR, sub_balance VARCHAR, year INTEGER, \
             interest DECIMAL(18,2), closing DECIMAL(18,2));",
        )?;
    }
    // Statuses set by users (the scorecard's resolved findings); none before the first.
    if !relation_exists(conn, "finding_history")? {
        conn.execute_batch(
            "CREATE TEMP TABLE finding_history (seq BIGINT, finding_id VARCHAR, status VARCHAR, changed_at VARCHAR);",
        )?;
    }
    Ok(())
}

/// Runs the preludes, every report and every chart query for the month.
pub fn compute(
    conn: &Connection,
    defs: &Definitions,
    opts: &ReportOptions,
) -> Result<ReportRun, ReportError> {
    let notes = prepare(conn, opts)?;
    compute_prepared(conn, defs, opts, notes)
}

/// What every report reads besides the warehouse's views: the macros (report month,
/// parameters, masking), the fund flows, the audit's tables (empty ones when the
/// audit or the ledger has not run). Returns the notes for the reader.
pub fn prepare(conn: &Connection, opts: &ReportOptions) -> Result<Vec<String>, ReportError> {
    let mut notes = Vec::new();
    define_macros(conn, opts)?;
    conn.execute_batch(&crate::audit::fund_flows_sql()?)?;
    audit_tables(conn, opts.month(), &mut notes)?;
    // The bank reconciliation statement reads these; empty before `pipeline reconcile`.
    crate::reconcile::ensure_tables(conn)?;
    // A session without the bank kinds (an older warehouse) gets empty ones first:
    // the note below reads them.
    optional_inputs(conn)?;
    bank_note(conn, opts.month(), &mut notes)?;
    Ok(notes)
}

/// A note when there are bank statements but no reconciliation at the report month
/// (the statement 银行存款余额调节表 and the outstanding items would be empty).
fn bank_note(
    conn: &Connection,
    month: NaiveDate,
    notes: &mut Vec<String>,
) -> Result<(), ReportError> {
    let statements: i64 =
        conn.query_row("SELECT count(*) FROM bank_statement", [], |r| r.get(0))?;
    let reconciled: i64 = conn.query_row(
        "SELECT count(*) FROM bank_reconciliation WHERE month = ?",
        [month],
        |r| r.get(0),
    )?;
    if statements > 0 && reconciled == 0 {
        notes.push(format!(
            "银行对账未到本月 (the bank reconciliation has not been run through {m}): the reconciliation statement and outstanding items are empty; run `pipeline reconcile --month {m}` (or `pipeline audit --month {m}`) first",
            m = month.format("%Y-%m")
        ));
    }
    Ok(())
}

/// The preludes, reports and charts on a session `prepare` made ready (or one whose
/// tables and macros were restored from an export: the province, province.rs).
pub fn compute_prepared(
    conn: &Connection,
    defs: &Definitions,
    opts: &ReportOptions,
    notes: Vec<String>,
) -> Result<ReportRun, ReportError> {
    let t = std::time::Instant::now();
    optional_inputs(conn)?;
    for (path, sql) in defs
        .preludes
        .iter()
        .filter(|(p, _)| opts.package.runs_prelude(p))
    {
        conn.execute_batch(sql).map_err(|source| ReportError::Sql {
            path: path.clone(),
            source,
        })?;
    }
    let prelude_seconds = t.elapsed().as_secs_f64();
    let tables = defs
        .reports
        .iter()
        .filter(|d| d.meta.packages.contains(&opts.package))
        .filter(|d| opts.lists || !d.meta.list)
        .map(|d| run_table(conn, d, opts))
        .collect::<Result<Vec<_>, _>>()?;
    let label = opts.period.label();
    let t = std::time::Instant::now();
    let charts = defs
        .charts
        .iter()
        .filter(|c| c.meta.packages.contains(&opts.package))
        .map(|c| chart_data::build(conn, c, &tables, &label))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ReportRun {
        month: opts.month(),
        period: opts.period,
        package: opts.package,
        generated_at: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
        tables,
        charts,
        notes,
        unmasked: opts.unmasked,
        whole_ids_in_forms: opts.whole_ids_in_forms,
        prelude_seconds,
        chart_seconds: t.elapsed().as_secs_f64(),
    })
}

/// One report table; a form that carries whole ID numbers (`full_ids`) runs with
/// `p_unmasked()` true, so its `mask_id(...)` shows them whole, and the session is
/// put back for the tables after it.
fn run_table(
    conn: &Connection,
    def: &ReportDef,
    opts: &ReportOptions,
) -> Result<Table, ReportError> {
    if !def.meta.full_ids || !opts.whole_ids_in_forms || opts.unmasked {
        return table::run(conn, def);
    }
    conn.execute_batch("CREATE OR REPLACE TEMP MACRO p_unmasked() AS true;")?;
    let t = table::run(conn, def);
    conn.execute_batch("CREATE OR REPLACE TEMP MACRO p_unmasked() AS false;")?;
    t
}

/// Input kinds a report reads that a warehouse or a province export made before
/// them lacks (issue 30's bank files), with the columns the reports use.
const OPTIONAL_INPUTS: &[(&str, &str)] = &[
    (
        "bank_statement",
        "account_no VARCHAR, txn_date DATE, income DECIMAL(18,2), expense DECIMAL(18,2), \
         balance DECIMAL(18,2), counterpart_name VARCHAR, counterpart_account VARCHAR, \
         summary VARCHAR, bank_ref VARCHAR, period_from DATE, period_to DATE",
    ),
    (
        "bank_account",
        "account_no VARCHAR, account VARCHAR, bank VARCHAR",
    ),
];

/// An empty table for each optional input the session lacks, so that its lines in
/// a report (附表十三's bank column) show empty rather than fail.
fn optional_inputs(conn: &Connection) -> Result<(), ReportError> {
    for (name, columns) in OPTIONAL_INPUTS {
        if !relation_exists(conn, name)? {
            conn.execute_batch(&format!("CREATE TEMP TABLE {name} ({columns});"))?;
        }
    }
    Ok(())
}

/// The reports of one month over the warehouse as committed now, with the
/// definitions this process uses (built in, or `--definitions`), in a DuckDB
/// session of their own (the preludes create tables): the one way `pipeline
/// report`, `pipeline dashboard` and the workbench run them.
pub fn compute_month(
    wh: &crate::warehouse::Warehouse,
    catalog: &crate::schema::Catalog,
    opts: &ReportOptions,
) -> Result<ReportRun, ReportError> {
    let defs = Definitions::load_default()?;
    let conn = crate::warehouse::connect(wh, catalog)?;
    compute(&conn, &defs, opts)
}

/// The fund plan (附表十四) for `year` over the warehouse as committed now
/// (`ReportOptions::plan` says from which month's data).
pub fn compute_plan(
    wh: &crate::warehouse::Warehouse,
    catalog: &crate::schema::Catalog,
    year: i32,
) -> Result<ReportRun, ReportError> {
    let defs = Definitions::load_default()?;
    let conn = crate::warehouse::connect(wh, catalog)?;
    let opts = ReportOptions::plan(&conn, year)?;
    compute(&conn, &defs, &opts)
}

/// Writes `bytes` to `path` through a temporary file in the same folder, so a
/// reader never sees half a file and a failure leaves the old one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// One CSV per table: UTF-8 with a BOM (so Excel shows the Chinese headers), the
/// Chinese labels as the header, exact values, and the totals row last.
pub fn csv_bytes(t: &Table) -> Result<Vec<u8>, ReportError> {
    let mut buf: Vec<u8> = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new().from_writer(&mut buf);
        let io = |e: csv::Error| ReportError::Io {
            path: t.def.sql_path.clone(),
            source: std::io::Error::other(e.to_string()),
        };
        w.write_record(t.columns().iter().map(|c| c.label.as_str()))
            .map_err(io)?;
        for row in t.rows.iter().chain(t.totals.iter()) {
            w.write_record(
                row.iter()
                    .zip(t.columns())
                    .map(|(cell, c)| cell.csv_text(c.format)),
            )
            .map_err(io)?;
        }
        w.flush().map_err(|e| io(e.into()))?;
    }
    Ok(buf)
}

/// The package for one month in `out`: `月报_YYYY-MM.xlsx`, `csv/NN_name.csv` and
/// `charts/<name>.png|.svg`. Returns the files written.
pub fn write_package(run: &ReportRun, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let csv_dir = out.join("csv");
    let chart_dir = out.join("charts");
    for d in [out, &csv_dir, &chart_dir] {
        std::fs::create_dir_all(d).map_err(io_err(d))?;
    }
    // Charts first: the workbook carries the PNGs on its 图表 sheet.
    let mut drawn = Vec::new();
    for c in &run.charts {
        drawn.push(chart::render(c, &chart_dir)?);
    }
    let pngs: Vec<PathBuf> = drawn.iter().map(|(png, _)| png.clone()).collect();
    let book = out.join(run.workbook_name());
    xlsx::write(run, &pngs, &book)?;
    let mut files = vec![book];
    for t in &run.tables {
        let path = csv_dir.join(format!("{}.csv", t.def.name));
        write_atomic(&path, &csv_bytes(t)?)?;
        files.push(path);
    }
    for (png, svg) in drawn {
        files.push(png);
        files.push(svg);
    }
    Ok(files)
}
