//! The leadership dashboard for any month: the static page's figures and charts
//! (pipeline/reports/dashboard.rs, computed without the lists for action, so nothing
//! personal is in reach) and a drill-down county → township → village of aggregates
//! with month-over-month and year-over-year change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{Months, NaiveDate};
use minijinja::context;

use super::db::{rows, scalar};
use super::{App, Reply, Req, WebError};
use crate::reports::{self, Definitions, ReportOptions};
use crate::warehouse::{connect, relation_exists, Warehouse};

/// Rendered dashboard content by month, for the warehouse as it was (manifest size
/// and time): computing the report tables takes seconds, a page view should not.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<(NaiveDate, String), Arc<String>>>);

fn manifest_stamp(app: &App) -> String {
    std::fs::metadata(app.wh.join("manifest.json"))
        .map(|m| format!("{:?}/{}", m.modified().ok(), m.len()))
        .unwrap_or_default()
}

/// The month asked for, else the latest month with payouts.
fn month(app: &App, req: &Req) -> Result<NaiveDate, WebError> {
    let m = req.q("month");
    if !m.is_empty() {
        return crate::audit::engine::parse_month(&m)
            .map_err(|_| WebError::Input(format!("月份 `{m}` 应写作 YYYY-MM")));
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
    Ok(crate::audit::engine::parse_month(&latest)?)
}

/// The figures and charts of the static page for the month.
fn content(app: &App, month: NaiveDate) -> Result<Arc<String>, WebError> {
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
    // A connection of its own: the report preludes create tables.
    let wh = Warehouse::open_read(&app.wh)?;
    let conn = connect(&wh, app.db.catalog())?;
    let defs = Definitions::load(crate::defs::active())?;
    let run = reports::compute(
        &conn,
        &defs,
        &ReportOptions {
            month,
            unmasked: false,
            lists: false,
        },
    )?;
    let html = Arc::new(reports::dashboard::content(&run)?);
    app.dashboards
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, html.clone());
    Ok(html)
}

/// One level of the drill-down: per township (county), per village (a township), or
/// the one village; with a total row.
fn drill(
    app: &App,
    month: NaiveDate,
    township: &str,
    village: &str,
) -> Result<super::db::Rows, WebError> {
    let conn = app.db.conn()?;
    let (group, cond, one) = match (township.is_empty(), village.is_empty()) {
        (true, _) => ("township", "true".to_string(), vec![]),
        (false, true) => (
            "village",
            "township = ?".to_string(),
            vec![township.to_string()],
        ),
        (false, false) => (
            "village",
            "township = ? AND village = ?".to_string(),
            vec![township.to_string(), village.to_string()],
        ),
    };
    let prev = month - Months::new(1);
    let last_year = month - Months::new(12);
    let findings = if relation_exists(&conn, "findings")? {
        format!(
            "SELECT {group} AS area, count(*) AS open_findings, sum(amount_at_risk) AS at_risk
                 FROM findings WHERE status = 'open' AND {cond} GROUP BY 1"
        )
    } else {
        "SELECT NULL::VARCHAR AS area, 0 AS open_findings, NULL::DECIMAL(18,2) AS at_risk WHERE false".into()
    };
    let pct = |a: &str, b: &str| {
        format!("CASE WHEN {b} > 0 THEN printf('%+.1f%%', 100 * ({a} - {b}) / {b}) ELSE '' END")
    };
    let sql = format!(
        "WITH e AS (SELECT person_no, any_value(township) AS township, any_value(village) AS village
                    FROM enrollment GROUP BY person_no),
         areas AS (SELECT {group} AS area, count(*) AS enrolled FROM e WHERE {cond} GROUP BY 1),
         pe AS (SELECT e.township, e.village, p.month, p.total_amount, p.person_no
                FROM payout p JOIN e USING (person_no)
                WHERE p.status = 'ok' AND p.month IN (DATE '{month}', DATE '{prev}', DATE '{last_year}')),
         pay AS (SELECT {group} AS area,
                        count(DISTINCT person_no) FILTER (WHERE month = DATE '{month}') AS paid_persons,
                        coalesce(sum(total_amount) FILTER (WHERE month = DATE '{month}'), 0) AS paid,
                        coalesce(sum(total_amount) FILTER (WHERE month = DATE '{prev}'), 0) AS paid_prev,
                        coalesce(sum(total_amount) FILTER (WHERE month = DATE '{last_year}'), 0) AS paid_ly
                 FROM pe WHERE {cond} GROUP BY 1),
         fnd AS ({findings}),
         lines AS (SELECT a.area, a.enrolled, coalesce(p.paid_persons, 0) AS paid_persons,
                          coalesce(p.paid, 0) AS paid, coalesce(p.paid_prev, 0) AS paid_prev,
                          coalesce(p.paid_ly, 0) AS paid_ly, coalesce(f.open_findings, 0) AS open_findings,
                          coalesce(f.at_risk, 0) AS at_risk
                   FROM areas a LEFT JOIN pay p USING (area) LEFT JOIN fnd f USING (area)),
         total AS (SELECT '合计' AS area, sum(enrolled) AS enrolled, sum(paid_persons) AS paid_persons,
                          sum(paid) AS paid, sum(paid_prev) AS paid_prev, sum(paid_ly) AS paid_ly,
                          sum(open_findings) AS open_findings, sum(at_risk) AS at_risk FROM lines)
         SELECT area, enrolled, paid_persons, paid, paid_prev, {mom} AS mom, paid_ly, {yoy} AS yoy,
                open_findings, at_risk, area = '合计' AS is_total
         FROM (SELECT * FROM lines ORDER BY area) UNION ALL
         SELECT area, enrolled, paid_persons, paid, paid_prev, {mom}, paid_ly, {yoy}, open_findings, at_risk, true FROM total",
        mom = pct("paid", "paid_prev"),
        yoy = pct("paid", "paid_ly"),
    );
    // The condition appears in three subqueries.
    let params: Vec<String> = (0..3).flat_map(|_| one.iter().cloned()).collect();
    rows(&conn, &sql, &params)
}

pub fn page(app: &App, req: &Req) -> Result<Reply, WebError> {
    let month = month(app, req)?;
    let township = req.q("township");
    let village = if township.is_empty() {
        String::new()
    } else {
        req.q("village")
    };
    let table = drill(app, month, &township, &village)?;
    let content = content(app, month)?;
    let ctx = context! {

    month => month.format("%Y-%m").to_string(),
    month_zh => month.format("%Y年%m月").to_string(),
    prev => (month - Months::new(1)).format("%Y-%m").to_string(),
    last_year => (month - Months::new(12)).format("%Y-%m").to_string(),
    township => township, village => village,
    level => if township.is_empty() { "乡镇" } else { "村(居)" },
    drill => table.rows,
    content => minijinja::Value::from_safe_string(content.to_string()),
    css => minijinja::Value::from_safe_string(reports::dashboard::CSS.to_string()),
    footer => reports::dashboard::FOOTER, ..req.base() };
    Ok(Reply::Html(app.render("dashboard.html", ctx)?))
}
