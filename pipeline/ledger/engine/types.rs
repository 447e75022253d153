//! The engine's vocabulary: events in, postings, year figures, approvals and
//! refunds out (see the module docs of `engine` for the rules they follow).

use super::*;

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

    pub(super) fn idx(self) -> usize {
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

// The struct lives with the other typed views of parameters.toml (so params need not
// import the ledger); its Default stays here.
pub use crate::params::LedgerParams as Params;

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
    /// Every kind (the values of `account_event.kind`).
    pub const ALL: [PostingKind; 10] = [
        PostingKind::Credit,
        PostingKind::PrepaidReceipt,
        PostingKind::PrepaidMove,
        PostingKind::PensionDebit,
        PostingKind::PooledCharge,
        PostingKind::SettlementInterest,
        PostingKind::Interest,
        PostingKind::Refund,
        PostingKind::FundReturn,
        PostingKind::TransferOut,
    ];

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
