//! The person's account statement (个人账户明细表, 附表十) and the pension-age
//! notice (待遇领取通知表, 附表十一), built by replaying the persons concerned
//! straight from the warehouse, and rendered as an aligned table, CSV or XLSX.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use duckdb::Connection;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::engine::{round_fen, Holding, PostingKind, Sub};
use super::input::ev;
use super::stage::{replay_persons, StageOptions};
use super::StageError;
use crate::domain::calendar::{month_end, month_index, month_of_index};
use crate::warehouse::lit;

mod document;
mod notice;

pub use document::*;
pub use notice::*;

// ---------------------------------------------------------------------------
// The statement (附表十).

fn sub_label(s: Sub) -> &'static str {
    match s {
        Sub::Individual => "个人缴费 individual",
        Sub::Collective => "集体补助 collective",
        Sub::Transfer => "转入 transfer",
        Sub::Government => "政府补贴 government",
    }
}

/// The enrollment record a statement heads with.
#[derive(Debug, Clone, Default)]
pub struct PersonInfo {
    pub person_no: String,
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: Option<NaiveDate>,
    pub township: String,
    pub village: String,
    pub enroll_date: Option<NaiveDate>,
    pub tier: Option<i64>,
    pub phone: String,
}

/// Finds a person by person number or ID number (any accepted spelling; a
/// 15-digit number is matched in its 18-digit form).
pub fn find_person(conn: &Connection, key: &str) -> Result<Vec<PersonInfo>, StageError> {
    let key = key.trim();
    let parsed = crate::idnum::parse(key);
    let id = if parsed.problem.is_none() {
        parsed.normalized.clone()
    } else {
        key.to_uppercase()
    };
    let sql = format!(
        "SELECT person_no, id_number, name, sex, birth_date, township, village, enroll_date, tier, phone \
         FROM enrollment WHERE person_no = {} OR upper(id_number) = {} \
         QUALIFY row_number() OVER (PARTITION BY person_no ORDER BY _file_seq, _line) = 1 \
         ORDER BY person_no",
        lit(key),
        lit(&id)
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(PersonInfo {
            person_no: r.get(0)?,
            id_number: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            sex: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            birth_date: r.get(4)?,
            township: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            village: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            enroll_date: r.get(7)?,
            tier: r.get(8)?,
            phone: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
        })
    })?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?);
    }
    Ok(out)
}

/// A person worth showing (for the demo): the first beneficiary, by person
/// number, who also contributed and whose approval agrees with the rules when
/// the ledger has run; else the first enrollment.
pub fn sample_person(conn: &Connection) -> Result<Option<PersonInfo>, StageError> {
    let has_check: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_views() WHERE view_name = 'benefit_check'",
        [],
        |r| r.get(0),
    )?;
    let agree = if has_check {
        " AND a.person_no IN (SELECT person_no FROM benefit_check WHERE NOT has_difference)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT min(a.person_no) FROM benefit_approval a \
         WHERE a.person_no IN (SELECT person_no FROM contribution WHERE status = 'ok'){agree}"
    );
    let found: Option<String> = conn.query_row(&sql, [], |r| r.get(0))?;
    let key = match found {
        Some(p) => p,
        None => match conn.query_row("SELECT min(person_no) FROM enrollment", [], |r| {
            r.get::<_, Option<String>>(0)
        })? {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    Ok(find_person(conn, &key)?.into_iter().next())
}

/// The last month with any account event or payment in the warehouse (the
/// default end of a statement).
pub fn latest_month(conn: &Connection) -> Result<Option<NaiveDate>, StageError> {
    let d: Option<NaiveDate> = conn.query_row(
        "SELECT max(d) FROM (SELECT max(paid_date) d FROM contribution \
         UNION ALL SELECT max(paid_date) FROM payout \
         UNION ALL SELECT max(credited_date) FROM government_subsidy \
         UNION ALL SELECT max(paid_date) FROM collective_subsidy)",
        [],
        |r| r.get(0),
    )?;
    Ok(d.map(month_end))
}

/// Credit type of a posting, for the statement's columns.
fn credit_column(kind: PostingKind, origin: Option<(u8, i32, i32)>) -> Option<usize> {
    match (kind, origin.map(|o| o.0)) {
        (PostingKind::PrepaidMove, _) => Some(2),
        (PostingKind::Credit, Some(ev::NORMAL)) => Some(0),
        (PostingKind::Credit, Some(ev::BACKPAY)) => Some(1),
        (PostingKind::Credit, Some(ev::COLLECTIVE)) => Some(3),
        (PostingKind::Credit, Some(ev::GOVERNMENT)) => Some(4),
        (PostingKind::Credit, Some(ev::TRANSFER_IN)) => Some(5),
        (PostingKind::Credit, _) => Some(0),
        _ => None,
    }
}

/// The statement of one person through the end of `opts.through`'s month.
pub fn statement(
    conn: &Connection,
    person: &PersonInfo,
    opts: &StageOptions,
) -> Result<Document, StageError> {
    let persons = vec![person.person_no.clone()];
    let (mut outs, _refs, _side) = replay_persons(conn, &persons, opts)?;
    let (mut pe, out) = outs.pop().unwrap_or_default();
    if pe.person_no.is_empty() {
        pe.person_no = person.person_no.clone();
    }
    let mut facts = vec![
        ("个人编号 person_no".to_string(), t(&person.person_no)),
        ("姓名 name".to_string(), t(&person.name)),
        ("公民身份号码 id_number".to_string(), t(&person.id_number)),
        ("性别 sex".to_string(), t(&person.sex)),
        (
            "出生日期 birth_date".to_string(),
            person.birth_date.map_or(Cell::Empty, Cell::Date),
        ),
        ("乡镇 township".to_string(), t(&person.township)),
        ("村(居) village".to_string(), t(&person.village)),
        (
            "参保日期 enroll_date".to_string(),
            person.enroll_date.map_or(Cell::Empty, Cell::Date),
        ),
        (
            "缴费档次 tier".to_string(),
            person.tier.map_or(Cell::Empty, Cell::Int),
        ),
        (
            "截至 through".to_string(),
            Cell::Month(month_of_index(month_index(opts.through))),
        ),
    ];
    let mut tables = Vec::new();
    if let Some(err) = &out.error {
        facts.push(("记账错误 ledger error".to_string(), t(err)));
    }
    if let Some(r) = &out.replay {
        facts.push((
            "账户余额 balance".to_string(),
            Cell::Money(r.closing_total()),
        ));
        facts.push((
            "统筹基金支付 pooled fund paid".to_string(),
            Cell::Money(r.pooled_total),
        ));
        // Credits by type per (year, sub-balance).
        let mut by_type: BTreeMap<(i32, Sub), [Decimal; 6]> = BTreeMap::new();
        for (x, o) in r.postings.iter().zip(&out.posting_origins) {
            if let Holding::Account(sub) = x.holding {
                if let Some(col) = credit_column(x.kind, *o) {
                    by_type.entry((x.date.year(), sub)).or_default()[col] += x.amount;
                }
            }
        }
        let mut rows = Vec::new();
        let years: Vec<i32> = {
            let mut ys: Vec<i32> = r.years.iter().map(|y| y.year).collect();
            ys.dedup();
            ys
        };
        for year in years {
            let mut total = [Decimal::ZERO; 14];
            let mut any = false;
            for y in r.years.iter().filter(|y| y.year == year) {
                let credits = by_type.get(&(year, y.sub)).copied().unwrap_or_default();
                let nums = [
                    y.opening,
                    credits[0],
                    credits[1],
                    credits[2],
                    credits[3],
                    credits[4],
                    credits[5],
                    y.debits,
                    y.closed_out,
                    y.interest,
                    y.closing,
                    y.accrued_unposted,
                ];
                if nums.iter().all(Decimal::is_zero) {
                    continue;
                }
                any = true;
                for (i, n) in nums.iter().enumerate() {
                    total[i] += *n;
                }
                let mut row = vec![Cell::Int(year as i64), t(sub_label(y.sub))];
                row.extend(nums.iter().map(|n| Cell::Money(*n)));
                rows.push(row);
            }
            if any {
                let mut row = vec![Cell::Int(year as i64), t("合计 total")];
                row.extend(total[..12].iter().map(|n| Cell::Money(*n)));
                rows.push(row);
            }
        }
        tables.push(Table {
            title: "个人账户明细 account by year and sub-balance".into(),
            headers: [
                "年度 year",
                "分账户 sub-balance",
                "年初余额 opening",
                "缴费 contribution",
                "补缴 backpay",
                "预缴划入 prepaid",
                "集体补助 collective",
                "政府补贴 subsidy",
                "转入 transfer_in",
                "支付 debits",
                "结清 closed_out",
                "利息 interest",
                "年末余额 closing",
                "应计未记 accrued",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        });
        if !r.prepaid_years.is_empty() {
            tables.push(Table {
                title: "预缴户 prepaid holding".into(),
                headers: [
                    "年度 year",
                    "年初余额 opening",
                    "收到 received",
                    "划入个人账户 moved",
                    "退还 refunded",
                    "利息 interest",
                    "年末余额 closing",
                    "应计未记 accrued",
                ]
                .map(String::from)
                .to_vec(),
                rows: r
                    .prepaid_years
                    .iter()
                    .map(|y| {
                        vec![
                            Cell::Int(y.year as i64),
                            Cell::Money(y.opening),
                            Cell::Money(y.received),
                            Cell::Money(y.moved),
                            Cell::Money(y.refunded),
                            Cell::Money(y.interest),
                            Cell::Money(y.closing),
                            Cell::Money(y.accrued_unposted),
                        ]
                    })
                    .collect(),
            });
        }
    }
    tables.push(Table {
        title: "待遇核定 benefit approval (rule beside record)".into(),
        headers: [
            "待遇开始 start",
            "到龄次月 rule start",
            "核定日期 approved",
            "储存额(规则) balance rule",
            "储存额(核定) balance",
            "账户养老金(规则) account rule",
            "账户养老金(核定) account",
            "基础养老金(标准) basic rule",
            "基础养老金(核定) basic",
            "差异 difference",
        ]
        .map(String::from)
        .to_vec(),
        rows: out
            .benefit
            .iter()
            .map(|b| {
                vec![
                    Cell::Month(b.start_month),
                    b.rule_start_month.map_or(Cell::Empty, Cell::Month),
                    Cell::Date(b.approve_date),
                    opt_money(b.balance_rule),
                    Cell::Money(b.account_balance),
                    opt_money(b.account_monthly_rule),
                    Cell::Money(b.account_monthly),
                    opt_money(b.basic_rule),
                    Cell::Money(b.basic_monthly),
                    t(if b.has_difference { "有 yes" } else { "" }),
                ]
            })
            .collect(),
    });
    tables.push(payments_table(conn, &pe, &out, opts)?);
    if !out.refunds.is_empty() {
        tables.push(Table {
            title: "注销/转出 closures (rule beside record)".into(),
            headers: [
                "原因 reason",
                "事件日期 event",
                "申请日期 applied",
                "结算后余额 balance",
                "应退 refund rule",
                "已退 refund paid",
                "政府补贴退回基金 government returned",
                "应转出 transfer rule",
                "已转出 transferred",
                "逾期申领 late claim",
            ]
            .map(String::from)
            .to_vec(),
            rows: out
                .refunds
                .iter()
                .map(|c| {
                    vec![
                        t(&c.reason),
                        Cell::Date(c.event_date),
                        Cell::Date(c.apply_date),
                        Cell::Money(c.balance_rule),
                        Cell::Money(c.refund_rule),
                        opt_money(c.refund_amount),
                        Cell::Money(c.government_returned),
                        Cell::Money(c.transfer_rule),
                        opt_money(c.transfer_amount),
                        t(if c.late_claim { "是 yes" } else { "" }),
                    ]
                })
                .collect(),
        });
    }
    Ok(Document {
        title: "个人账户明细表 (附表十) individual account statement".into(),
        facts,
        tables,
    })
}

/// The payment history beside what each month should have paid.
fn payments_table(
    conn: &Connection,
    pe: &super::input::PersonEvents,
    out: &super::stage::PersonOut,
    opts: &StageOptions,
) -> Result<Table, StageError> {
    let sql = format!(
        "SELECT month, paid_date, basic_amount, account_amount, total_amount, status, \
         _file_seq::INTEGER, _line::INTEGER FROM payout WHERE person_no = {} AND month <= {} \
         ORDER BY month, paid_date, _file_seq, _line",
        lit(&pe.person_no),
        format_args!("DATE '{}'", opts.through.format("%Y-%m-%d"))
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, NaiveDate>(0)?,
            r.get::<_, Option<NaiveDate>>(1)?,
            r.get::<_, Decimal>(2)?,
            r.get::<_, Decimal>(3)?,
            r.get::<_, Decimal>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, i32>(6)?,
            r.get::<_, i32>(7)?,
        ))
    })?;
    // Pooled-fund part of each payment, by its payout row.
    let mut pooled: BTreeMap<(i32, i32), Decimal> = BTreeMap::new();
    if let Some(r) = &out.replay {
        for (x, o) in r.postings.iter().zip(&out.posting_origins) {
            if let (PostingKind::PooledCharge, Some((ev::PAYOUT, fs, ln))) = (x.kind, o) {
                *pooled.entry((*fs, *ln)).or_default() += x.amount;
            }
        }
    }
    let expected: BTreeMap<NaiveDate, &super::checks::ExpectedMonth> =
        out.expected.iter().map(|e| (e.month, e)).collect();
    let mut table_rows = Vec::new();
    let mut seen_months = std::collections::BTreeSet::new();
    for row in rows {
        let (month, paid, basic, account, total, status, fs, ln) = row?;
        let exp = expected.get(&month);
        let first = seen_months.insert(month);
        table_rows.push(vec![
            Cell::Month(month),
            paid.map_or(Cell::Empty, Cell::Date),
            Cell::Money(basic),
            Cell::Money(account),
            Cell::Money(total),
            t(&status),
            opt_money(pooled.get(&(fs, ln)).copied()),
            if first {
                opt_money(exp.map(|e| e.expected_total))
            } else {
                Cell::Empty
            },
            t(if first {
                exp.and_then(|e| e.reason).map_or("", |r| r.code())
            } else {
                ""
            }),
        ]);
    }
    // Months that should have been paid but have no payment row.
    for e in out
        .expected
        .iter()
        .filter(|e| e.payable && !seen_months.contains(&e.month))
    {
        table_rows.push(vec![
            Cell::Month(e.month),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            t("未发放 not paid"),
            Cell::Empty,
            Cell::Money(e.expected_total),
            t(e.reason.map_or("", |r| r.code())),
        ]);
    }
    table_rows.sort_by(|a, b| match (&a[0], &b[0]) {
        (Cell::Month(x), Cell::Month(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    });
    Ok(Table {
        title: "待遇发放 payments (with what the month should pay)".into(),
        headers: [
            "发放年月 month",
            "发放日期 paid",
            "基础养老金 basic",
            "个人账户养老金 account",
            "合计 total",
            "状态 status",
            "其中统筹基金 pooled part",
            "应发 expected",
            "说明 note",
        ]
        .map(String::from)
        .to_vec(),
        rows: table_rows,
    })
}
