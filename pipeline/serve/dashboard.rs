//! The leadership dashboard for any month: the static page's figures and charts
//! (pipeline/reports/dashboard.rs, computed by `reports::compute_month` without the
//! lists for action, so nothing personal is in reach) and a drill-down county →
//! township → village of aggregates with month-over-month and year-over-year change.
//!
//! The levels add up: every row of a level is counted in exactly one of its areas,
//! so the township rows sum to the county row and a township's villages to its row.
//! What has no township (a county-level finding such as BOOKS_DISAGREE, a payout to
//! a person the register does not place) is its own row, 乡镇不详 / 村(居)不详,
//! rather than dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use duckdb::Connection;
use minijinja::context;
use rust_decimal::Decimal;

use super::db::scalar;
use super::{month_of, App, Reply, Req, WebError};
use crate::domain::Month;
use crate::reports::{self, ReportOptions};
use crate::warehouse::{relation_exists, Warehouse};

/// Rendered dashboard content by month, for the warehouse as it was (manifest size
/// and time): computing the report tables takes seconds, a page view should not.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<(Month, String), Arc<String>>>);

fn manifest_stamp(app: &App) -> String {
    std::fs::metadata(app.wh.join("manifest.json"))
        .map(|m| format!("{:?}/{}", m.modified().ok(), m.len()))
        .unwrap_or_default()
}

/// The month asked for, else the latest month with payouts.
fn month(app: &App, req: &Req) -> Result<Month, WebError> {
    let m = req.q("month");
    if !m.is_empty() {
        return month_of(&m);
    }
    let conn = app.db.conn()?;
    let latest = scalar(
        &conn,
        "SELECT strftime(max(month), '%Y-%m') FROM payout",
        &[],
    )?;
    if latest.is_empty() {
        return Err(WebError::Input(
            "仓库中还没有发放数据 (no payouts ingested yet)".into(),
        ));
    }
    month_of(&latest)
}

/// The figures and charts of the static page for the month.
fn content(app: &App, month: Month) -> Result<Arc<String>, WebError> {
    let key = (month, manifest_stamp(app));
    if let Some(c) = app
        .dashboards
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(c.clone());
    }
    let wh = Warehouse::open_read(&app.wh)?;
    let run = reports::compute_month(
        &wh,
        app.db.catalog(),
        &ReportOptions::monthly(month.first_day(), false, false),
    )?;
    let html = Arc::new(reports::dashboard::content(&run)?);
    app.dashboards
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, html.clone());
    Ok(html)
}

/// One row of the drill-down: an area (empty: 乡镇不详 / 村(居)不详) or the total.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DrillRow {
    /// The township or village name; empty when the records do not say.
    pub area: String,
    /// What the page shows: the name, 乡镇不详 / 村(居)不详, or 合计.
    pub label: String,
    pub total: bool,
    /// Persons on the enrollment register (latest record per person).
    pub enrolled: i64,
    /// Persons paid this month, and the amounts of this month, last month and the
    /// same month last year (successful payouts).
    pub paid_persons: i64,
    pub paid: Decimal,
    pub paid_prev: Decimal,
    pub paid_ly: Decimal,
    /// Change against last month and last year, e.g. `+1.5%` (empty without a base).
    pub mom: String,
    pub yoy: String,
    /// Findings not yet settled (open or confirmed) and their amount by size: the
    /// definition of the dashboard's key figure (reports/00_summary.sql), so the
    /// county row equals that tile.
    pub open_findings: i64,
    pub at_risk: Decimal,
}

/// `a` against `b` in percent with one decimal and its sign; empty when `b` is 0.
fn change(a: Decimal, b: Decimal) -> String {
    if b.is_zero() {
        return String::new();
    }
    let pct = ((a - b) * Decimal::ONE_HUNDRED / b).round_dp(1);
    let sign = if pct.is_sign_negative() { "" } else { "+" };
    format!("{sign}{pct:.1}%")
}

/// One level of the drill-down: per township (county), per village (a township), or
/// the one village; the rows, then the total row (their sum).
pub fn drill(
    conn: &Connection,
    month: Month,
    township: &str,
    village: &str,
) -> Result<Vec<DrillRow>, WebError> {
    // `place` is the records' township and village, NULL when blank.
    let (group, cond, one) = match (township.is_empty(), village.is_empty()) {
        (true, _) => ("township", "true", vec![]),
        (false, true) => ("village", "township = ?", vec![township.to_string()]),
        (false, false) => (
            "village",
            "township = ? AND village = ?",
            vec![township.to_string(), village.to_string()],
        ),
    };
    let (m, prev, ly) = (
        month.first_day(),
        month.prev().first_day(),
        Month::of(month.first_day() - chrono::Months::new(12)).first_day(),
    );
    let findings = if relation_exists(conn, "findings")? {
        "SELECT nullif(trim(township), '') AS township, nullif(trim(village), '') AS village, amount_at_risk
         FROM findings WHERE status IN ('open', 'confirmed')"
    } else {
        "SELECT NULL::VARCHAR AS township, NULL::VARCHAR AS village, NULL::DECIMAL(18,2) AS amount_at_risk WHERE false"
    };
    // Each person's place is their latest enrollment record: the last line of the
    // last file, blanks included (arg_max_null), so township and village come from
    // one row; a hash aggregate, no sort. A payout to a person with none is kept, in
    // the unknown row.
    let sql = format!(
        "WITH e AS (SELECT person_no,
                           arg_max_null(nullif(trim(township), ''), _file_seq * 1000000000 + _line) AS township,
                           arg_max_null(nullif(trim(village), ''), _file_seq * 1000000000 + _line) AS village
                    FROM enrollment GROUP BY person_no),
         enr AS (SELECT coalesce({group}, '') AS area, count(*) AS enrolled FROM e WHERE {cond} GROUP BY 1),
         pe AS (SELECT e.township, e.village, p.month, p.total_amount, p.person_no
                FROM payout p LEFT JOIN e USING (person_no)
                WHERE p.status = 'ok' AND p.month IN (DATE '{m}', DATE '{prev}', DATE '{ly}')),
         pay AS (SELECT coalesce({group}, '') AS area,
                        count(DISTINCT person_no) FILTER (WHERE month = DATE '{m}') AS paid_persons,
                        coalesce(sum(total_amount) FILTER (WHERE month = DATE '{m}'), 0) AS paid,
                        coalesce(sum(total_amount) FILTER (WHERE month = DATE '{prev}'), 0) AS paid_prev,
                        coalesce(sum(total_amount) FILTER (WHERE month = DATE '{ly}'), 0) AS paid_ly
                 FROM pe WHERE {cond} GROUP BY 1),
         fnd AS (SELECT coalesce({group}, '') AS area, count(*) AS open_findings,
                        coalesce(sum(abs(amount_at_risk)), 0) AS at_risk
                 FROM ({findings}) WHERE {cond} GROUP BY 1),
         areas AS (SELECT area FROM enr UNION SELECT area FROM pay UNION SELECT area FROM fnd)
         SELECT a.area, coalesce(enr.enrolled, 0), coalesce(pay.paid_persons, 0),
                coalesce(pay.paid, 0)::DECIMAL(18,2), coalesce(pay.paid_prev, 0)::DECIMAL(18,2),
                coalesce(pay.paid_ly, 0)::DECIMAL(18,2), coalesce(fnd.open_findings, 0),
                coalesce(fnd.at_risk, 0)::DECIMAL(18,2)
         FROM areas a LEFT JOIN enr USING (area) LEFT JOIN pay USING (area) LEFT JOIN fnd USING (area)
         ORDER BY a.area = '', a.area"
    );
    // The condition appears in three subqueries.
    let params: Vec<String> = (0..3).flat_map(|_| one.iter().cloned()).collect();
    let unknown = if group == "township" {
        "乡镇不详"
    } else {
        "村(居)不详"
    };
    let mut stmt = conn.prepare(&sql)?;
    let mut out = stmt
        .query_map(duckdb::params_from_iter(params.iter()), |r| {
            let area: String = r.get(0)?;
            Ok(DrillRow {
                label: if area.is_empty() {
                    unknown.to_string()
                } else {
                    area.clone()
                },
                area,
                total: false,
                enrolled: r.get(1)?,
                paid_persons: r.get(2)?,
                paid: r.get(3)?,
                paid_prev: r.get(4)?,
                paid_ly: r.get(5)?,
                mom: String::new(),
                yoy: String::new(),
                open_findings: r.get(6)?,
                at_risk: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut total = DrillRow {
        area: String::new(),
        label: "合计".into(),
        total: true,
        enrolled: 0,
        paid_persons: 0,
        paid: Decimal::ZERO,
        paid_prev: Decimal::ZERO,
        paid_ly: Decimal::ZERO,
        mom: String::new(),
        yoy: String::new(),
        open_findings: 0,
        at_risk: Decimal::ZERO,
    };
    for r in &out {
        total.enrolled += r.enrolled;
        total.paid_persons += r.paid_persons;
        total.paid += r.paid;
        total.paid_prev += r.paid_prev;
        total.paid_ly += r.paid_ly;
        total.open_findings += r.open_findings;
        total.at_risk += r.at_risk;
    }
    out.push(total);
    for r in &mut out {
        r.mom = change(r.paid, r.paid_prev);
        r.yoy = change(r.paid, r.paid_ly);
    }
    Ok(out)
}

pub fn page(app: &App, req: &Req) -> Result<Reply, WebError> {
    let month = month(app, req)?;
    let township = req.q("township");
    let village = if township.is_empty() {
        String::new()
    } else {
        req.q("village")
    };
    let table = drill(&app.db.conn()?, month, &township, &village)?;
    let content = content(app, month)?;
    let zh = |m: Month| format!("{}年{:02}月", m.year(), m.month());
    let ctx = context! {
    month => month.to_string(),
    month_zh => zh(month),
    prev => month.prev().to_string(),
    last_year => Month::of(month.first_day() - chrono::Months::new(12)).to_string(),
    township => township, village => village,
    level => if township.is_empty() { "乡镇" } else { "村(居)" },
    drill => table,
    content => minijinja::Value::from_safe_string(content.to_string()),
    css => minijinja::Value::from_safe_string(reports::dashboard::CSS.to_string()),
    footer => reports::dashboard::FOOTER, ..req.base() };
    Ok(Reply::Html(app.render("dashboard.html", ctx)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_in_percent_with_its_sign() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(change(d("110.00"), d("100.00")), "+10.0%");
        assert_eq!(change(d("90.00"), d("100.00")), "-10.0%");
        assert_eq!(change(d("100.00"), d("100.00")), "+0.0%");
        assert_eq!(change(d("1.00"), d("3.00")), "-66.7%");
        assert_eq!(change(d("5.00"), Decimal::ZERO), "");
    }
}
