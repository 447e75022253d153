//! The derived tables as columns: each person's compact rows (fen, days since
//! 1970) and the Parquet frames of a chunk, one builder per table.

use super::*;
use crate::warehouse::columns::enum_column;

/// Exact fen of an amount (money here always has at most two decimals).
pub(super) fn fen(d: Decimal) -> i128 {
    if d.scale() == 2 {
        return d.mantissa();
    }
    let mut x = d.round_dp(2);
    x.rescale(2);
    x.mantissa()
}

/// Days since 1970-01-01.
pub(super) fn days(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - 719_163
}

pub(super) fn money_vec(name: &str, v: Vec<i128>) -> PolarsResult<Column> {
    Ok(Int128Chunked::from_vec(name.into(), v)
        .into_decimal(18, 2)?
        .into_series()
        .into_column())
}

pub(super) fn money_opt(name: &str, v: Vec<Option<i128>>) -> PolarsResult<Column> {
    Ok(Int128Chunked::from_iter_options(name.into(), v.into_iter())
        .into_decimal(18, 2)?
        .into_series()
        .into_column())
}

pub(super) fn date_vec(name: &str, v: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), v)
        .into_date()
        .into_series()
        .into_column()
}

pub(super) fn date_opt(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_date()
        .into_series()
        .into_column()
}

pub(super) fn i32_vec(name: &str, v: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), v)
        .into_series()
        .into_column()
}

pub(super) fn i32_opt(name: &str, v: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

pub(super) fn i64_vec(name: &str, v: Vec<i64>) -> Column {
    Int64Chunked::from_vec(name.into(), v)
        .into_series()
        .into_column()
}

pub(super) fn i64_opt(name: &str, v: Vec<Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

pub(super) fn bool_vec(name: &str, v: Vec<bool>) -> Column {
    BooleanChunked::from_iter_values(name.into(), v.into_iter())
        .into_series()
        .into_column()
}

pub(super) fn strings(name: &str, n: usize) -> StringChunkedBuilder {
    StringChunkedBuilder::new(name.into(), n)
}

pub(super) fn done(b: StringChunkedBuilder) -> Column {
    b.finish().into_series().into_column()
}

/// The position of `value` in `values`, as an Enum code (see [`enum_column`]);
/// `u8::MAX`, which [`enum_column`] refuses, when it is not there.
pub(super) fn code_of<T: PartialEq>(values: &[T], value: &T) -> u8 {
    values
        .iter()
        .position(|v| v == value)
        .map_or(u8::MAX, |i| i as u8)
}

/// `account_event.holding`: the sub-balances in debit order, then the prepaid
/// holding and the pooled fund.
pub(super) const HOLDINGS: [Holding; 6] = [
    Holding::Account(Sub::Individual),
    Holding::Account(Sub::Collective),
    Holding::Account(Sub::Transfer),
    Holding::Account(Sub::Government),
    Holding::Prepaid,
    Holding::Pooled,
];

/// `account_event.source_kind`: the input tables events come from.
pub(super) const SOURCE_KINDS: [&str; 7] = [
    "contribution",
    "collective_subsidy",
    "government_subsidy",
    "transfer",
    "payout",
    "benefit_approval",
    "cancellation",
];

pub(super) fn frame(columns: Vec<Column>) -> PolarsResult<DataFrame> {
    let h = columns.first().map_or(0, |c| c.len());
    DataFrame::new(h, columns)
}

pub(super) fn is_empty_year(y: &AccountYear) -> bool {
    [
        y.opening,
        y.credits,
        y.debits,
        y.closed_out,
        y.interest,
        y.closing,
        y.accrued_unposted,
    ]
    .iter()
    .all(Decimal::is_zero)
}

pub(super) fn holding_code(h: Holding) -> &'static str {
    match h {
        Holding::Account(s) => s.code(),
        Holding::Prepaid => "prepaid",
        Holding::Pooled => "pooled",
    }
}

/// Money as fen for the compact rows.
pub(super) fn f64n(d: Decimal) -> i64 {
    fen(d) as i64
}

pub(super) struct YearRow {
    pub(super) year: i32,
    pub(super) sub: Sub,
    pub(super) fen: [i64; 7],
}

pub(super) struct PrepaidRow {
    pub(super) year: i32,
    pub(super) fen: [i64; 7],
}

pub(super) struct PostingRow {
    pub(super) day: i32,
    pub(super) kind: PostingKind,
    pub(super) holding: Holding,
    pub(super) fen: i64,
    pub(super) origin: Option<(u8, i32, i32)>,
}

pub(super) struct ExpectedRow {
    pub(super) day: i32,
    pub(super) fen: [i64; 5],
    pub(super) payable: bool,
    pub(super) reason: Option<Reason>,
    pub(super) from: Option<i32>,
}

/// One person's rows for the tables, compact (fen, days since 1970): the
/// replay's own structures are dropped where they were made.
pub struct StageOut {
    pub(super) person_no: String,
    pub(super) events: u64,
    pub(super) rows: u64,
    pub(super) postings: u64,
    pub(super) pooled: Decimal,
    pub(super) error: Option<String>,
    pub(super) years: Vec<YearRow>,
    pub(super) prepaid: Vec<PrepaidRow>,
    pub(super) posting_rows: Vec<PostingRow>,
    pub(super) benefit: Vec<BenefitCheck>,
    pub(super) expected: Vec<ExpectedRow>,
    pub(super) refunds: Vec<RefundCheck>,
}

impl StageOut {
    pub(super) fn from_out(o: PersonOut) -> StageOut {
        let (years, prepaid, posting_rows, postings, pooled) = match &o.replay {
            None => (Vec::new(), Vec::new(), Vec::new(), 0, Decimal::ZERO),
            Some(r) => (
                r.years
                    .iter()
                    .filter(|y| !is_empty_year(y))
                    .map(|y| YearRow {
                        year: y.year,
                        sub: y.sub,
                        fen: [
                            y.opening,
                            y.credits,
                            y.debits,
                            y.closed_out,
                            y.interest,
                            y.closing,
                            y.accrued_unposted,
                        ]
                        .map(f64n),
                    })
                    .collect(),
                r.prepaid_years
                    .iter()
                    .map(|y| PrepaidRow {
                        year: y.year,
                        fen: [
                            y.opening,
                            y.received,
                            y.moved,
                            y.refunded,
                            y.interest,
                            y.closing,
                            y.accrued_unposted,
                        ]
                        .map(f64n),
                    })
                    .collect(),
                r.postings
                    .iter()
                    .zip(
                        o.posting_origins
                            .iter()
                            .copied()
                            .chain(std::iter::repeat(None)),
                    )
                    .map(|(x, origin)| PostingRow {
                        day: days(x.date),
                        kind: x.kind,
                        holding: x.holding,
                        fen: f64n(x.amount),
                        origin,
                    })
                    .collect(),
                r.postings.len() as u64,
                r.pooled_total,
            ),
        };
        let expected = o
            .expected
            .iter()
            .map(|e| ExpectedRow {
                day: days(e.month),
                fen: [
                    e.basic_standard,
                    e.account_pension,
                    e.expected_basic,
                    e.expected_account,
                    e.expected_total,
                ]
                .map(f64n),
                payable: e.payable,
                reason: e.reason,
                from: e.payable_from.map(days),
            })
            .collect();
        StageOut {
            person_no: o.person_no,
            events: o.events,
            rows: o.rows,
            postings,
            pooled,
            error: o.error,
            years,
            prepaid,
            posting_rows,
            benefit: o.benefit,
            expected,
            refunds: o.refunds,
        }
    }
}

/// Person `i` of a chunk, start to finish in one thread: events, replay,
/// checks, compact rows.
pub(super) fn process_row(chunk: &RowChunk, i: usize, ctx: &Context<'_>) -> StageOut {
    match chunk.person(i) {
        Ok(p) => StageOut::from_out(process(p, ctx)),
        Err(e) => StageOut::from_out(PersonOut {
            person_no: chunk.names[i].clone(),
            error: Some(e.to_string()),
            ..Default::default()
        }),
    }
}

pub(super) fn account_year_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.years.len()).sum();
    let (mut person, mut sub) = (strings("person_no", n), Vec::with_capacity(n));
    let mut year = Vec::with_capacity(n);
    let mut m: [Vec<i128>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
    for p in chunk {
        for y in &p.years {
            person.append_value(p.person_no.as_str());
            sub.push(Some(code_of(&Sub::ALL, &y.sub)));
            year.push(y.year);
            for (col, v) in m.iter_mut().zip(y.fen) {
                col.push(v as i128);
            }
        }
    }
    let [opening, credits, debits, closed_out, interest, closing, accrued] = m;
    frame(vec![
        done(person),
        i32_vec("year", year),
        enum_column("sub_balance", &Sub::ALL.map(Sub::code), sub)?,
        money_vec("opening", opening)?,
        money_vec("credits", credits)?,
        money_vec("debits", debits)?,
        money_vec("closed_out", closed_out)?,
        money_vec("interest", interest)?,
        money_vec("closing", closing)?,
        money_vec("accrued_unposted", accrued)?,
    ])
}

pub(super) fn prepaid_year_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.prepaid.len()).sum();
    let mut person = strings("person_no", n);
    let mut year = Vec::with_capacity(n);
    let mut m: [Vec<i128>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
    for p in chunk {
        for y in &p.prepaid {
            person.append_value(p.person_no.as_str());
            year.push(y.year);
            for (col, v) in m.iter_mut().zip(y.fen) {
                col.push(v as i128);
            }
        }
    }
    let [opening, received, moved, refunded, interest, closing, accrued] = m;
    frame(vec![
        done(person),
        i32_vec("year", year),
        money_vec("opening", opening)?,
        money_vec("received", received)?,
        money_vec("moved", moved)?,
        money_vec("refunded", refunded)?,
        money_vec("interest", interest)?,
        money_vec("closing", closing)?,
        money_vec("accrued_unposted", accrued)?,
    ])
}

pub(super) fn account_event_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.posting_rows.len()).sum();
    let (mut person, mut kind, mut holding, mut skind) = (
        strings("person_no", n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut seq, mut date, mut amount) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut fs, mut ln) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for p in chunk {
        for (i, x) in p.posting_rows.iter().enumerate() {
            person.append_value(p.person_no.as_str());
            seq.push(i as i32);
            date.push(x.day);
            kind.push(Some(code_of(&PostingKind::ALL, &x.kind)));
            holding.push(Some(code_of(&HOLDINGS, &x.holding)));
            amount.push(x.fen as i128);
            skind.push(x.origin.map(|o| code_of(&SOURCE_KINDS, &source_kind(o.0))));
            fs.push(x.origin.map(|o| o.1 as i64));
            ln.push(x.origin.map(|o| o.2 as i64));
        }
    }
    frame(vec![
        done(person),
        i32_vec("seq", seq),
        date_vec("date", date),
        enum_column("kind", &PostingKind::ALL.map(PostingKind::code), kind)?,
        enum_column("holding", &HOLDINGS.map(holding_code), holding)?,
        money_vec("amount", amount)?,
        enum_column("source_kind", &SOURCE_KINDS, skind)?,
        i64_opt("source_file_seq", fs),
        i64_opt("source_line", ln),
    ])
}

pub(super) fn benefit_check_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.benefit.len()).sum();
    let (mut person, mut id) = (strings("person_no", n), strings("id_number", n));
    let (mut birth, mut enroll, mut rule_start) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut start, mut diff_m, mut approve) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut opt: [Vec<Option<i128>>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut rec: [Vec<i128>; 3] = std::array::from_fn(|_| Vec::with_capacity(n));
    let (mut has, mut fs, mut ln) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for p in chunk {
        for b in &p.benefit {
            person.append_value(p.person_no.as_str());
            id.append_option(b.id_number.as_deref());
            birth.push(b.birth_date.map(days));
            enroll.push(b.enroll_date.map(days));
            rule_start.push(b.rule_start_month.map(days));
            start.push(days(b.start_month));
            diff_m.push(b.start_diff_months);
            approve.push(days(b.approve_date));
            for (col, v) in opt.iter_mut().zip([
                b.settlement_interest,
                b.balance_rule,
                b.balance_diff,
                b.account_monthly_rule,
                b.account_monthly_diff,
                b.basic_rule,
                b.basic_diff,
            ]) {
                col.push(v.map(fen));
            }
            for (col, v) in
                rec.iter_mut()
                    .zip([b.account_balance, b.account_monthly, b.basic_monthly])
            {
                col.push(fen(v));
            }
            has.push(b.has_difference);
            fs.push(b.file_seq as i64);
            ln.push(b.line as i64);
        }
    }
    let [settle, bal_rule, bal_diff, mon_rule, mon_diff, basic_rule, basic_diff] = opt;
    let [balance, monthly, basic] = rec;
    frame(vec![
        done(person),
        done(id),
        date_opt("birth_date", birth),
        date_opt("enroll_date", enroll),
        date_opt("rule_start_month", rule_start),
        date_vec("start_month", start),
        i32_opt("start_diff_months", diff_m),
        date_vec("approve_date", approve),
        money_opt("settlement_interest", settle)?,
        money_opt("balance_rule", bal_rule)?,
        money_vec("account_balance", balance)?,
        money_opt("balance_diff", bal_diff)?,
        money_opt("account_monthly_rule", mon_rule)?,
        money_vec("account_monthly", monthly)?,
        money_opt("account_monthly_diff", mon_diff)?,
        money_opt("basic_rule", basic_rule)?,
        money_vec("basic_monthly", basic)?,
        money_opt("basic_diff", basic_diff)?,
        bool_vec("has_difference", has),
        i64_vec("source_file_seq", fs),
        i64_vec("source_line", ln),
    ])
}

pub(super) fn expected_payout_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.expected.len()).sum();
    let (mut person, mut reason) = (strings("person_no", n), Vec::with_capacity(n));
    let (mut month, mut payable, mut from) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut m: [Vec<i128>; 5] = std::array::from_fn(|_| Vec::with_capacity(n));
    for p in chunk {
        for e in &p.expected {
            person.append_value(p.person_no.as_str());
            month.push(e.day);
            for (col, v) in m.iter_mut().zip(e.fen) {
                col.push(v as i128);
            }
            payable.push(e.payable);
            reason.push(e.reason.map(|r| code_of(&Reason::ALL, &r)));
            from.push(e.from);
        }
    }
    let [basic, account, eb, ea, et] = m;
    frame(vec![
        done(person),
        date_vec("month", month),
        money_vec("basic_standard", basic)?,
        money_vec("account_pension", account)?,
        money_vec("expected_basic", eb)?,
        money_vec("expected_account", ea)?,
        money_vec("expected_total", et)?,
        bool_vec("payable", payable),
        enum_column("reason", &Reason::ALL.map(Reason::code), reason)?,
        date_opt("payable_from", from),
    ])
}

pub(super) fn refund_check_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let n: usize = chunk.iter().map(|p| p.refunds.len()).sum();
    let (mut person, mut record, mut reason) = (
        strings("person_no", n),
        strings("record", n),
        strings("reason", n),
    );
    let (mut event, mut apply, mut dad, mut late) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut m: [Vec<i128>; 9] = std::array::from_fn(|_| Vec::with_capacity(n));
    let (mut refund_amount, mut transfer_amount) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut has, mut fs, mut ln) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for p in chunk {
        for r in &p.refunds {
            person.append_value(p.person_no.as_str());
            record.append_value(r.record);
            reason.append_value(r.reason.as_str());
            event.push(days(r.event_date));
            apply.push(days(r.apply_date));
            dad.push(r.days_after_death.map(|d| d as i32));
            late.push(r.late_claim);
            for (col, v) in m.iter_mut().zip([
                r.settlement_interest,
                r.balance_rule,
                r.refund_rule,
                r.government_returned,
                r.prepaid_refund,
                r.transfer_rule,
                r.refund_diff,
                r.transfer_diff,
                r.pooled_to_date,
            ]) {
                col.push(fen(v));
            }
            refund_amount.push(r.refund_amount.map(fen));
            transfer_amount.push(r.transfer_amount.map(fen));
            has.push(r.has_difference);
            fs.push(r.file_seq as i64);
            ln.push(r.line as i64);
        }
    }
    let [settle, balance, refund_rule, gov, prepaid, transfer_rule, refund_diff, transfer_diff, pooled] =
        m;
    frame(vec![
        done(person),
        done(record),
        done(reason),
        date_vec("event_date", event),
        date_vec("apply_date", apply),
        i32_opt("days_after_death", dad),
        bool_vec("late_claim", late),
        money_vec("settlement_interest", settle)?,
        money_vec("balance_rule", balance)?,
        money_vec("refund_rule", refund_rule)?,
        money_vec("government_returned", gov)?,
        money_vec("prepaid_refund", prepaid)?,
        money_vec("transfer_rule", transfer_rule)?,
        money_opt("refund_amount", refund_amount)?,
        money_vec("refund_diff", refund_diff)?,
        money_opt("transfer_amount", transfer_amount)?,
        money_vec("transfer_diff", transfer_diff)?,
        bool_vec("has_difference", has),
        money_vec("pooled_to_date", pooled)?,
        i64_vec("source_file_seq", fs),
        i64_vec("source_line", ln),
    ])
}

pub(super) fn ledger_error_frame(chunk: &[StageOut]) -> PolarsResult<DataFrame> {
    let (mut person, mut error) = (strings("person_no", 0), strings("error", 0));
    for p in chunk {
        if let Some(e) = &p.error {
            person.append_value(p.person_no.as_str());
            error.append_value(e.as_str());
        }
    }
    frame(vec![done(person), done(error)])
}

/// The frames of one chunk, in [`TABLES`] order, built in parallel.
pub(super) fn chunk_frames(chunk: &[StageOut]) -> PolarsResult<Vec<DataFrame>> {
    type Build = fn(&[StageOut]) -> PolarsResult<DataFrame>;
    const BUILDERS: [Build; 7] = [
        account_year_frame,
        prepaid_year_frame,
        account_event_frame,
        benefit_check_frame,
        expected_payout_frame,
        refund_check_frame,
        ledger_error_frame,
    ];
    BUILDERS.par_iter().map(|b| b(chunk)).collect()
}
