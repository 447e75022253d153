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

mod schedule;
mod state;
mod types;

use schedule::*;
use state::*;
pub use types::*;

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
