//! Findings triage (稽核疑点处理) for the audit section: the list with filters, sort
//! and paging (DuckDB does the filtering and LIMIT/OFFSET: nothing is loaded whole),
//! a finding's page with the person's records beside it, status changes with a
//! version check, bulk assignment to a field worker, and the XLSX export of the
//! current filter.

use duckdb::Connection;
use minijinja::context;
use rust_decimal::Decimal;

use super::db::{rows, Rows};
use super::{month_of, persons, App, Reply, Req, WebError};
use crate::audit::{catalogue::CHECKS, STATUSES};
use crate::domain::Month;
use crate::warehouse::{relation_exists, Warehouse};

pub const PAGE_SIZE: i64 = 50;

/// The sort orders a user can pick: (name, ORDER BY, label).
const SORTS: &[(&str, &str, &str)] = &[
    ("amount", "amount_at_risk DESC NULLS LAST", "金额从高到低"),
    (
        "check",
        "check_code, township NULLS LAST, village NULLS LAST",
        "按疑点类型",
    ),
    (
        "place",
        "township NULLS LAST, village NULLS LAST, check_code",
        "按乡镇村",
    ),
    ("month", "month_from DESC NULLS LAST", "按月份(新→旧)"),
    ("status", "status, amount_at_risk DESC NULLS LAST", "按状态"),
];

/// The filter fields of the list (also the query string of the export and paging).
const FILTERS: &[&str] = &[
    "check", "township", "village", "status", "min", "max", "month", "assignee", "q",
];

/// The WHERE clause and its parameters for the request's filters.
fn filter(req: &Req) -> Result<(String, Vec<String>), WebError> {
    let mut conds = vec!["true".to_string()];
    let mut params = Vec::new();
    let mut eq = |col: &str, v: String| {
        if !v.is_empty() {
            conds.push(format!("{col} = ?"));
            params.push(v);
        }
    };
    eq("check_code", req.q("check"));
    eq("township", req.q("township"));
    eq("village", req.q("village"));
    eq("status", req.q("status"));
    eq("coalesce(assignee, '')", req.q("assignee"));
    for (field, op) in [("min", ">="), ("max", "<=")] {
        let v = req.q(field);
        if !v.is_empty() {
            let d: Decimal = v.parse().map_err(|_| {
                WebError::Input(format!(
                    "金额 `{v}` 不是数字 (amount must be a number like 1200.50)"
                ))
            })?;
            conds.push(format!("amount_at_risk {op} CAST(? AS DECIMAL(18,2))"));
            params.push(d.to_string());
        }
    }
    let month = req.q("month");
    if !month.is_empty() {
        let m = month_of(&month)?;
        // A finding concerns the month when the month lies within its months.
        conds.push("CAST(? AS DATE) BETWEEN coalesce(month_from, last_seen) AND coalesce(month_to, month_from, last_seen)".into());
        params.push(m.first_day().to_string());
    }
    let q = req.q("q");
    if !q.is_empty() {
        conds.push("(person_no = ? OR finding_id = ? OR name = ?)".into());
        params.extend([q.clone(), q.to_ascii_lowercase(), q]);
    }
    Ok((conds.join(" AND "), params))
}

/// Findings with their latest assignee.
const SOURCE: &str =
    "(SELECT f.*, a.assignee FROM findings f LEFT JOIN finding_assignee a USING (finding_id))";

fn has_findings(conn: &Connection) -> Result<bool, WebError> {
    Ok(relation_exists(conn, "findings")?)
}

/// The query string of the current filter (for paging, sorting and export links).
fn filter_query(req: &Req, extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<(String, String)> = FILTERS
        .iter()
        .chain(["sort"].iter())
        .map(|k| (k.to_string(), req.q(k)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    for (k, v) in extra {
        pairs.retain(|(x, _)| x != k);
        pairs.push((k.to_string(), v.clone()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

pub fn list(app: &App, req: &Req) -> Result<Reply, WebError> {
    let conn = app.db.conn()?;
    if !has_findings(&conn)? {
        return message_no_findings(app, req);
    }
    let (cond, params) = filter(req)?;
    let sort = SORTS
        .iter()
        .find(|s| s.0 == req.q("sort"))
        .unwrap_or(&SORTS[0]);
    let page: i64 = req.q("page").parse().unwrap_or(1).max(1);
    // The count and the amount in one pass over the filtered findings.
    let counted = rows(
        &conn,
        &format!("SELECT count(*), coalesce(sum(amount_at_risk), 0) FROM {SOURCE} WHERE {cond}"),
        &params,
    )?;
    let (total, sum): (i64, String) = counted
        .rows
        .first()
        .map(|r| (r[0].parse().unwrap_or(0), r[1].clone()))
        .unwrap_or_default();
    let found = rows(
        &conn,
        &format!(
            "SELECT finding_id, check_code, severity, person_no, name, township, village,
                    strftime(month_from, '%Y-%m') AS month_from, strftime(month_to, '%Y-%m') AS month_to,
                    amount_at_risk, status, assignee
             FROM {SOURCE} WHERE {cond} ORDER BY {}, finding_id LIMIT {PAGE_SIZE} OFFSET {}",
            sort.1,
            (page - 1) * PAGE_SIZE
        ),
        &params,
    )?;
    let townships = rows(
        &conn,
        "SELECT DISTINCT township FROM findings WHERE township IS NOT NULL ORDER BY 1",
        &[],
    )?;
    let villages = if req.q("township").is_empty() {
        Rows::default()
    } else {
        rows(
            &conn,
            "SELECT DISTINCT village FROM findings WHERE township = ? AND village IS NOT NULL ORDER BY 1",
            &[req.q("township")],
        )?
    };
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    let titles: Vec<(String, String)> = CHECKS
        .iter()
        .map(|c| (c.code.to_string(), c.title_zh.to_string()))
        .collect();
    let mut statuses: Vec<&str> = STATUSES.to_vec();
    statuses.push(crate::audit::store::CLOSED);
    let ctx = context! {

    findings => found.rows,
    titles => titles.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
    checks => titles,
    statuses => statuses,
    townships => townships.rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
    villages => villages.rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
    sorts => SORTS.iter().map(|s| (s.0, s.2)).collect::<Vec<_>>(),
    f => FILTERS.iter().chain(["sort"].iter()).map(|k| (k.to_string(), req.q(k))).collect::<std::collections::BTreeMap<_, _>>(),
    total => total, sum => sum, page => page, pages => pages,
    prev => (page > 1).then(|| filter_query(req, &[("page", (page - 1).to_string())])),
    next => (page < pages).then(|| filter_query(req, &[("page", (page + 1).to_string())])),
    export => filter_query(req, &[]),
    back => format!("/findings?{}", filter_query(req, &[("page", page.to_string())])), ..req.base() };
    Ok(Reply::Html(app.render("findings.html", ctx)?))
}

fn message_no_findings(app: &App, req: &Req) -> Result<Reply, WebError> {
    let ctx = context! {  title => "暂无稽核疑点",
    text => "仓库中还没有稽核结果：请先运行 pipeline audit --month YYYY-MM。The warehouse has no findings yet.", ..req.base() };
    Ok(Reply::Html(app.render("message.html", ctx)?))
}

fn valid_id(id: &str) -> Result<String, WebError> {
    let id = id.to_ascii_lowercase();
    if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(WebError::NotFound(format!("疑点编号 `{id}` 不存在")))
    }
}

/// The latest history entry of a finding: (seq, who, when, status); seq 0 = none.
fn latest(conn: &Connection, id: &str) -> Result<(i64, String, String, String), WebError> {
    if !relation_exists(conn, "finding_history")? {
        return Ok((0, String::new(), String::new(), String::new()));
    }
    let r = rows(
        conn,
        "SELECT seq, who, changed_at, status FROM finding_history WHERE finding_id = ? ORDER BY seq DESC LIMIT 1",
        &[id.to_string()],
    )?;
    Ok(match r.rows.first() {
        Some(x) => (
            x[0].parse().unwrap_or(0),
            x[1].clone(),
            x[2].clone(),
            x[3].clone(),
        ),
        None => (0, String::new(), String::new(), String::new()),
    })
}

pub fn page(app: &App, req: &Req, id: &str) -> Result<Reply, WebError> {
    let id = valid_id(id)?;
    let (conn, columns) = app.db.conn_and_columns()?;
    if !has_findings(&conn)? {
        return message_no_findings(app, req);
    }
    let f = rows(
        &conn,
        &format!(
            "SELECT finding_id, check_code, severity, person_no, id_number, name, township, village,
                    strftime(month_from, '%Y-%m') AS month_from, strftime(month_to, '%Y-%m') AS month_to,
                    amount_at_risk, evidence, status, strftime(first_seen, '%Y-%m') AS first_seen,
                    strftime(last_seen, '%Y-%m') AS last_seen, in_latest_audit, subject, assignee
             FROM {SOURCE} WHERE finding_id = ?"
        ),
        std::slice::from_ref(&id),
    )?;
    let Some(row) = f.rows.first() else {
        return Err(WebError::NotFound(format!("疑点编号 `{id}` 不存在")));
    };
    let finding: std::collections::BTreeMap<String, String> =
        f.columns.iter().cloned().zip(row.iter().cloned()).collect();
    let person_no = finding["person_no"].clone();
    let history = if relation_exists(&conn, "finding_history")? {
        rows(
            &conn,
            "SELECT seq, changed_at, who, coalesce(previous_status, '') AS previous_status, status, coalesce(note, '') AS note, source
             FROM finding_history WHERE finding_id = ? ORDER BY seq",
            std::slice::from_ref(&id),
        )?
    } else {
        Rows::default()
    };
    let sections = if person_no.is_empty() {
        Vec::new()
    } else {
        persons::beside_finding(
            (&conn, &columns),
            &person_no,
            &finding["month_from"],
            &finding["month_to"],
        )?
    };
    let (seen, ..) = latest(&conn, &id)?;
    let title = CHECKS
        .iter()
        .find(|c| c.code == finding["check_code"])
        .map_or("", |c| c.title_zh);
    app.log(
        &req.entry("view_finding")
            .subject(&id)
            .detail(&format!("person {person_no}")),
    )?;
    let ctx = context! {
     f => finding, title => title, history => history.rows, sections => sections,
    seen => seen, statuses => STATUSES, ..req.base() };
    Ok(Reply::Html(app.render("finding.html", ctx)?))
}

/// A status change with a note. The form carries the history entry the auditor saw
/// (`seen`); if another change came in since, nothing is written and the auditor is
/// told who changed it, when and to what.
pub fn set_status(app: &App, req: &Req, id: &str) -> Result<Reply, WebError> {
    let id = valid_id(id)?;
    let status = req.field("status");
    if !STATUSES.contains(&status.as_str()) {
        return Err(WebError::Input(format!("状态 `{status}` 无效")));
    }
    let mut note = req.field("note");
    if status == "recovered" {
        let amount = req.field("recovered");
        let d: Decimal = amount.parse().ok().filter(|d: &Decimal| *d > Decimal::ZERO && d.scale() <= 2).ok_or_else(|| {
            WebError::Input(format!(
                "已追回须填写追回金额（元，最多两位小数），`{amount}` 不是有效金额 (recovered needs the amount recovered)"
            ))
        })?;
        note = format!(
            "追回金额 {d} 元 (recovered ¥{d}){}{note}",
            if note.is_empty() { "" } else { "; " }
        );
    }
    if note.is_empty() {
        return Err(WebError::Input(
            "请填写处理说明 (a note is required)".into(),
        ));
    }
    let seen: i64 = req.field("seen").parse().unwrap_or(-1);
    let user = req.user().user.clone();
    let _one = app.writing.lock().unwrap_or_else(|e| e.into_inner());
    let mut wh = Warehouse::open(&app.wh)?;
    let (current, who, when, now_status) = {
        let conn = crate::warehouse::connect(&wh, app.db.catalog())?;
        latest(&conn, &id)?
    };
    if current != seen {
        let text = format!(
            "此疑点在您打开后已被 {who} 于 {when} 改为 {now_status}，您的修改未保存；请重新打开页面查看后再处理。\
             Finding {id} was changed by {who} at {when} (to {now_status}) after you opened it; your change was not saved."
        );
        let ctx = context! {  title => "疑点已被他人修改 (conflict)", text => text, link => format!("/findings/{id}"), ..req.base() };
        return Ok(Reply::Status(
            axum::http::StatusCode::CONFLICT,
            app.render("message.html", ctx)?,
        ));
    }
    let outcome = crate::audit::set_status(
        &mut wh,
        app.db.catalog(),
        &id,
        &status,
        Some(&note),
        &user,
        &format!("serve: status of {id} set by {user}"),
    )?;
    drop(wh);
    app.log(&req.entry("status_change").subject(&id).detail(&format!(
        "{} → {}: {note}",
        outcome.previous, outcome.status
    )))?;
    Ok(Reply::Redirect(format!("/findings/{id}")))
}

/// Assigns the ticked findings to a field worker.
pub fn assign(app: &App, req: &Req) -> Result<Reply, WebError> {
    let ids: Vec<String> = req
        .fields("id")
        .iter()
        .map(|i| valid_id(i))
        .collect::<Result<_, _>>()?;
    let assignee = req.field("assignee");
    if ids.is_empty() || assignee.is_empty() {
        return Err(WebError::Input(
            "请勾选疑点并填写核查人员 (tick findings and name a field worker)".into(),
        ));
    }
    let user = req.user().user.clone();
    crate::audit::assign::append(&app.wh, &ids, &assignee, &user)?;
    app.log(&req.entry("assign").subject(&assignee).detail(&format!(
        "{} findings: {}",
        ids.len(),
        ids.join(" ")
    )))?;
    let back = req.field("back");
    Ok(Reply::Redirect(if back.starts_with("/findings") {
        back
    } else {
        "/findings".into()
    }))
}

/// The current filter as the audit's field-verification workbook
/// (pipeline/audit/export.rs, the same sheets as `pipeline audit --out`).
pub fn export(app: &App, req: &Req) -> Result<Reply, WebError> {
    let conn = app.db.conn()?;
    if !has_findings(&conn)? {
        return message_no_findings(app, req);
    }
    let (cond, params) = filter(req)?;
    let n: i64 = {
        let mut stmt = conn.prepare(&format!(
            "CREATE TEMP TABLE a_final AS SELECT * EXCLUDE (assignee) FROM {SOURCE} WHERE {cond}"
        ))?;
        stmt.execute(duckdb::params_from_iter(params.iter()))? as i64
    };
    conn.execute_batch(
        "CREATE TEMP TABLE a_kept AS SELECT * FROM a_final WHERE false;
         CREATE TEMP TABLE a_person AS SELECT person_no, any_value(phone) AS phone, any_value(address) AS address,
                any_value(bank_account) AS bank_account FROM enrollment GROUP BY person_no;",
    )?;
    let month = match req.q("month") {
        m if !m.is_empty() => month_of(&m)?,
        _ => Month::of(chrono::Local::now().date_naive()),
    };
    let dir = std::env::temp_dir().join(format!("pipeline-export-{}", super::auth::token()));
    let files = crate::audit::export::write(&conn, &dir, month.first_day());
    let result = files.and_then(|files| {
        std::fs::read(&files[0]).map_err(|e| crate::audit::AuditError::Io {
            path: files[0].clone(),
            source: e,
        })
    });
    let _ = std::fs::remove_dir_all(&dir);
    let bytes = result?;
    app.log(
        &req.entry("export")
            .subject("findings")
            .detail(&format!("{n} findings, filter: {}", filter_query(req, &[]))),
    )?;
    Ok(Reply::File {
        name: format!("稽核疑点_{month}.xlsx"),
        mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    })
}
