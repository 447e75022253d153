//! A person's page (个人全景): search by person number, ID number (18 characters or
//! the legacy 15 digits) or name, then everything the warehouse holds about the
//! person — every view with a `person_no` or `id_number` column, found from the
//! catalogue of the session rather than listed by hand — each row with the file and
//! line it came from (`_file`, `_line`, pipeline/warehouse/views.rs).

use duckdb::Connection;
use minijinja::context;
use rayon::prelude::*;

use super::db::{rows, Columns, Rows};
use super::{App, Reply, Req, WebError};

/// A table of records on a page.
#[derive(Debug, serde::Serialize)]
pub struct Section {
    pub title: String,
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub more: bool,
}

const MAX_ROWS: usize = 500;

/// Bookkeeping columns a clerk does not need; `_file` and `_line` stay (lineage).
const HIDDEN: &[&str] = &["_key", "_hash", "_extra", "_run", "_file_seq", "_flags"];

/// Chinese titles of the usual tables (others show their name).
const TITLES: &[(&str, &str)] = &[
    ("enrollment", "参保登记"),
    ("id_registry", "公安户籍"),
    ("death_record", "死亡信息"),
    ("payout", "待遇发放"),
    ("contribution", "缴费明细"),
    ("benefit_approval", "待遇核定"),
    ("cancellation", "注销登记"),
    ("change", "变更登记"),
    ("certification", "资格认证"),
    ("suspension", "暂停/恢复"),
    ("transfer", "转移接续"),
    ("employee_pension", "职工养老保险"),
    ("inmate", "服刑人员"),
    ("province_finding", "跨地区比对疑点 (省级回县核查)"),
    ("collective_subsidy", "集体补助"),
    ("government_subsidy", "政府补贴"),
    ("account_year", "个人账户(年度)"),
    ("account_event", "个人账户(明细)"),
    ("findings", "稽核疑点"),
];

fn title(table: &str) -> String {
    TITLES
        .iter()
        .find(|t| t.0 == table)
        .map_or(table.to_string(), |t| format!("{} {table}", t.1))
}

fn columns_of(columns: &Columns, table: &str) -> Vec<String> {
    columns
        .get(table)
        .map(|c| {
            c.iter()
                .filter(|c| !HIDDEN.contains(&c.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The rows of `table` where `key` is one of `values` (and `extra` holds).
fn section(
    (conn, columns): (&Connection, &Columns),
    table: &str,
    key: &str,
    values: &[String],
    extra: &str,
) -> Result<Section, WebError> {
    let cols = columns_of(columns, table);
    let list: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
    // The same rows from the kind's person-sorted copy when it is current (the
    // session defines it only then): one file instead of one per month.
    let copy = format!("{table}{}", crate::warehouse::by_person::SUFFIX);
    let from = if columns.contains_key(&copy) {
        &copy
    } else {
        table
    };
    let marks = vec!["?"; values.len()].join(", ");
    let order = if cols.iter().any(|c| c == "_line") {
        " ORDER BY \"_file\", \"_line\""
    } else {
        ""
    };
    let r: Rows = rows(
        conn,
        &format!(
            "SELECT {} FROM \"{from}\" WHERE \"{key}\" IN ({marks}){extra}{order} LIMIT {}",
            list.join(", "),
            MAX_ROWS + 1
        ),
        values,
    )?;
    let more = r.rows.len() > MAX_ROWS;
    Ok(Section {
        title: title(table),
        table: table.to_string(),
        columns: r.columns,
        rows: r.rows.into_iter().take(MAX_ROWS).collect(),
        more,
    })
}

/// The ID numbers the warehouse links to a person number.
fn id_numbers(conn: &Connection, person_no: &str) -> Result<Vec<String>, WebError> {
    Ok(rows(
        conn,
        "SELECT DISTINCT id_number FROM enrollment WHERE person_no = ? AND id_number IS NOT NULL",
        &[person_no.to_string()],
    )?
    .rows
    .into_iter()
    .map(|r| r[0].clone())
    .collect())
}

/// The finding page's side panel: enrollment, register, death records, payouts of
/// the months concerned (three months either side) and the account statement.
pub fn beside_finding(
    (conn, columns): (&Connection, &Columns),
    person_no: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Section>, WebError> {
    let db = (conn, columns);
    let ids = id_numbers(conn, person_no)?;
    let p = vec![person_no.to_string()];
    let mut out = vec![section(db, "enrollment", "person_no", &p, "")?];
    if !ids.is_empty() {
        out.push(section(db, "id_registry", "id_number", &ids, "")?);
        out.push(section(db, "death_record", "id_number", &ids, "")?);
    }
    let window = match (from.is_empty(), to.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!(" AND month >= DATE '{from}-01' - INTERVAL 3 MONTH"),
        (false, false) => format!(
            " AND month BETWEEN DATE '{from}-01' - INTERVAL 3 MONTH AND DATE '{to}-01' + INTERVAL 3 MONTH"
        ),
    };
    // `from`/`to` come from the findings table as YYYY-MM; anything else is not used.
    let window = if [from, to]
        .iter()
        .all(|m| m.is_empty() || m.parse::<crate::domain::Month>().is_ok())
    {
        window
    } else {
        String::new()
    };
    out.push(section(db, "payout", "person_no", &p, &window)?);
    if columns.contains_key("account_year") {
        out.push(section(db, "account_year", "person_no", &p, "")?);
    }
    Ok(out)
}

/// Every table of the session with a person number or an ID number column, with the
/// column to match on (current records only: `_all`/`_history` are in `history`;
/// `_`-prefixed and the audit's working `a_` tables are internal).
fn person_tables(columns: &Columns) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = columns
        .iter()
        .filter(|(t, _)| {
            !t.ends_with("_all")
                && !t.ends_with("_history")
                && !t.ends_with(crate::warehouse::by_person::SUFFIX)
                && !t.starts_with('_')
                && !t.starts_with("a_")
        })
        .filter_map(|(t, cols)| {
            let has = |c: &str| cols.iter().any(|x| x == c);
            let key = if has("person_no") {
                "person_no"
            } else if has("id_number") {
                "id_number"
            } else {
                return None;
            };
            Some((t.clone(), key.to_string()))
        })
        .collect();
    out.sort_by_key(|(t, _)| (t != "enrollment", t.clone()));
    out
}

pub fn search(app: &App, req: &Req) -> Result<Reply, WebError> {
    let q = crate::idnum::fold_width(&req.q("q")).into_owned();
    let mut found = Rows::default();
    if !q.is_empty() {
        let conn = app.db.conn()?;
        let digits = q
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'X' || b == b'x');
        let (cond, value) = match q.len() {
            16 if digits => ("person_no = ?", q.clone()),
            15 | 18 if digits => ("id_number = ?", crate::idnum::parse(&q).normalized),
            _ => ("replace(name, ' ', '') = ?", q.clone()),
        };
        found = rows(
            &conn,
            &format!(
                "SELECT person_no, name, id_number, township, village, enroll_date FROM enrollment
                 WHERE {cond} ORDER BY person_no LIMIT 200"
            ),
            &[value],
        )?;
        app.log(
            &req.entry("search_person")
                .subject(&q)
                .detail(&format!("{} found", found.rows.len())),
        )?;
        if found.rows.len() == 1 {
            return Ok(Reply::Redirect(format!("/persons/{}", found.rows[0][0])));
        }
    }
    let ctx = context! {  q => q, found => found.rows, searched => !q.is_empty(), ..req.base() };
    Ok(Reply::Html(app.render("persons.html", ctx)?))
}

pub fn page(app: &App, req: &Req, person_no: &str) -> Result<Reply, WebError> {
    if person_no.is_empty() || !person_no.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(WebError::NotFound(format!("个人编号 `{person_no}` 不存在")));
    }
    let (conn, columns) = app.db.conn_and_columns()?;
    let ids = id_numbers(&conn, person_no)?;
    let asks: Vec<(String, String, Vec<String>)> = person_tables(&columns)
        .into_iter()
        .map(|(table, key)| {
            let values = if key == "person_no" {
                vec![person_no.to_string()]
            } else {
                ids.clone()
            };
            (table, key, values)
        })
        .filter(|(_, _, values)| !values.is_empty())
        .collect();
    // Some twenty small queries, each mostly on one core: asked side by side, one
    // connection each (a connection is not shared between threads).
    let conns = asks
        .iter()
        .map(|_| conn.try_clone())
        .collect::<Result<Vec<_>, _>>()?;
    let sections: Vec<Section> = asks
        .into_par_iter()
        .zip(conns)
        .map(|((table, key, values), c)| section((&c, &columns), &table, &key, &values, ""))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|s| !s.rows.is_empty())
        .collect();
    if sections.is_empty() {
        return Err(WebError::NotFound(format!(
            "仓库中没有个人编号 {person_no} 的记录"
        )));
    }
    app.log(&req.entry("view_person").subject(person_no))?;
    let ctx = context! {  person_no => person_no, ids => ids, sections => sections, ..req.base() };
    Ok(Reply::Html(app.render("person.html", ctx)?))
}
