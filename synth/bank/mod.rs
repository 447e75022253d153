//! The money from outside: what the banks print for the fund's four bank accounts,
//! derived from the fund ledger (books.rs) after it is written, with the differences a
//! real bank shows (README § The synthetic county).
//!
//! Every bank line belongs to a *group* that says which ledger rows it pays or
//! receives, so the tests can reconcile without the matching engine. The differences
//! that are pure timing:
//! * the income account's month-end sweep 划转财政专户 (and the fiscal account's
//!   receipt of it) leave/arrive 1–3 days later, in the next month;
//! * a month's contributions arrive as 2–6 lines on the book date (one per deduction
//!   batch, adding up exactly); the month's basic and account pensions leave as one
//!   debit (养老金代发);
//! * interest is credited by the bank 1–3 days before the centre books it.
//!
//! And the planted cases (the answer key, as book-level findings):
//! * BANK_UNMATCHED: a bank fee (手续费) never booked; a refund booked but never paid;
//! * BANK_STATEMENT + BANK_UNMATCHED + BANK_BALANCE: a statement that omits its last
//!   line (expenditure and income accounts), so the next statement does not join;
//! * BANK_STATEMENT + BANK_BALANCE: a statement that opens above the previous close
//!   (fiscal account), the bank's balance carrying the difference from then on.
//!
//! Statements start in January of the year before the last month (or the ledger's
//! first month if later), opening at the book balance of the day before; the sweep of
//! the month before the start reaches the bank on its book date, so no timing item
//! crosses the start. The draws use their own random stream: every other file of the
//! county is byte-identical with or without this module.

pub mod print;
#[cfg(test)]
mod tests;

use super::books::{Acct, BookFinding, LedgerRow};
use super::calendar::{days, fen, first_day, last_day, month_text, year_of, ym, ym_of, Ym};
use chrono::NaiveDate;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The matching window of the rules (parameters.toml `bank_match_window_days`).
pub const WINDOW_DAYS: i64 = 5;
/// The largest batch the matching looks for (`bank_batch_max_lines`).
pub const BATCH_MAX: usize = 8;

pub const ACCTS: [Acct; 4] = [Acct::Income, Acct::Expenditure, Acct::Fiscal, Acct::Prepaid];

pub fn slot(a: Acct) -> usize {
    match a {
        Acct::Income => 0,
        Acct::Expenditure => 1,
        Acct::Fiscal => 2,
        Acct::Prepaid => 3,
    }
}

/// One of the fund's bank accounts (the bank_account reference file).
#[derive(Clone, Debug)]
pub struct BankAccount {
    pub acct: Acct,
    pub no: String,
    /// 开户银行, e.g. 中国农业银行确山县支行.
    pub bank: String,
    /// The bank's name as printed on top of its statements (中国农业银行).
    pub title: &'static str,
    /// 户名.
    pub holder: String,
}

/// One line the bank booked on one account.
#[derive(Clone, Debug)]
pub struct BankLine {
    pub acct: Acct,
    pub date: NaiveDate,
    pub inflow: bool,
    pub amount: Decimal,
    pub summary: &'static str,
    pub counterpart: Option<Acct>,
    /// Set once the lines are in order (B + date + the account's sequence).
    pub bank_ref: String,
    /// The bank's running balance after this line.
    pub balance: Decimal,
    /// The match group (`Bank::groups`); None for the bank's own lines (a fee).
    pub group: Option<usize>,
    /// False for a line the bank booked but left off its statement (a planted gap).
    pub printed: bool,
    /// Order within a day: the ledger row's position, then the batch part.
    ord: (usize, usize),
}

/// Which ledger rows and which bank lines are the same money.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub books: Vec<usize>,
    pub banks: Vec<usize>,
}

/// A planted change of the reconciliation difference: from `month` on, the account's
/// bank side exceeds its book side by `amount` more than before.
#[derive(Clone, Debug)]
pub struct Break {
    pub acct: Acct,
    pub month: Ym,
    pub amount: Decimal,
}

#[derive(Clone, Debug)]
pub struct Bank {
    /// The county's seed (the layout stream of print.rs derives from it).
    pub seed: u64,
    pub accounts: Vec<BankAccount>,
    /// First and last statement month.
    pub start: Ym,
    pub end: Ym,
    /// Book balance the day before `start`, the first statement's opening.
    pub opening: [Decimal; 4],
    /// In account, date, order: index = position.
    pub lines: Vec<BankLine>,
    pub groups: Vec<Group>,
    /// Ledger row → its group.
    pub book_group: BTreeMap<usize, usize>,
    pub findings: Vec<BookFinding>,
    pub breaks: Vec<Break>,
    /// The month of the refund the bank never paid (kept apart from the other cases).
    dropped_month: Option<Ym>,
}

fn bank_names(a: Acct) -> (&'static str, &'static str) {
    // (bank, account-number prefix)
    match a {
        Acct::Income => ("中国农业银行", "1625"),
        Acct::Expenditure => ("中国邮政储蓄银行", "9410"),
        Acct::Fiscal => ("中国工商银行", "1717"),
        Acct::Prepaid => ("中国建设银行", "4105"),
    }
}

fn accounts(rng: &mut ChaCha8Rng, county: &str) -> Vec<BankAccount> {
    ACCTS
        .iter()
        .map(|&a| {
            let (title, prefix) = bank_names(a);
            let mut no = prefix.to_string();
            while no.len() < 19 {
                no.push(char::from(b'0' + rng.random_range(0..10u8)));
            }
            BankAccount {
                acct: a,
                no,
                bank: format!("{title}{county}支行"),
                title,
                holder: format!("{county}城乡居民基本养老保险基金{}", a.zh()),
            }
        })
        .collect()
}

/// What the bank prints for a ledger category (摘要).
fn summary(category: &str, inflow: bool) -> &'static str {
    match category {
        "contribution" => "代扣保费入账",
        "collective" => "集体补助",
        "interest" => "结息",
        "transfer_in" => "转移接续转入",
        "to_fiscal" if inflow => "收入户划入",
        "to_fiscal" => "划转财政专户",
        "from_fiscal" if inflow => "财政专户拨入",
        "from_fiscal" => "拨付支出户",
        "basic_pension" | "account_pension" => "养老金代发",
        "refund" => "退保支付",
        "transfer_out" => "转移接续转出",
        "prepaid_carry" if inflow => "预收户结转",
        "prepaid_carry" => "预收结转财政专户",
        c if c.starts_with("subsidy") => "财政补贴拨入",
        _ if inflow => "其他收入",
        _ => "其他支出",
    }
}

impl Bank {
    /// The statements of every account from the start month to `end` (the county's
    /// last month), from the ledger rows, with the planted cases.
    pub fn build(rows: &[LedgerRow], seed: u64, end: Ym, county: &str) -> Bank {
        let mut rng = ChaCha8Rng::seed_from_u64(super::sub_seed(seed, 40));
        let first = rows.iter().map(|r| ym_of(r.date)).min().unwrap_or(end);
        let start = first.max(ym(year_of(end) - 1, 1)).min(end);
        let mut opening = [Decimal::ZERO; 4];
        for r in rows.iter().filter(|r| ym_of(r.date) < start) {
            opening[slot(r.account)] += signed(r.inflow, r.amount);
        }
        let mut b = Bank {
            seed,
            accounts: accounts(&mut rng, county),
            start,
            end,
            opening,
            lines: Vec::new(),
            groups: Vec::new(),
            book_group: BTreeMap::new(),
            findings: Vec::new(),
            breaks: Vec::new(),
            dropped_month: None,
        };
        b.base_lines(rows, &mut rng);
        b.split_contributions(rows, &mut rng);
        b.plant(rows, &mut rng);
        b.order_and_balance();
        b.plant_gaps(rows, &mut rng);
        b
    }

    fn push_line(&mut self, group: Option<usize>, line: BankLine) {
        let i = self.lines.len();
        if let Some(g) = group {
            self.groups[g].banks.push(i);
        }
        self.lines.push(line);
    }

    fn new_group(&mut self, books: Vec<usize>) -> usize {
        let g = self.groups.len();
        for &i in &books {
            self.book_group.insert(i, g);
        }
        self.groups.push(Group {
            books,
            banks: Vec::new(),
        });
        g
    }

    /// One bank line per ledger row (a month's pensions: one for both rows), dated as
    /// the bank books it.
    fn base_lines(&mut self, rows: &[LedgerRow], rng: &mut ChaCha8Rng) {
        let from = first_day(self.start);
        let last = last_day(self.end);
        let mut sweep_delay: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        let mut pensions: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.date >= from) {
            let pension = r.account == Acct::Expenditure
                && matches!(r.category, "basic_pension" | "account_pension");
            if pension {
                if let Some(&g) = pensions.get(&r.date) {
                    // The month's second pension row: the same debit pays both.
                    self.book_group.insert(i, g);
                    self.groups[g].books.push(i);
                    let k = self.groups[g].banks[0];
                    self.lines[k].amount += r.amount;
                    continue;
                }
            }
            let date = match r.category {
                // The sweep of a month end reaches the bank in the next month's first days.
                "to_fiscal" if r.date == last_day(ym_of(r.date)) => {
                    let d = *sweep_delay
                        .entry(r.date)
                        .or_insert_with(|| rng.random_range(1..=3));
                    r.date + days(d)
                }
                "interest" if r.inflow => (r.date - days(rng.random_range(1..=3))).max(from),
                _ => r.date,
            };
            let g = self.new_group(vec![i]);
            if pension {
                pensions.insert(r.date, g);
            }
            if date > last {
                continue; // in the bank after the county's last month: outstanding
            }
            self.push_line(
                Some(g),
                BankLine {
                    acct: r.account,
                    date,
                    inflow: r.inflow,
                    amount: r.amount,
                    summary: summary(r.category, r.inflow),
                    counterpart: r.counterpart,
                    bank_ref: String::new(),
                    balance: Decimal::ZERO,
                    group: Some(g),
                    printed: true,
                    ord: (i, 0),
                },
            );
        }
    }

    /// The income account's contributions arrive as several deduction batches: 2–6
    /// lines adding up exactly, drawn again while any part could pair otherwise.
    fn split_contributions(&mut self, rows: &[LedgerRow], rng: &mut ChaCha8Rng) {
        let targets: Vec<usize> = (0..self.groups.len())
            .filter(|&g| {
                let grp = &self.groups[g];
                grp.books.len() == 1
                    && grp.banks.len() == 1
                    && rows[grp.books[0]].account == Acct::Income
                    && rows[grp.books[0]].category == "contribution"
                    && rows[grp.books[0]].amount >= Decimal::from(100)
            })
            .collect();
        for g in targets {
            let k = self.groups[g].banks[0];
            let whole = self.lines[k].clone();
            let total = fen_count(whole.amount);
            for _attempt in 0..20 {
                let n = rng.random_range(2..=6usize);
                let mut cuts: Vec<i64> = (1..n).map(|_| rng.random_range(1..total)).collect();
                cuts.sort_unstable();
                cuts.dedup();
                cuts.insert(0, 0);
                cuts.push(total);
                if cuts.len() < 3 {
                    continue;
                }
                let parts: Vec<Decimal> = cuts
                    .windows(2)
                    .map(|w| Decimal::new(w[1] - w[0], 2))
                    .collect();
                // Replace the single line by the parts (the first part reuses its slot).
                self.lines[k].amount = parts[0];
                self.lines[k].ord.1 = 0;
                for (j, &p) in parts.iter().enumerate().skip(1) {
                    let mut l = whole.clone();
                    l.amount = p;
                    l.ord.1 = j;
                    self.push_line(Some(g), l);
                }
                if self
                    .ambiguities(rows, whole.acct, whole.date, whole.date)
                    .is_empty()
                {
                    break;
                }
                self.unsplit(g, &whole);
            }
        }
    }

    /// Back to one line (the parts pushed last are removed).
    fn unsplit(&mut self, g: usize, whole: &BankLine) {
        let k = self.groups[g].banks[0];
        for &extra in self.groups[g].banks[1..].iter().rev() {
            debug_assert_eq!(extra, self.lines.len() - 1);
            self.lines.pop();
        }
        self.groups[g].banks.truncate(1);
        self.lines[k] = whole.clone();
    }

    /// Months where a planted case may fall: its line must be past the window plus a
    /// month before the county's last month end, and not in the first statement month.
    fn plant_months(&self) -> Vec<Ym> {
        (self.start + 1..=self.end - 2).collect()
    }

    /// A bank fee never booked and a refund the bank never paid (expenditure account).
    fn plant(&mut self, rows: &[LedgerRow], rng: &mut ChaCha8Rng) {
        let months = self.plant_months();
        if months.len() < 6 {
            return;
        }
        let exp = self.account(Acct::Expenditure).clone();
        // The refund: a booked refund whose bank line is removed.
        let mut refunds: Vec<usize> = (0..self.groups.len())
            .filter(|&g| {
                let grp = &self.groups[g];
                grp.books.len() == 1
                    && grp.banks.len() == 1
                    && rows[grp.books[0]].account == Acct::Expenditure
                    && rows[grp.books[0]].category == "refund"
                    && months.contains(&ym_of(rows[grp.books[0]].date))
            })
            .collect();
        shuffle(&mut refunds, rng);
        for g in refunds {
            let k = self.groups[g].banks[0];
            let saved = self.lines[k].clone();
            self.lines[k].printed = false; // tentatively gone
            let d = saved.date;
            if self.ambiguities(rows, Acct::Expenditure, d, d).is_empty() {
                // Remove the line for good: it never happened at the bank.
                self.groups[g].banks.clear();
                self.lines[k].group = None;
                self.lines[k].amount = Decimal::ZERO;
                let r = &rows[self.groups[g].books[0]];
                self.findings.push(BookFinding {
                    code: "BANK_UNMATCHED",
                    month: Some(ym_of(r.date)),
                    amount: Some(r.amount),
                    note: format!(
                        "book expenditure voucher {} {} {}: booked, never paid by the bank ({} {})",
                        r.voucher,
                        super::calendar::iso(r.date),
                        fen(r.amount),
                        exp.acct.zh(),
                        exp.no
                    ),
                });
                self.dropped_month = Some(ym_of(r.date));
                break;
            }
            self.lines[k] = saved;
        }
        // The fee: a month with neither the dropped refund nor a neighbour of it.
        for _attempt in 0..50 {
            let m = months[rng.random_range(0..months.len())];
            if self.dropped_month.is_some_and(|d| (d - m).abs() < 2) {
                continue;
            }
            let date = super::calendar::day_in(m, rng.random_range(8..=25));
            let amount = Decimal::from(rng.random_range(5..=60) * 5);
            self.push_line(
                None,
                BankLine {
                    acct: Acct::Expenditure,
                    date,
                    inflow: false,
                    amount,
                    summary: "手续费",
                    counterpart: None,
                    bank_ref: String::new(),
                    balance: Decimal::ZERO,
                    group: None,
                    printed: true,
                    ord: (usize::MAX - 1, 0),
                },
            );
            if self
                .ambiguities(rows, Acct::Expenditure, date, date)
                .is_empty()
            {
                break;
            }
            self.lines.pop();
        }
    }
}

impl Bank {
    pub fn account(&self, a: Acct) -> &BankAccount {
        &self.accounts[slot(a)]
    }

    /// The lines of one account, in order.
    pub fn lines_of(&self, a: Acct) -> impl Iterator<Item = &BankLine> {
        self.lines.iter().filter(move |l| l.acct == a)
    }

    /// Lines in account, date and ledger order; the bank's references and running
    /// balances; the fee's answer-key row (it needs its reference).
    fn order_and_balance(&mut self) {
        let mut lines: Vec<BankLine> = std::mem::take(&mut self.lines)
            .into_iter()
            .filter(|l| l.amount > Decimal::ZERO)
            .collect();
        lines.sort_by(|a, b| (slot(a.acct), a.date, a.ord).cmp(&(slot(b.acct), b.date, b.ord)));
        for g in &mut self.groups {
            g.banks.clear();
        }
        let mut seq = [0u64; 4];
        let mut bal = self.opening;
        for (i, l) in lines.iter_mut().enumerate() {
            if let Some(g) = l.group {
                self.groups[g].banks.push(i);
            }
            let s = slot(l.acct);
            seq[s] += 1;
            l.bank_ref = format!("B{}{:06}", l.date.format("%Y%m%d"), seq[s]);
            bal[s] += signed(l.inflow, l.amount);
            l.balance = bal[s];
        }
        self.lines = lines;
        if let Some(fee) = self.lines.iter().find(|l| l.group.is_none()) {
            let acct = self.account(fee.acct);
            self.findings.push(BookFinding {
                code: "BANK_UNMATCHED",
                month: Some(ym_of(fee.date)),
                amount: Some(fee.amount),
                note: format!(
                    "bank {} {} {} {} {}: a fee the books never recorded",
                    acct.acct.zh(),
                    acct.no,
                    fee.bank_ref,
                    super::calendar::iso(fee.date),
                    fee.summary
                ),
            });
        }
    }

    /// The statement gaps: the expenditure and income accounts each have one month
    /// whose statement omits its last line; the fiscal account has one month whose
    /// statement opens above the previous close, every later balance carrying it.
    fn plant_gaps(&mut self, rows: &[LedgerRow], rng: &mut ChaCha8Rng) {
        let months = self.plant_months();
        if months.len() < 6 {
            return;
        }
        for acct in [Acct::Expenditure, Acct::Income] {
            let mut cands: Vec<usize> = months
                .iter()
                .filter(|&&m| self.dropped_month.is_none_or(|d| (d - m).abs() > 1))
                .filter_map(|&m| self.omittable_last_line(rows, acct, m))
                .collect();
            shuffle(&mut cands, rng);
            for k in cands {
                self.lines[k].printed = false;
                let d = self.lines[k].date;
                if self.ambiguities(rows, acct, d, d).is_empty() {
                    self.omission_findings(rows, k);
                    break;
                }
                self.lines[k].printed = true;
            }
        }
        // The fiscal account's statement that opens above the previous close.
        let cands: Vec<Ym> = months
            .iter()
            .copied()
            .filter(|&m| {
                self.lines_of(Acct::Fiscal).any(|l| ym_of(l.date) == m)
                    && self.lines_of(Acct::Fiscal).any(|l| ym_of(l.date) < m)
            })
            .collect();
        if cands.is_empty() {
            return;
        }
        let m = cands[rng.random_range(0..cands.len())];
        let jump = Decimal::new(rng.random_range(100_000..2_000_000), 2);
        let from = first_day(m);
        for l in self
            .lines
            .iter_mut()
            .filter(|l| l.acct == Acct::Fiscal && l.date >= from)
        {
            l.balance += jump;
        }
        let first = self
            .lines_of(Acct::Fiscal)
            .find(|l| l.date >= from)
            .map(|l| l.bank_ref.clone())
            .unwrap_or_default();
        self.gap_findings(
            Acct::Fiscal,
            m,
            jump,
            &first,
            "opens above the previous statement's close (no line missing)",
        );
    }

    /// The last line of `acct`'s statement of month `m`, if it pays one ledger row
    /// alone and the account has lines the next month (so the gap shows).
    fn omittable_last_line(&self, rows: &[LedgerRow], acct: Acct, m: Ym) -> Option<usize> {
        let (k, l) = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.acct == acct && ym_of(l.date) == m)
            .last()?;
        let g = &self.groups[l.group?];
        let next = self
            .lines
            .iter()
            .any(|n| n.acct == acct && ym_of(n.date) == m + 1);
        let alone = g.books.len() == 1 && g.banks.len() == 1 && l.printed;
        (alone && next && ym_of(rows[g.books[0]].date) == m).then_some(k)
    }

    /// One omitted line's consequences: its book line unmatched, the jump at the next
    /// statement, the reconciliation difference from that month on.
    fn omission_findings(&mut self, rows: &[LedgerRow], k: usize) {
        let l = self.lines[k].clone();
        let acct = self.account(l.acct).clone();
        let r = &rows[self.groups[l.group.unwrap_or_default()].books[0]];
        self.findings.push(BookFinding {
            code: "BANK_UNMATCHED",
            month: Some(ym_of(r.date)),
            amount: Some(r.amount),
            note: format!(
                "book {} voucher {} {} {}: its bank line {} is missing from the statement {} of {} (a statement gap)",
                r.account.en(),
                r.voucher,
                super::calendar::iso(r.date),
                fen(r.amount),
                l.bank_ref,
                month_text(ym_of(l.date)),
                acct.no
            ),
        });
        let next = self
            .lines
            .iter()
            .find(|n| n.acct == l.acct && n.date >= first_day(ym_of(l.date) + 1))
            .map(|n| (ym_of(n.date), n.bank_ref.clone()));
        let Some((m, next_ref)) = next else { return };
        // jump = balance − (previous balance + income − expense): the omitted line's
        // effect, which the next line's balance includes and the previous one lacks.
        let jump = signed(l.inflow, l.amount);
        let why = format!(
            "the statement {} omits its last line {}",
            month_text(ym_of(l.date)),
            l.bank_ref
        );
        self.gap_findings(l.acct, m, jump, &next_ref, &why);
    }

    fn gap_findings(&mut self, a: Acct, m: Ym, jump: Decimal, at_ref: &str, why: &str) {
        let acct = self.account(a).clone();
        self.findings.push(BookFinding {
            code: "BANK_STATEMENT",
            month: Some(m),
            amount: Some(jump),
            note: format!(
                "bank {} {}: balance jumps by {} at {} ({why})",
                a.zh(),
                acct.no,
                fen(jump),
                at_ref
            ),
        });
        self.findings.push(BookFinding {
            code: "BANK_BALANCE",
            month: Some(m),
            amount: Some(jump),
            note: format!(
                "account {} {}: reconciliation differs by {} from {} ({why})",
                a.en(),
                acct.no,
                fen(jump),
                month_text(m)
            ),
        });
        self.breaks.push(Break {
            acct: a,
            month: m,
            amount: jump,
        });
    }

    /// Ways the matching (exact amounts, the window, batches of one day and direction
    /// of at most [`BATCH_MAX`] lines) could pair lines of `acct` dated around
    /// `from..=to` other than the groups say — empty when the pairing is unambiguous.
    pub fn ambiguities(
        &self,
        rows: &[LedgerRow],
        acct: Acct,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Vec<String> {
        let w = days(WINDOW_DAYS);
        let (lo, hi) = (from - w, to + w);
        let start = first_day(self.start);
        let bank: Vec<usize> = (0..self.lines.len())
            .filter(|&k| {
                let l = &self.lines[k];
                l.acct == acct
                    && l.printed
                    && l.amount > Decimal::ZERO
                    && l.date >= lo - w
                    && l.date <= hi + w
            })
            .collect();
        let book: Vec<usize> = (0..rows.len())
            .filter(|&i| {
                let r = &rows[i];
                r.account == acct && r.date >= start && r.date >= lo - w && r.date <= hi + w
            })
            .collect();
        let printed = |g: usize| -> Vec<usize> {
            let mut v: Vec<usize> = self.groups[g]
                .banks
                .iter()
                .copied()
                .filter(|&k| self.lines[k].printed)
                .collect();
            v.sort_unstable();
            v
        };
        // The one-to-one pairs the groups intend (book row ↔ bank line).
        let pair_of_book = |i: usize| -> Option<usize> {
            let g = *self.book_group.get(&i)?;
            let banks = printed(g);
            (self.groups[g].books.len() == 1 && banks.len() == 1).then(|| banks[0])
        };
        let pair_of_bank = |k: usize| -> Option<usize> {
            let g = self.lines[k].group?;
            let books = &self.groups[g].books;
            (books.len() == 1 && printed(g) == [k]).then(|| books[0])
        };
        // The matching pairs one to one first: a batch that would use a line with an
        // exact partner cannot form; swapping two partners of the same day and amount
        // changes nothing the checks see.
        let harmless = |bank_set: &[usize], book_set: &[usize]| -> bool {
            match (bank_set, book_set) {
                ([k], [i]) => match (pair_of_bank(*k), pair_of_book(*i)) {
                    (Some(i2), Some(k2)) => {
                        let d = |i: usize, k: usize| (rows[i].date, self.lines[k].date);
                        same_month_ends(d(*i, k2), d(i2, *k), d(*i, *k), d(i2, k2))
                    }
                    _ => false,
                },
                _ => {
                    bank_set.iter().any(|&k| pair_of_bank(k).is_some())
                        || book_set.iter().any(|&i| pair_of_book(i).is_some())
                }
            }
        };
        let mut out = Vec::new();
        for inflow in [true, false] {
            // Bank lines of one day against one book line.
            let mut by_day: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
            for &k in &bank {
                let l = &self.lines[k];
                if l.inflow == inflow && l.date >= lo && l.date <= hi {
                    by_day.entry(l.date).or_default().push(k);
                }
            }
            for (day, set) in &by_day {
                for (subset, sum) in subsets(set, |k| self.lines[k].amount) {
                    for &i in &book {
                        let r = &rows[i];
                        if r.inflow != inflow || r.amount != sum || (r.date - *day).abs() > w {
                            continue;
                        }
                        let intended = self
                            .book_group
                            .get(&i)
                            .is_some_and(|&g| self.groups[g].books == [i] && printed(g) == subset);
                        if !intended && !harmless(&subset, &[i]) {
                            out.push(format!(
                                "bank lines {subset:?} of {day} could pay book row {i} ({})",
                                r.voucher
                            ));
                        }
                    }
                }
            }
            // Book lines of one day against one bank line.
            let mut by_day: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
            for &i in &book {
                let r = &rows[i];
                if r.inflow == inflow && r.date >= lo && r.date <= hi {
                    by_day.entry(r.date).or_default().push(i);
                }
            }
            for (day, set) in &by_day {
                for (subset, sum) in subsets(set, |i| rows[i].amount) {
                    for &k in &bank {
                        let l = &self.lines[k];
                        if l.inflow != inflow || l.amount != sum || (l.date - *day).abs() > w {
                            continue;
                        }
                        let intended = l.group.is_some_and(|g| {
                            let mut books = self.groups[g].books.clone();
                            books.sort_unstable();
                            books == subset && printed(g) == [k]
                        });
                        if !intended && !harmless(&[k], &subset) {
                            out.push(format!(
                                "book rows {subset:?} of {day} could match bank line {k} ({})",
                                l.bank_ref
                            ));
                        }
                    }
                }
            }
        }
        out
    }
}

/// Whether pairing (book, bank) dates as `c`, `d` instead of `a`, `b` (two pairs of
/// the same amount and direction, swapped) leaves the same items outstanding at every
/// month end, both pairs staying within the window: then the swap is invisible to the
/// reconciliation and the checks.
fn same_month_ends(
    a: (NaiveDate, NaiveDate),
    b: (NaiveDate, NaiveDate),
    c: (NaiveDate, NaiveDate),
    d: (NaiveDate, NaiveDate),
) -> bool {
    let w = days(WINDOW_DAYS);
    if [c, d].iter().any(|p| (p.0 - p.1).abs() > w) {
        return false;
    }
    // Outstanding (book lines, bank lines) at month end e under a pairing.
    let open = |pairs: [(NaiveDate, NaiveDate); 2], e: NaiveDate| {
        pairs.iter().fold((0, 0), |n, &(bk, bn)| {
            let on = bk.max(bn);
            (
                n.0 + usize::from(bk <= e && on > e),
                n.1 + usize::from(bn <= e && on > e),
            )
        })
    };
    let all = [a.0, a.1, b.0, b.1];
    let (Some(&lo), Some(&hi)) = (all.iter().min(), all.iter().max()) else {
        return false;
    };
    (ym_of(lo)..=ym_of(hi)).all(|m| open([a, b], last_day(m)) == open([c, d], last_day(m)))
}

/// Every non-empty subset of at most [`BATCH_MAX`] items (sorted), with its sum; none
/// for a day of more than 16 lines (the synthetic books never have one).
fn subsets(set: &[usize], amount: impl Fn(usize) -> Decimal) -> Vec<(Vec<usize>, Decimal)> {
    let n = set.len();
    if n > 16 {
        return Vec::new();
    }
    let mut sorted = set.to_vec();
    sorted.sort_unstable();
    (1u32..(1 << n))
        .filter(|m| m.count_ones() as usize <= BATCH_MAX)
        .map(|m| {
            let items: Vec<usize> = (0..n)
                .filter(|j| m >> j & 1 == 1)
                .map(|j| sorted[j])
                .collect();
            let sum = items.iter().map(|&x| amount(x)).sum();
            (items, sum)
        })
        .collect()
}

fn signed(inflow: bool, amount: Decimal) -> Decimal {
    if inflow {
        amount
    } else {
        -amount
    }
}

fn fen_count(x: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (fen(x) * Decimal::from(100)).to_i64().unwrap_or(0)
}

fn shuffle<T>(v: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}
