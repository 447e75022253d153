//! The benefit rules beside the ledger (docs/rules.md § Benefits): the start month the
//! rules give, the approval check, what each month should have paid, and the
//! refund check. Pure functions over one person's inputs and replay.
//!
//! Differences are always *recorded − rule*: a positive difference means the
//! business system recorded (or paid) more than the rules give.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::engine::{ApprovalCalc, CloseReason, RefundCalc, Replay};
use super::input::{ev, ApprovalRow, Beneficiary, CancelRow, PersonEvents, Reference};
use crate::domain::calendar::{month_index, month_of_index};

// The struct lives with the other typed views of parameters.toml (so params need not
// import the ledger); its Default and the rules' arithmetic stay here.
pub use crate::params::BenefitRules;

impl Default for BenefitRules {
    /// The built-in parameters.toml, newest versions (the commands read the file
    /// in force for their month: `params::Parameters::benefit_rules`).
    fn default() -> BenefitRules {
        crate::params::shipped_newest(crate::params::Parameters::benefit_rules)
    }
}

impl BenefitRules {
    /// The first month of pension the rules give: the month after the
    /// `pension_age`th birthday, or for the old cohort the month after enrollment.
    pub fn start_month(&self, birth: NaiveDate, enroll: Option<NaiveDate>) -> Option<NaiveDate> {
        if birth <= self.old_cohort_born_by {
            return enroll.map(|e| month_of_index(month_index(e) + 1));
        }
        Some(month_of_index(
            month_index(birth) + 12 * self.pension_age as i32 + 1,
        ))
    }

    fn certify_deadline(&self, year: i32) -> NaiveDate {
        let (m, d) = self.certify_by;
        NaiveDate::from_ymd_opt(year, m, d)
            .or_else(|| NaiveDate::from_ymd_opt(year, m, 28))
            .expect("valid certification deadline")
    }
}

/// One row of `benefit_check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenefitCheck {
    pub id_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub enroll_date: Option<NaiveDate>,
    pub rule_start_month: Option<NaiveDate>,
    pub start_month: NaiveDate,
    /// start_month − rule_start_month, in months.
    pub start_diff_months: Option<i32>,
    pub approve_date: NaiveDate,
    pub settlement_interest: Option<Decimal>,
    pub balance_rule: Option<Decimal>,
    pub account_balance: Decimal,
    pub balance_diff: Option<Decimal>,
    pub account_monthly_rule: Option<Decimal>,
    pub account_monthly: Decimal,
    pub account_monthly_diff: Option<Decimal>,
    pub basic_rule: Option<Decimal>,
    pub basic_monthly: Decimal,
    pub basic_diff: Option<Decimal>,
    pub has_difference: bool,
    pub file_seq: i32,
    pub line: i32,
}

fn nonzero(d: Option<Decimal>) -> bool {
    d.is_some_and(|d| !d.is_zero())
}

/// One row per approval record, beside what the engine computed at its start
/// month (`replay` is None when the person's replay failed).
pub fn benefit_checks(
    p: &PersonEvents,
    approvals: &[ApprovalRow],
    benef: Option<&Beneficiary>,
    replay: Option<&Replay>,
    refs: &Reference,
    rules: &BenefitRules,
) -> Vec<BenefitCheck> {
    let birth = benef.and_then(|b| b.birth_date);
    let enroll = benef.and_then(|b| b.enroll_date);
    let rule_start = birth.and_then(|b| rules.start_month(b, enroll));
    approvals
        .iter()
        .map(|a| {
            let calc: Option<&ApprovalCalc> = replay.and_then(|r| {
                r.approvals.iter().find(|c| {
                    p.event_of(&c.source)
                        .and_then(|i| p.origins.get(i))
                        .is_some_and(|o| {
                            o.code == ev::APPROVAL && o.file_seq == a.file_seq && o.line == a.line
                        })
                })
            });
            let balance_rule = calc.map(|c| c.balance);
            let monthly_rule = calc.map(|c| c.account_pension);
            let basic_rule = refs.standard(a.start_month);
            let balance_diff = balance_rule.map(|r| a.account_balance - r);
            let monthly_diff = monthly_rule.map(|r| a.account_monthly - r);
            let basic_diff = basic_rule.map(|r| a.basic_monthly - r);
            let start_diff = rule_start.map(|r| month_index(a.start_month) - month_index(r));
            BenefitCheck {
                id_number: benef
                    .and_then(|b| b.id_number.clone())
                    .or_else(|| a.id_number.clone()),
                birth_date: birth,
                enroll_date: enroll,
                rule_start_month: rule_start,
                start_month: a.start_month,
                start_diff_months: start_diff,
                approve_date: a.approve_date,
                settlement_interest: calc.map(|c| c.settlement_interest),
                balance_rule,
                account_balance: a.account_balance,
                balance_diff,
                account_monthly_rule: monthly_rule,
                account_monthly: a.account_monthly,
                account_monthly_diff: monthly_diff,
                basic_rule,
                basic_monthly: a.basic_monthly,
                basic_diff,
                has_difference: start_diff.is_some_and(|d| d != 0)
                    || nonzero(balance_diff)
                    || nonzero(monthly_diff)
                    || nonzero(basic_diff)
                    || rule_start.is_none()
                    || calc.is_none()
                    || basic_rule.is_none(),
                file_seq: a.file_seq,
                line: a.line,
            }
        })
        .collect()
}

/// Why a month is not payable (or, for `CertifiedLate`, payable only as back pay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Before the start month the rules give (到龄次月).
    BeforeStart,
    /// After the month of death (死亡次月停发).
    AfterDeath,
    /// After the month of a cancellation for another reason (the relationship ended).
    Cancelled,
    /// Served in prison (register spell or a 服刑 suspension): never payable.
    Prison,
    /// Another suspension in force.
    Suspended,
    /// From May of a year (from the second year of benefits on) with no passed
    /// certification for that year by the through month.
    Uncertified,
    /// Payable, but certified after the deadline: the month is paid back once
    /// certified (`payable_from`).
    CertifiedLate,
}

impl Reason {
    /// Every reason (the values of `expected_payout.reason`).
    pub const ALL: [Reason; 7] = [
        Reason::BeforeStart,
        Reason::AfterDeath,
        Reason::Cancelled,
        Reason::Prison,
        Reason::Suspended,
        Reason::Uncertified,
        Reason::CertifiedLate,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::BeforeStart => "before_start",
            Reason::AfterDeath => "after_death",
            Reason::Cancelled => "cancelled",
            Reason::Prison => "prison",
            Reason::Suspended => "suspended",
            Reason::Uncertified => "uncertified",
            Reason::CertifiedLate => "certified_late",
        }
    }
}

/// One row of `expected_payout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedMonth {
    pub month: NaiveDate,
    /// Standard in force that month (0 when the standards table has none yet).
    pub basic_standard: Decimal,
    /// The approved account pension in force that month.
    pub account_pension: Decimal,
    pub expected_basic: Decimal,
    pub expected_account: Decimal,
    pub expected_total: Decimal,
    pub payable: bool,
    pub reason: Option<Reason>,
    /// Certified late: the earliest date the month may be paid.
    pub payable_from: Option<NaiveDate>,
}

/// Per month from the first approved start through `through`: what should have
/// been paid. The death month is the earliest of a death cancellation's event
/// date and the person's death by the audit's definition (audit/death.sql); prison months run from the admission month to
/// the release month inclusive (register) or from the suspension month to the
/// month before resumption (服刑 suspension).
pub fn expected_payout(
    approvals: &[ApprovalRow],
    benef: Option<&Beneficiary>,
    cancellations: &[CancelRow],
    refs: &Reference,
    rules: &BenefitRules,
    through: NaiveDate,
) -> Vec<ExpectedMonth> {
    let Some(first) = approvals.iter().map(|a| a.start_month).min() else {
        return Vec::new();
    };
    let empty = Beneficiary::default();
    let b = benef.unwrap_or(&empty);
    let rule_start = b
        .birth_date
        .and_then(|d| rules.start_month(d, b.enroll_date))
        .map(month_index);
    let death = cancellations
        .iter()
        .filter(|c| c.reason == "death")
        .map(|c| c.event_date)
        .chain(b.death)
        .min()
        .map(month_index);
    let cancelled = cancellations
        .iter()
        .filter(|c| c.reason != "death")
        .map(|c| c.event_date)
        .min()
        .map(month_index);
    let prison: Vec<(i32, i32)> = b
        .inmate
        .iter()
        .map(|(a, r)| (month_index(*a), r.map_or(i32::MAX, month_index)))
        .chain(
            b.suspensions
                .iter()
                .filter(|(reason, _, _)| reason == "prison")
                .map(|(_, s, e)| (month_index(*s), e.map_or(i32::MAX, |e| month_index(e) - 1))),
        )
        .collect();
    let suspended: Vec<(i32, i32)> = b
        .suspensions
        .iter()
        .filter(|(reason, _, _)| reason == "other")
        .map(|(_, s, e)| (month_index(*s), e.map_or(i32::MAX, |e| month_index(e) - 1)))
        .collect();
    let first_year = first.year();
    let mut sorted: Vec<&ApprovalRow> = approvals.iter().collect();
    sorted.sort_by_key(|a| (a.start_month, a.approve_date, a.file_seq, a.line));
    let mut out = Vec::new();
    for m in month_index(first)..=month_index(through) {
        let month = month_of_index(m);
        let Some(appr) = sorted.iter().rev().find(|a| a.start_month <= month) else {
            continue;
        };
        let basic = refs.standard(month).unwrap_or_default();
        let account = appr.account_monthly;
        let within = |spans: &[(i32, i32)]| spans.iter().any(|(a, e)| m >= *a && m <= *e);
        let mut payable_from = None;
        let reason = if rule_start.is_some_and(|s| m < s) {
            Some(Reason::BeforeStart)
        } else if death.is_some_and(|d| m > d) {
            Some(Reason::AfterDeath)
        } else if cancelled.is_some_and(|c| m > c) {
            Some(Reason::Cancelled)
        } else if within(&prison) {
            Some(Reason::Prison)
        } else if within(&suspended) {
            Some(Reason::Suspended)
        } else if month.month() >= 5 && month.year() > first_year {
            let deadline = rules.certify_deadline(month.year());
            match b.certified.get(&month.year()) {
                None => Some(Reason::Uncertified),
                Some(c) if *c > deadline && month_index(*c) >= m => {
                    payable_from = Some(*c);
                    Some(Reason::CertifiedLate)
                }
                Some(_) => None,
            }
        } else {
            None
        };
        let payable = matches!(reason, None | Some(Reason::CertifiedLate));
        let (eb, ea) = if payable {
            (basic, account)
        } else {
            (Decimal::ZERO, Decimal::ZERO)
        };
        out.push(ExpectedMonth {
            month,
            basic_standard: basic,
            account_pension: account,
            expected_basic: eb,
            expected_account: ea,
            expected_total: eb + ea,
            payable,
            reason,
            payable_from,
        });
    }
    out
}

/// One row of `refund_check`: one per closure the engine replayed (a cancellation,
/// or a transfer out), beside what was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundCheck {
    /// `cancellation` or `transfer` (a transfer out with its own row).
    pub record: &'static str,
    /// The cancellation reason; `transfer_out` for a transfer row.
    pub reason: String,
    pub event_date: NaiveDate,
    pub apply_date: NaiveDate,
    pub days_after_death: Option<i64>,
    pub late_claim: bool,
    pub settlement_interest: Decimal,
    /// Account balance after the closure settlement.
    pub balance_rule: Decimal,
    /// Payable to the person or heirs: the balance (at death without the
    /// government part; at a transfer out nothing), plus unmoved prepaid lots.
    pub refund_rule: Decimal,
    pub government_returned: Decimal,
    pub prepaid_refund: Decimal,
    /// Paid to the receiving county (transfer out only).
    pub transfer_rule: Decimal,
    /// `refund_amount` of the cancellation (None when not recorded).
    pub refund_amount: Option<Decimal>,
    /// `refund_amount` (missing = 0) − `refund_rule`.
    pub refund_diff: Decimal,
    /// The transfer-out row's amount (transfer closures only).
    pub transfer_amount: Option<Decimal>,
    /// `transfer_amount` (missing = 0) − `transfer_rule`.
    pub transfer_diff: Decimal,
    pub has_difference: bool,
    pub pooled_to_date: Decimal,
    pub file_seq: i32,
    pub line: i32,
}

/// The refund check of every closure of the replay.
pub fn refund_checks(
    p: &PersonEvents,
    cancellations: &[CancelRow],
    replay: &Replay,
) -> Vec<RefundCheck> {
    // Transfer-out cancellations that gave way to a transfer-out row: each is
    // attached to the transfer closure nearest in date.
    let transfer_closures: Vec<(usize, NaiveDate)> = replay
        .refunds
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            p.event_of(&r.source)
                .and_then(|i| p.origins.get(i))
                .is_some_and(|o| o.code == ev::TRANSFER_OUT)
        })
        .map(|(i, r)| (i, r.date))
        .collect();
    let mut attached: Vec<Option<&CancelRow>> = vec![None; replay.refunds.len()];
    for c in cancellations.iter().filter(|c| c.reason == "transfer_out") {
        let is_event = p.origins.iter().any(|o| {
            o.code == ev::CANCELLATION_TRANSFER && o.file_seq == c.file_seq && o.line == c.line
        });
        if is_event {
            continue;
        }
        if let Some((i, _)) = transfer_closures
            .iter()
            .filter(|(i, _)| attached[*i].is_none())
            .min_by_key(|(_, d)| (c.apply_date - *d).num_days().abs())
        {
            attached[*i] = Some(c);
        }
    }
    replay
        .refunds
        .iter()
        .enumerate()
        .filter_map(|(i, r): (usize, &RefundCalc)| {
            let o = p.event_of(&r.source).and_then(|e| p.origins.get(e))?;
            let transfer = r.reason == CloseReason::TransferOut;
            let cancel = match o.code {
                ev::CANCELLATION | ev::CANCELLATION_TRANSFER => cancellations
                    .iter()
                    .find(|c| c.file_seq == o.file_seq && c.line == o.line),
                _ => attached[i],
            };
            let (record, transfer_amount) = if o.code == ev::TRANSFER_OUT {
                ("transfer", Some(o.amount))
            } else {
                ("cancellation", None)
            };
            let refund_rule = if transfer {
                r.prepaid_refund
            } else {
                r.refund + r.prepaid_refund
            };
            let transfer_rule = if transfer { r.refund } else { Decimal::ZERO };
            let refund_amount = cancel.and_then(|c| c.refund_amount);
            let refund_diff = refund_amount.unwrap_or_default() - refund_rule;
            let transfer_diff = transfer_amount.unwrap_or_default() - transfer_rule;
            Some(RefundCheck {
                record,
                reason: cancel.map_or_else(|| "transfer_out".to_string(), |c| c.reason.clone()),
                event_date: cancel.map_or(r.date, |c| c.event_date),
                apply_date: cancel.map_or(r.date, |c| c.apply_date),
                days_after_death: r.days_after_death,
                late_claim: r.late_claim,
                settlement_interest: r.settlement_interest,
                balance_rule: r.balance,
                refund_rule,
                government_returned: r.government_returned,
                prepaid_refund: r.prepaid_refund,
                transfer_rule,
                refund_amount,
                refund_diff,
                transfer_amount,
                transfer_diff,
                has_difference: !refund_diff.is_zero() || !transfer_diff.is_zero(),
                pooled_to_date: r.pooled_to_date,
                file_seq: o.file_seq,
                line: o.line,
            })
        })
        .collect()
}
