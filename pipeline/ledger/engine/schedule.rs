//! Scheduling: a person's events (and the prepaid moves they generate) in the
//! order the replay applies them.

use super::*;

pub(super) enum Action {
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
pub(super) struct Item<'a> {
    pub(super) date: NaiveDate,
    pub(super) segment: usize,
    pub(super) rank: u8,
    pub(super) seq: (usize, usize),
    pub(super) action: Action,
    pub(super) source: &'a Source,
}

pub(super) fn ym(d: NaiveDate) -> (i32, u32) {
    (d.year(), d.month())
}

pub(super) fn check_amount(amount: Decimal, source: &str) -> Result<(), LedgerError> {
    if amount < Decimal::ZERO || amount.round_dp(2) != amount {
        return Err(LedgerError::InvalidAmount {
            amount,
            origin: source.to_string(),
        });
    }
    Ok(())
}

pub(super) fn schedule<'a>(
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
