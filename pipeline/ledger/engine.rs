//! The individual-account ledger engine (个人账户记账): replays one person's dated
//! events and produces exact balances by the rules in `docs/rules.md` (§ Contributions,
//! § Individual account, § Benefits).
//!
//! Pure: no I/O, no clock, no floating point. All money is [`Decimal`] yuan; the
//! only rounding is half-up to the fen, applied where the rules fix an amount
//! (each interest posting per sub-balance, the account pension). Every number of
//! the rules (rates, divisor 139, the 60-day refund window, the 31 October move
//! date) comes in through [`Params`] or the rate table.
//!
//! # The model
//!
//! The account has four sub-balances ([`Sub`]), each with its own interest. A
//! separate prepaid holding (预收户, one lot per prepayment) sits beside it.
//!
//! Interest accrues by month. In month k of year y a holding earns
//! `r(y)/12` percent on its *balance in effect* in month k:
//! - credits, pension debits, prepaid receipts and prepaid moves posted in month m
//!   are in effect from month m+1 (计息从次月开始);
//! - settlement interest posted in month M is in effect from month M;
//! - a closure (cancellation, transfer out) empties the holding from month M on:
//!   the settlement pays months 1 … M−1 and the account then closes, so the
//!   closing month earns nothing.
//!
//! The accrued sum `Σ balance in effect` since the last posting is turned into a
//! posting, `round_fen(r × Σ / 1200)` per holding, at each settlement (months since
//! the last posting … M−1) and on 31 December (the remaining months … 12). With
//! no settlement this is exactly the rules' closed formula
//! `r × [opening + Σ credit × (12 − m)/12 − Σ debit × (12 − m)/12]`.
//!
//! # Order within a month
//!
//! Events are replayed month by month. Within a month they are applied in this
//! order, then by date, then by input order:
//! 1. approval settlement — the account pension is fixed on "the account balance
//!    after the approval settlement, in the start month". The settlement posts
//!    months 1 … M−1 and "is in effect from month M": it is the opening act of the
//!    start month, and the balance it fixes is the balance in effect in month M —
//!    everything posted before M plus the settlement interest. Credits posted in M
//!    are in effect only from M+1 and are not part of it; no pension can be
//!    debited before it is fixed. (The approval is dated at the latest in the first
//!    days of the start month.)
//! 2. credits — contributions, subsidies, transfers in, prepaid receipts and
//!    prepaid moves ("Within a month, credits are applied before debits");
//! 3. pension debits;
//! 4. closures (cancellation, transfer out). A closure takes effect on its date
//!    (the application date, 申请日期): what the month brought on or before that
//!    date is applied first (credits, then debits, as above), so "the balance after
//!    the cancellation settlement" is the balance on that date and a pension paid
//!    before it is not refunded a second time; what is dated later in the month
//!    comes after the closure (see below).
//!
//! The order never changes interest: a settlement pays months 1 … M−1, which
//! month-M postings do not touch (they are in effect from M+1).
//!
//! # After a closure
//!
//! The engine replays what happened. A credit after a closure (later in the same
//! month or later on) reopens the balance — it is not refunded and earns interest
//! as usual (e.g. a transfer back in; a subsidy arriving after the cancellation);
//! a pension debit after a closure finds the account empty and is charged wholly
//! to the pooled fund. Paid-after-death, credits after death and similar findings
//! are the audit's business, not the ledger's.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

/// The lineage text of an event and of every posting it causes. Shared, not
/// copied: a posting holds the same text as its event (cloning is a reference
/// count). Compares with `&str` and derefs to `str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source(Arc<str>);

impl Source {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Source {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Source {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Source {
    fn from(s: &str) -> Source {
        Source(Arc::from(s))
    }
}

impl From<String> for Source {
    fn from(s: String) -> Source {
        Source(Arc::from(s))
    }
}

impl From<&String> for Source {
    fn from(s: &String) -> Source {
        Source(Arc::from(s.as_str()))
    }
}

impl PartialEq<str> for Source {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Source {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Source {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

/// A sub-balance of the individual account. The declaration order is the fixed
/// debit order of the rules: individual, collective, transferred-in, government.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sub {
    /// 个人缴费: contributions, back-payments, prepaid moves.
    Individual,
    /// 集体补助.
    Collective,
    /// 转入: transfers in from another county.
    Transfer,
    /// 政府补贴 (contribution subsidies only; the basic-pension subsidy never enters the account).
    Government,
}

impl Sub {
    /// All sub-balances, in debit order.
    pub const ALL: [Sub; 4] = [
        Sub::Individual,
        Sub::Collective,
        Sub::Transfer,
        Sub::Government,
    ];

    /// Stable code for tables: `individual`, `collective`, `transfer`, `government`.
    pub fn code(self) -> &'static str {
        match self {
            Sub::Individual => "individual",
            Sub::Collective => "collective",
            Sub::Transfer => "transfer",
            Sub::Government => "government",
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// What happened on an event's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A credit to one sub-balance: a successful contribution or back-payment
    /// (Individual), a collective subsidy (Collective), a government contribution
    /// subsidy on its credited date (Government), a transfer in (Transfer).
    /// Failed deductions are not events.
    Credit { sub: Sub, amount: Decimal },
    /// The account-pension part of one successful payment, on its paid date. The
    /// part the account cannot cover goes to the pooled fund.
    PensionDebit { amount: Decimal },
    /// Benefit approval: the settlement is made in the month of the event's date,
    /// which must be the start month (待遇开始年月); any day of it — it is applied
    /// first in that month (see the module docs).
    Approval,
    /// Cancellation (注销) on its application date (申请日期). `death` is the date
    /// of death for a death cancellation, `None` for any other reason (emigration,
    /// hukou change, employee pension, other).
    Cancellation { death: Option<NaiveDate> },
    /// Transfer out to another county on its date: the whole balance leaves.
    TransferOut,
    /// A prepayment received on the event's date into a new prepaid lot: the
    /// contribution of each listed year (year, amount). The lot receives the sum;
    /// each year's amount moves to the individual sub-balance on that year's move
    /// date, the last one together with all the lot's interest.
    Prepayment { years: Vec<(i32, Decimal)> },
}

/// One dated event of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub date: NaiveDate,
    pub kind: EventKind,
    /// Lineage carried into every posting the event causes,
    /// e.g. `"contribution f000012 line 17"`.
    pub source: Source,
}

impl Event {
    pub fn new(date: NaiveDate, kind: EventKind, source: impl Into<Source>) -> Event {
        Event {
            date,
            kind,
            source: source.into(),
        }
    }
}

/// The rule parameters the engine needs, from `parameters.toml` (see
/// `crate::params`); the rate table is passed separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Account pension divisor (计发月数): 139.
    pub divisor: Decimal,
    /// Heirs may claim within this many days of death: 60. Only flags
    /// [`RefundCalc::late_claim`]; the refund itself is unchanged.
    pub refund_window_days: i64,
    /// Each year's prepaid contribution moves on this (month, day) of the year:
    /// (10, 31). A lot received after that day of a year it covers moves on its
    /// receipt date.
    pub prepaid_move_by: (u32, u32),
}

impl Default for Params {
    /// The built-in parameters.toml, newest versions (the commands read the file
    /// in force for their through month: `params::Parameters::ledger`).
    fn default() -> Params {
        crate::params::shipped_newest(crate::params::Parameters::ledger)
    }
}

/// Why the engine refuses to replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("no interest rate (记账利率) for year {0}")]
    MissingRate(i32),
    #[error("amount {amount} in {origin} is negative or finer than the fen")]
    InvalidAmount { amount: Decimal, origin: String },
    #[error("prepayment {origin} lists no years")]
    EmptyPrepayment { origin: String },
    #[error("prepayment {origin} lists year {year} twice")]
    DuplicatePrepaidYear { year: i32, origin: String },
    #[error("prepayment {origin} covers year {year}, before the year it was received")]
    PrepaidYearBeforeReceipt { year: i32, origin: String },
    #[error("through date {0} is not the last day of a month")]
    ThroughNotMonthEnd(NaiveDate),
    #[error("invalid parameter: {0}")]
    InvalidParams(String),
}

/// Where a posting lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holding {
    /// A sub-balance of the individual account.
    Account(Sub),
    /// The prepaid holding (all lots).
    Prepaid,
    /// The pooled fund (统筹基金): the part of an account pension the account could
    /// not cover. Not a balance of the person.
    Pooled,
}

/// What a posting is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PostingKind {
    /// Credit event (contribution, subsidy, transfer in).
    Credit,
    /// Prepayment received into the prepaid holding.
    PrepaidReceipt,
    /// A year's prepaid contribution moving: −prepaid, +individual (two postings).
    PrepaidMove,
    /// Account pension debited from a sub-balance.
    PensionDebit,
    /// Account pension charged to the pooled fund (holding `Pooled`, positive).
    PooledCharge,
    /// Interest posted at a settlement (or, for a prepaid lot, at its last move).
    SettlementInterest,
    /// Interest posted on 31 December.
    Interest,
    /// Balance paid out to the person or heirs at a cancellation (also a prepaid lot
    /// refunded at any closure).
    Refund,
    /// Government sub-balance returned to the fund at a death cancellation.
    FundReturn,
    /// Balance paid to the receiving county at a transfer out.
    TransferOut,
}

impl PostingKind {
    /// Stable code for tables.
    pub fn code(self) -> &'static str {
        match self {
            PostingKind::Credit => "credit",
            PostingKind::PrepaidReceipt => "prepaid_receipt",
            PostingKind::PrepaidMove => "prepaid_move",
            PostingKind::PensionDebit => "pension_debit",
            PostingKind::PooledCharge => "pooled",
            PostingKind::SettlementInterest => "settlement_interest",
            PostingKind::Interest => "interest",
            PostingKind::Refund => "refund",
            PostingKind::FundReturn => "fund_return",
            PostingKind::TransferOut => "transfer_out",
        }
    }
}

/// One line of the ledger. `amount` is the signed change of `holding` (for
/// `Pooled`: the positive amount charged to the pooled fund), so the sum of a
/// holding's postings is its balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub date: NaiveDate,
    pub kind: PostingKind,
    pub holding: Holding,
    pub amount: Decimal,
    pub source: Source,
}

/// One year of one sub-balance (附表十).
/// `opening + credits − debits − closed_out + interest = closing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountYear {
    pub year: i32,
    pub sub: Sub,
    pub opening: Decimal,
    /// Credit events and prepaid moves (individual).
    pub credits: Decimal,
    /// Pension debits.
    pub debits: Decimal,
    /// Paid out at closures: refund, fund return, transfer out.
    pub closed_out: Decimal,
    /// Settlement and year-end interest posted in the year.
    pub interest: Decimal,
    /// Balance on 31 December, or at the end of the through month in the through year.
    pub closing: Decimal,
    /// Through year before December only: interest accrued since the last posting
    /// up to the through month, rounded to the fen (what a settlement in the next
    /// month would post); not in `closing`. Zero otherwise.
    pub accrued_unposted: Decimal,
}

/// One year of the prepaid holding (all lots together); present only when the
/// person has a prepayment.
/// `opening + received − moved − refunded + interest = closing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepaidYear {
    pub year: i32,
    pub opening: Decimal,
    pub received: Decimal,
    /// Moved to the individual sub-balance (the last move of a lot includes its interest).
    pub moved: Decimal,
    /// Refunded with a closure before the lot had moved.
    pub refunded: Decimal,
    pub interest: Decimal,
    pub closing: Decimal,
    pub accrued_unposted: Decimal,
}

/// The account pension fixed at approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalCalc {
    /// First day of the start month.
    pub start_month: NaiveDate,
    /// Interest posted by the approval settlement (all sub-balances).
    pub settlement_interest: Decimal,
    /// Total account balance after the settlement.
    pub balance: Decimal,
    /// `balance ÷ divisor`, half-up to the fen.
    pub account_pension: Decimal,
    pub source: Source,
}

/// Why an account closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    Death,
    /// Cancellation for any other reason.
    Cancellation,
    TransferOut,
}

/// A closure: cancellation or transfer out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundCalc {
    /// The event date (application date; transfer date).
    pub date: NaiveDate,
    pub reason: CloseReason,
    /// Interest posted by the closure settlement (all sub-balances).
    pub settlement_interest: Decimal,
    /// Total account balance after the settlement, before closing.
    pub balance: Decimal,
    /// Paid to heirs / the person, or transferred to the other county: the whole
    /// balance, except at death the government sub-balance.
    pub refund: Decimal,
    /// Death only: the government sub-balance with its interest, returned to the fund.
    pub government_returned: Decimal,
    /// Prepaid lots not yet moved, refunded with their interest (not in `refund`).
    pub prepaid_refund: Decimal,
    /// Pooled-fund charges replayed before this closure.
    pub pooled_to_date: Decimal,
    /// Death only: days from death to the application date.
    pub days_after_death: Option<i64>,
    /// Death only: applied more than `refund_window_days` after death.
    pub late_claim: bool,
    pub source: Source,
}

/// The result of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// One row per year and sub-balance (sub-balances in debit order), from the
    /// first event's year to the through year.
    pub years: Vec<AccountYear>,
    /// Same years, prepaid holding; empty when there is no prepayment.
    pub prepaid_years: Vec<PrepaidYear>,
    /// Every posting, in replay order.
    pub postings: Vec<Posting>,
    /// Every approval in date order; the last is the one in force.
    pub approvals: Vec<ApprovalCalc>,
    /// Every closure in date order.
    pub refunds: Vec<RefundCalc>,
    /// Sum of all pooled-fund charges.
    pub pooled_total: Decimal,
}

impl Replay {
    /// Balance of a sub-balance at the end of the replay (0 when nothing was replayed).
    pub fn closing(&self, sub: Sub) -> Decimal {
        self.years
            .iter()
            .rev()
            .find(|r| r.sub == sub)
            .map_or(Decimal::ZERO, |r| r.closing)
    }

    /// Total account balance at the end of the replay.
    pub fn closing_total(&self) -> Decimal {
        Sub::ALL.iter().map(|s| self.closing(*s)).sum()
    }
}

/// Half-up to the fen, scale 2.
pub fn round_fen(x: Decimal) -> Decimal {
    let mut r = x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// Replays one person's events from the first event's year through the month of
/// `through` (which must be the last day of a month; later events are ignored).
/// `rates` maps year → rate in percent per year (1.50 = 1.5 %) and must hold every
/// year replayed. Events may come in any order (see the module docs for the order
/// applied); ties keep the input order. All money in the result has scale 2.
///
/// # Errors
///
/// A missing or negative rate for a replayed year; an event amount that is negative
/// or finer than the fen; a prepayment with no years, a year twice, or a year before
/// its receipt; a `through` that is not a month end; a non-positive divisor or an
/// impossible prepaid move day.
pub fn replay(
    events: &[Event],
    rates: &BTreeMap<i32, Decimal>,
    through: NaiveDate,
    params: &Params,
) -> Result<Replay, LedgerError> {
    if params.divisor <= Decimal::ZERO {
        return Err(LedgerError::InvalidParams(format!(
            "divisor {} must be positive",
            params.divisor
        )));
    }
    if through
        .succ_opt()
        .is_some_and(|d| d.month() == through.month())
    {
        return Err(LedgerError::ThroughNotMonthEnd(through));
    }
    let (items, lot_count) = schedule(events, through, params)?;
    let mut out = Replay {
        years: Vec::new(),
        prepaid_years: Vec::new(),
        postings: Vec::new(),
        approvals: Vec::new(),
        refunds: Vec::new(),
        pooled_total: Decimal::ZERO,
    };
    let Some(first) = items.first() else {
        out.pooled_total = yuan(out.pooled_total);
        return Ok(out);
    };
    let first_year = first.date.year();
    for y in first_year..=through.year() {
        match rates.get(&y) {
            None => return Err(LedgerError::MissingRate(y)),
            Some(r) if *r < Decimal::ZERO => {
                return Err(LedgerError::InvalidParams(format!(
                    "negative rate {r} for {y}"
                )))
            }
            Some(_) => {}
        }
    }
    let mut st = State {
        subs: Default::default(),
        lots: vec![Bal::default(); lot_count],
        lot_open: vec![true; lot_count],
        prepaid: Default::default(),
        has_prepaid: lot_count > 0,
        out: &mut out,
        params,
    };
    let mut next = 0;
    for y in first_year..=through.year() {
        let rate = rates[&y];
        let last_month = if y == through.year() {
            through.month()
        } else {
            12
        };
        let mut m = 1;
        while m <= last_month {
            while next < items.len() && ym(items[next].date) == (y, m) {
                st.apply(&items[next], rate);
                next += 1;
            }
            st.month_end();
            m += 1;
            // Months with nothing posted in them accrue their balance as it stands:
            // k such months at once are k ordinary month ends.
            let busy = match items.get(next) {
                Some(it) if it.date.year() == y => it.date.month().min(last_month + 1),
                _ => last_month + 1,
            };
            if busy > m {
                st.quiet_months(busy - m);
                m = busy;
            }
        }
        if last_month == 12 {
            st.year_end(y, rate);
        } else {
            st.accrue_unposted(rate);
        }
        st.close_year(y);
    }
    out.pooled_total = yuan(out.pooled_total);
    Ok(out)
}

// ---------------------------------------------------------------------------
// Scheduling: events (and generated prepaid moves) in replay order.

enum Action {
    Credit(Sub, Decimal),
    PrepaidReceipt(usize, Decimal),
    PrepaidMove {
        lot: usize,
        year: i32,
        amount: Decimal,
        last: bool,
    },
    Approval,
    Debit(Decimal),
    Close {
        death: Option<NaiveDate>,
        transfer: bool,
    },
}

/// One step of the replay. Sorted by (month, segment, rank, date, seq): segment =
/// how many closures of the month are dated strictly before the step; rank 0
/// approval, 1 credits, 2 pension debits, 3 closures; seq = (event index, 0 for
/// the event itself or 1 + n for a prepayment's n-th generated move).
struct Item<'a> {
    date: NaiveDate,
    segment: usize,
    rank: u8,
    seq: (usize, usize),
    action: Action,
    source: &'a Source,
}

fn ym(d: NaiveDate) -> (i32, u32) {
    (d.year(), d.month())
}

fn check_amount(amount: Decimal, source: &str) -> Result<(), LedgerError> {
    if amount < Decimal::ZERO || amount.round_dp(2) != amount {
        return Err(LedgerError::InvalidAmount {
            amount,
            origin: source.to_string(),
        });
    }
    Ok(())
}

fn schedule<'a>(
    events: &'a [Event],
    through: NaiveDate,
    params: &Params,
) -> Result<(Vec<Item<'a>>, usize), LedgerError> {
    let mut items = Vec::with_capacity(events.len());
    let mut lots = 0;
    for (i, e) in events.iter().enumerate() {
        if e.date > through {
            continue;
        }
        let src = e.source.as_str();
        let source = &e.source;
        let (rank, action) = match &e.kind {
            EventKind::Credit { sub, amount } => {
                check_amount(*amount, src)?;
                (1, Action::Credit(*sub, *amount))
            }
            EventKind::PensionDebit { amount } => {
                check_amount(*amount, src)?;
                (2, Action::Debit(*amount))
            }
            EventKind::Approval => (0, Action::Approval),
            EventKind::Cancellation { death } => (
                3,
                Action::Close {
                    death: *death,
                    transfer: false,
                },
            ),
            EventKind::TransferOut => (
                3,
                Action::Close {
                    death: None,
                    transfer: true,
                },
            ),
            EventKind::Prepayment { years } => {
                if years.is_empty() {
                    return Err(LedgerError::EmptyPrepayment {
                        origin: src.to_string(),
                    });
                }
                let mut ys = years.clone();
                ys.sort_by_key(|(y, _)| *y);
                let mut total = Decimal::ZERO;
                for (j, (year, amount)) in ys.iter().enumerate() {
                    check_amount(*amount, src)?;
                    if j > 0 && ys[j - 1].0 == *year {
                        return Err(LedgerError::DuplicatePrepaidYear {
                            year: *year,
                            origin: src.to_string(),
                        });
                    }
                    if *year < e.date.year() {
                        return Err(LedgerError::PrepaidYearBeforeReceipt {
                            year: *year,
                            origin: src.to_string(),
                        });
                    }
                    total += *amount;
                    let (mm, dd) = params.prepaid_move_by;
                    let by = NaiveDate::from_ymd_opt(*year, mm, dd).ok_or_else(|| {
                        LedgerError::InvalidParams(format!("prepaid move day {mm}-{dd} in {year}"))
                    })?;
                    let date = by.max(e.date);
                    if date <= through {
                        let last = j + 1 == ys.len();
                        items.push(Item {
                            date,
                            segment: 0,
                            rank: 1,
                            seq: (i, j + 1),
                            action: Action::PrepaidMove {
                                lot: lots,
                                year: *year,
                                amount: *amount,
                                last,
                            },
                            source,
                        });
                    }
                }
                lots += 1;
                (1, Action::PrepaidReceipt(lots - 1, total))
            }
        };
        items.push(Item {
            date: e.date,
            segment: 0,
            rank,
            seq: (i, 0),
            action,
            source,
        });
    }
    // A closure takes effect on its date: within its month, what is dated after it
    // comes after it.
    let closures: Vec<NaiveDate> = items
        .iter()
        .filter(|it| matches!(it.action, Action::Close { .. }))
        .map(|it| it.date)
        .collect();
    if !closures.is_empty() {
        for it in &mut items {
            it.segment = closures
                .iter()
                .filter(|c| ym(**c) == ym(it.date) && **c < it.date)
                .count();
        }
    }
    items.sort_by_key(|it| (ym(it.date), it.segment, it.rank, it.date, it.seq));
    Ok((items, lots))
}

// ---------------------------------------------------------------------------
// Replay state.

/// A holding's running figures.
#[derive(Clone, Default)]
struct Bal {
    /// Book balance: every posting so far.
    book: Decimal,
    /// Postings of the current month that take effect next month.
    pending: Decimal,
    /// Σ balance in effect over the months since the last interest posting.
    accrued: Decimal,
}

impl Bal {
    fn in_effect(&self) -> Decimal {
        self.book - self.pending
    }
    /// Post `amount` with effect from next month.
    fn post_next(&mut self, amount: Decimal) {
        self.book += amount;
        self.pending += amount;
    }
    /// Turn the accrued sum into interest (half-up to the fen), in effect at once.
    fn settle(&mut self, rate: Decimal) -> Decimal {
        let interest = interest(rate, self.accrued);
        self.accrued = Decimal::ZERO;
        self.book += interest;
        interest
    }
    /// Empty the holding with immediate effect (a closure, a lot's last move).
    fn empty(&mut self) -> Decimal {
        let all = self.book;
        self.book = Decimal::ZERO;
        self.pending = Decimal::ZERO;
        all
    }
}

/// An amount already exact to the fen, shown with scale 2.
fn yuan(mut x: Decimal) -> Decimal {
    x.rescale(2);
    x
}

fn interest(rate: Decimal, accrued: Decimal) -> Decimal {
    round_fen(rate * accrued / Decimal::from(1200))
}

#[derive(Clone, Default)]
struct YearStats {
    opening: Decimal,
    credits: Decimal,
    debits: Decimal,
    closed_out: Decimal,
    interest: Decimal,
    unposted: Decimal,
}

#[derive(Default)]
struct SubState {
    bal: Bal,
    year: YearStats,
}

struct State<'o, 'p> {
    subs: [SubState; 4],
    lots: Vec<Bal>,
    lot_open: Vec<bool>,
    /// Prepaid holding year figures (credits = received, debits = moved,
    /// closed_out = refunded).
    prepaid: YearStats,
    has_prepaid: bool,
    out: &'o mut Replay,
    params: &'p Params,
}

impl State<'_, '_> {
    fn post(
        &mut self,
        date: NaiveDate,
        kind: PostingKind,
        holding: Holding,
        amount: Decimal,
        source: &Source,
    ) {
        self.out.postings.push(Posting {
            date,
            kind,
            holding,
            amount: yuan(amount),
            source: source.clone(),
        });
    }

    fn total(&self) -> Decimal {
        self.subs.iter().map(|s| s.bal.book).sum()
    }

    fn apply(&mut self, it: &Item<'_>, rate: Decimal) {
        let (date, src) = (it.date, it.source);
        match it.action {
            Action::Credit(sub, amount) => {
                let s = &mut self.subs[sub.idx()];
                s.bal.post_next(amount);
                s.year.credits += amount;
                self.post(
                    date,
                    PostingKind::Credit,
                    Holding::Account(sub),
                    amount,
                    src,
                );
            }
            Action::PrepaidReceipt(lot, amount) => {
                self.lots[lot].post_next(amount);
                self.prepaid.credits += amount;
                self.post(
                    date,
                    PostingKind::PrepaidReceipt,
                    Holding::Prepaid,
                    amount,
                    src,
                );
            }
            Action::PrepaidMove {
                lot,
                year,
                amount,
                last,
            } => {
                if !self.lot_open[lot] {
                    return; // refunded at a closure before this move
                }
                let src = Source::from(format!("prepaid move {year} of {src}"));
                let moved = if last {
                    // The lot earns for this month too (its money is in effect until
                    // now), then everything moves with interest.
                    let l = &mut self.lots[lot];
                    l.accrued += l.in_effect();
                    let i = l.settle(rate);
                    self.prepaid.interest += i;
                    if !i.is_zero() {
                        self.post(
                            date,
                            PostingKind::SettlementInterest,
                            Holding::Prepaid,
                            i,
                            &src,
                        );
                    }
                    self.lot_open[lot] = false;
                    self.lots[lot].empty()
                } else {
                    self.lots[lot].post_next(-amount);
                    amount
                };
                self.prepaid.debits += moved;
                self.post(
                    date,
                    PostingKind::PrepaidMove,
                    Holding::Prepaid,
                    -moved,
                    &src,
                );
                let s = &mut self.subs[Sub::Individual.idx()];
                s.bal.post_next(moved);
                s.year.credits += moved;
                self.post(
                    date,
                    PostingKind::PrepaidMove,
                    Holding::Account(Sub::Individual),
                    moved,
                    &src,
                );
            }
            Action::Approval => {
                let settled = self.settle_account(date, rate, src);
                let balance = self.total();
                let start_month =
                    NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap_or(date);
                let account_pension = round_fen(balance / self.params.divisor);
                self.out.approvals.push(ApprovalCalc {
                    start_month,
                    settlement_interest: yuan(settled),
                    balance: yuan(balance),
                    account_pension,
                    source: src.clone(),
                });
            }
            Action::Debit(amount) => {
                let mut left = amount;
                for sub in Sub::ALL {
                    let s = &mut self.subs[sub.idx()];
                    let take = left.min(s.bal.book);
                    if take.is_zero() {
                        continue;
                    }
                    s.bal.post_next(-take);
                    s.year.debits += take;
                    left -= take;
                    self.post(
                        date,
                        PostingKind::PensionDebit,
                        Holding::Account(sub),
                        -take,
                        src,
                    );
                }
                if left > Decimal::ZERO {
                    self.out.pooled_total += left;
                    self.post(date, PostingKind::PooledCharge, Holding::Pooled, left, src);
                }
            }
            Action::Close { death, transfer } => self.close(date, death, transfer, rate, src),
        }
    }

    /// Settlement of the four sub-balances: posts the interest accrued since the
    /// last posting (months before this one), in effect from this month.
    fn settle_account(&mut self, date: NaiveDate, rate: Decimal, src: &Source) -> Decimal {
        let source = Source::from(format!(
            "settlement {}-{:02} for {src}",
            date.year(),
            date.month()
        ));
        let mut total = Decimal::ZERO;
        for sub in Sub::ALL {
            let s = &mut self.subs[sub.idx()];
            let i = s.bal.settle(rate);
            s.year.interest += i;
            total += i;
            if !i.is_zero() {
                self.post(
                    date,
                    PostingKind::SettlementInterest,
                    Holding::Account(sub),
                    i,
                    &source,
                );
            }
        }
        total
    }

    fn close(
        &mut self,
        date: NaiveDate,
        death: Option<NaiveDate>,
        transfer: bool,
        rate: Decimal,
        src: &Source,
    ) {
        let settlement_interest = self.settle_account(date, rate, src);
        let balance = self.total();
        let mut refund = Decimal::ZERO;
        let mut government_returned = Decimal::ZERO;
        for sub in Sub::ALL {
            let s = &mut self.subs[sub.idx()];
            let all = s.bal.empty();
            s.year.closed_out += all;
            if all.is_zero() {
                continue;
            }
            let kind = if transfer {
                PostingKind::TransferOut
            } else if death.is_some() && sub == Sub::Government {
                PostingKind::FundReturn
            } else {
                PostingKind::Refund
            };
            if kind == PostingKind::FundReturn {
                government_returned += all;
            } else {
                refund += all;
            }
            self.post(date, kind, Holding::Account(sub), -all, src);
        }
        // Prepaid lots not yet moved: settled like the account (months before this
        // one) and refunded.
        let mut prepaid_refund = Decimal::ZERO;
        let source = Source::from(format!(
            "settlement {}-{:02} for {src}",
            date.year(),
            date.month()
        ));
        for lot in 0..self.lots.len() {
            if !self.lot_open[lot] {
                continue;
            }
            let i = self.lots[lot].settle(rate);
            self.prepaid.interest += i;
            if !i.is_zero() {
                self.post(
                    date,
                    PostingKind::SettlementInterest,
                    Holding::Prepaid,
                    i,
                    &source,
                );
            }
            let all = self.lots[lot].empty();
            self.lot_open[lot] = false;
            self.prepaid.closed_out += all;
            prepaid_refund += all;
            if !all.is_zero() {
                self.post(date, PostingKind::Refund, Holding::Prepaid, -all, src);
            }
        }
        let (reason, days) = match (transfer, death) {
            (true, _) => (CloseReason::TransferOut, None),
            (false, Some(d)) => (CloseReason::Death, Some((date - d).num_days())),
            (false, None) => (CloseReason::Cancellation, None),
        };
        self.out.refunds.push(RefundCalc {
            date,
            reason,
            settlement_interest: yuan(settlement_interest),
            balance: yuan(balance),
            refund: yuan(refund),
            government_returned: yuan(government_returned),
            prepaid_refund: yuan(prepaid_refund),
            pooled_to_date: yuan(self.out.pooled_total),
            days_after_death: days,
            late_claim: days.is_some_and(|d| d > self.params.refund_window_days),
            source: src.clone(),
        });
    }

    /// The month's balances in effect accrue; this month's postings take effect.
    fn month_end(&mut self) {
        for b in self
            .subs
            .iter_mut()
            .map(|s| &mut s.bal)
            .chain(self.lots.iter_mut())
        {
            if b.book.is_zero() && b.pending.is_zero() {
                continue;
            }
            b.accrued += b.in_effect();
            b.pending = Decimal::ZERO;
        }
    }

    /// `k` months in a row with no posting, right after a month end (nothing
    /// pending): each accrues the balance as it stands. The same as `k` month ends.
    fn quiet_months(&mut self, k: u32) {
        let k = Decimal::from(k);
        for b in self
            .subs
            .iter_mut()
            .map(|s| &mut s.bal)
            .chain(self.lots.iter_mut())
        {
            debug_assert!(b.pending.is_zero());
            if !b.book.is_zero() {
                b.accrued += b.book * k;
            }
        }
    }

    /// 31 December: post the interest accrued since the last posting.
    fn year_end(&mut self, y: i32, rate: Decimal) {
        let date = NaiveDate::from_ymd_opt(y, 12, 31).expect("31 December exists");
        let source = Source::from(format!("interest {y}"));
        for sub in Sub::ALL {
            let s = &mut self.subs[sub.idx()];
            let i = s.bal.settle(rate);
            s.year.interest += i;
            if !i.is_zero() {
                self.post(
                    date,
                    PostingKind::Interest,
                    Holding::Account(sub),
                    i,
                    &source,
                );
            }
        }
        for lot in 0..self.lots.len() {
            let i = self.lots[lot].settle(rate);
            self.prepaid.interest += i;
            if !i.is_zero() {
                self.post(date, PostingKind::Interest, Holding::Prepaid, i, &source);
            }
        }
    }

    /// Through year before December: what a settlement next month would post.
    fn accrue_unposted(&mut self, rate: Decimal) {
        for s in &mut self.subs {
            s.year.unposted = interest(rate, s.bal.accrued);
        }
        self.prepaid.unposted = self.lots.iter().map(|l| interest(rate, l.accrued)).sum();
    }

    fn close_year(&mut self, y: i32) {
        for sub in Sub::ALL {
            let s = &mut self.subs[sub.idx()];
            let st = std::mem::take(&mut s.year);
            self.out.years.push(AccountYear {
                year: y,
                sub,
                opening: yuan(st.opening),
                credits: yuan(st.credits),
                debits: yuan(st.debits),
                closed_out: yuan(st.closed_out),
                interest: yuan(st.interest),
                closing: yuan(s.bal.book),
                accrued_unposted: yuan(st.unposted),
            });
            s.year.opening = s.bal.book;
        }
        if self.has_prepaid {
            let st = std::mem::take(&mut self.prepaid);
            let closing: Decimal = self.lots.iter().map(|l| l.book).sum();
            self.out.prepaid_years.push(PrepaidYear {
                year: y,
                opening: yuan(st.opening),
                received: yuan(st.credits),
                moved: yuan(st.debits),
                refunded: yuan(st.closed_out),
                interest: yuan(st.interest),
                closing: yuan(closing),
                accrued_unposted: yuan(st.unposted),
            });
            self.prepaid.opening = closing;
        }
    }
}
