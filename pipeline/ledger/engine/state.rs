//! The replay's running state: balances of each sub-balance and prepaid lot,
//! interest accrual, and the postings and year figures it writes out.

use super::*;

/// A holding's running figures.
#[derive(Clone, Default)]
pub(super) struct Bal {
    /// Book balance: every posting so far.
    pub(super) book: Decimal,
    /// Postings of the current month that take effect next month.
    pub(super) pending: Decimal,
    /// Σ balance in effect over the months since the last interest posting.
    pub(super) accrued: Decimal,
}

impl Bal {
    pub(super) fn in_effect(&self) -> Decimal {
        self.book - self.pending
    }
    /// Post `amount` with effect from next month.
    pub(super) fn post_next(&mut self, amount: Decimal) {
        self.book += amount;
        self.pending += amount;
    }
    /// Turn the accrued sum into interest (half-up to the fen), in effect at once.
    pub(super) fn settle(&mut self, rate: Decimal) -> Decimal {
        let interest = interest(rate, self.accrued);
        self.accrued = Decimal::ZERO;
        self.book += interest;
        interest
    }
    /// Empty the holding with immediate effect (a closure, a lot's last move).
    pub(super) fn empty(&mut self) -> Decimal {
        let all = self.book;
        self.book = Decimal::ZERO;
        self.pending = Decimal::ZERO;
        all
    }
}

/// An amount already exact to the fen, shown with scale 2.
pub(super) fn yuan(mut x: Decimal) -> Decimal {
    x.rescale(2);
    x
}

pub(super) fn interest(rate: Decimal, accrued: Decimal) -> Decimal {
    round_fen(rate * accrued / Decimal::from(1200))
}

#[derive(Clone, Default)]
pub(super) struct YearStats {
    pub(super) opening: Decimal,
    pub(super) credits: Decimal,
    pub(super) debits: Decimal,
    pub(super) closed_out: Decimal,
    pub(super) interest: Decimal,
    pub(super) unposted: Decimal,
}

#[derive(Default)]
pub(super) struct SubState {
    pub(super) bal: Bal,
    pub(super) year: YearStats,
}

pub(super) struct State<'o, 'p> {
    pub(super) subs: [SubState; 4],
    pub(super) lots: Vec<Bal>,
    pub(super) lot_open: Vec<bool>,
    /// Prepaid holding year figures (credits = received, debits = moved,
    /// closed_out = refunded).
    pub(super) prepaid: YearStats,
    pub(super) has_prepaid: bool,
    pub(super) out: &'o mut Replay,
    pub(super) params: &'p Params,
}

impl State<'_, '_> {
    pub(super) fn post(
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

    pub(super) fn total(&self) -> Decimal {
        self.subs.iter().map(|s| s.bal.book).sum()
    }

    pub(super) fn apply(&mut self, it: &Item<'_>, rate: Decimal) {
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
    pub(super) fn settle_account(
        &mut self,
        date: NaiveDate,
        rate: Decimal,
        src: &Source,
    ) -> Decimal {
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

    pub(super) fn close(
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
    pub(super) fn month_end(&mut self) {
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
    pub(super) fn quiet_months(&mut self, k: u32) {
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
    pub(super) fn year_end(&mut self, y: i32, rate: Decimal) {
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
    pub(super) fn accrue_unposted(&mut self, rate: Decimal) {
        for s in &mut self.subs {
            s.year.unposted = interest(rate, s.bal.accrued);
        }
        self.prepaid.unposted = self.lots.iter().map(|l| interest(rate, l.accrued)).sum();
    }

    pub(super) fn close_year(&mut self, y: i32) {
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
