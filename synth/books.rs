//! Book-level records: receipt books (收款收据), the fund ledger (基金账户流水) and the
//! finance bureau's notices (财政补贴拨付通知), aggregated while persons stream past,
//! written once at the end, with the book-level audit cases (RECEIPT_GAP, FUND_RULE,
//! BOOKS_DISAGREE, FISCAL_DISAGREE, FISCAL_LATE) injected here.

use super::calendar::{
    day_in, days, days_in_month, fen, last_day, month_of, month_text, year_of, ym_of, Ym,
};
use super::params::BOOK_SIZE;
use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A ground-truth row for a book-level finding.
#[derive(Clone, Debug)]
pub struct BookFinding {
    pub code: &'static str,
    pub month: Option<Ym>,
    pub amount: Option<Decimal>,
    pub note: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GapKind {
    Duplicate,
    Outside,
    Missing,
    Shortfall,
    Unsettled,
}

#[derive(Clone, Debug)]
pub struct Book {
    pub no: String,
    pub township: usize,
    pub year: i32,
    pub first: u32,
    pub holder: usize,
    used: u64,
    voided: u64,
    pub collected: Decimal,
    pub deposited: Decimal,
    min: Option<NaiveDate>,
    max: Option<NaiveDate>,
    pub issue: Option<NaiveDate>,
    pub settle: Option<NaiveDate>,
}

impl Book {
    pub fn last(&self) -> u32 {
        self.first + BOOK_SIZE - 1
    }
    /// Voided numbers, ascending.
    pub fn voided(&self) -> Vec<u32> {
        (0..BOOK_SIZE)
            .filter(|i| self.voided >> i & 1 == 1)
            .map(|i| self.first + i)
            .collect()
    }
}

pub fn receipt_text(n: u32) -> String {
    format!("{n:08}")
}

/// Receipt books per township and year, issued as numbers are needed.
pub struct Receipts {
    pub books: Vec<Book>,
    current: BTreeMap<(usize, i32), usize>,
    /// Books opened so far per (township, year), for the book number.
    opened: BTreeMap<(usize, i32), usize>,
    /// Numbers handed to books so far per year: receipts are numbered YY000001 … within
    /// a year, and YY900001 … is never issued (used for receipts outside every book).
    next_first: BTreeMap<i32, u32>,
    outside_next: BTreeMap<i32, u32>,
    /// (township, year) → gap injected while numbers are handed out.
    live_targets: BTreeMap<(usize, i32), GapKind>,
    end_targets: Vec<((usize, i32), GapKind)>,
    last_given: BTreeMap<(usize, i32), (u32, usize)>,
    pub findings: Vec<BookFinding>,
}

impl Receipts {
    /// Chooses the (township, year) pairs that will carry a receipt gap: `per_kind` of
    /// each of the five kinds.
    pub fn new(
        rng: &mut ChaCha8Rng,
        townships: usize,
        last_year: i32,
        per_kind: usize,
    ) -> Receipts {
        let mut live = BTreeMap::new();
        let mut end = Vec::new();
        let kinds = [
            GapKind::Duplicate,
            GapKind::Outside,
            GapKind::Missing,
            GapKind::Shortfall,
            GapKind::Unsettled,
        ];
        let mut taken = std::collections::BTreeSet::new();
        for kind in kinds {
            for _ in 0..per_kind {
                for _ in 0..50 {
                    let key = (
                        rng.random_range(0..townships),
                        rng.random_range(2013..last_year.max(2014)),
                    );
                    if taken.insert(key) {
                        match kind {
                            GapKind::Duplicate | GapKind::Outside => {
                                live.insert(key, kind);
                            }
                            _ => end.push((key, kind)),
                        }
                        break;
                    }
                }
            }
        }
        Receipts {
            books: Vec::new(),
            current: BTreeMap::new(),
            opened: BTreeMap::new(),
            next_first: BTreeMap::new(),
            outside_next: BTreeMap::new(),
            live_targets: live,
            end_targets: end,
            last_given: BTreeMap::new(),
            findings: Vec::new(),
        }
    }

    fn open_book(&mut self, township: usize, year: i32) -> usize {
        let seq = self.opened.entry((township, year)).or_insert(0);
        *seq += 1;
        let seq = *seq;
        let next = self
            .next_first
            .entry(year)
            .or_insert(year.rem_euclid(100) as u32 * 1_000_000 + 1);
        let first = *next;
        *next += BOOK_SIZE;
        self.books.push(Book {
            no: format!("SJ{year}{:02}{seq:03}", township + 1),
            township,
            year,
            first,
            holder: seq % 2,
            used: 0,
            voided: 0,
            collected: Decimal::ZERO,
            deposited: Decimal::ZERO,
            min: None,
            max: None,
            issue: None,
            settle: None,
        });
        self.current.insert((township, year), self.books.len() - 1);
        self.books.len() - 1
    }

    /// The receipt number for a cash payment of `amount` on `date`.
    pub fn take(&mut self, township: usize, date: NaiveDate, amount: Decimal) -> String {
        let year = chrono::Datelike::year(&date);
        let key = (township, year);
        match self.live_targets.get(&key).copied() {
            Some(GapKind::Duplicate) if self.last_given.contains_key(&key) => {
                self.live_targets.remove(&key);
                let (n, bi) = self.last_given[&key];
                self.record(bi, n, date, amount);
                let b = &self.books[bi];
                self.findings.push(BookFinding {
                    code: "RECEIPT_GAP",
                    month: Some(ym_of(date)),
                    amount: Some(amount),
                    note: format!("book {}: receipt {} used twice", b.no, receipt_text(n)),
                });
                return receipt_text(n);
            }
            Some(GapKind::Outside) => {
                self.live_targets.remove(&key);
                let next = self
                    .outside_next
                    .entry(year)
                    .or_insert(year.rem_euclid(100) as u32 * 1_000_000 + 900_001);
                let n = *next;
                *next += 1;
                self.findings.push(BookFinding {
                    code: "RECEIPT_GAP",
                    month: Some(ym_of(date)),
                    amount: Some(amount),
                    note: format!(
                        "receipt {} (township {}, {year}) is outside every issued book",
                        receipt_text(n),
                        township + 1
                    ),
                });
                return receipt_text(n);
            }
            _ => {}
        }
        let mut bi = match self.current.get(&key) {
            Some(&bi) => bi,
            None => self.open_book(township, year),
        };
        let n = loop {
            let b = &self.books[bi];
            let Some(i) = (0..BOOK_SIZE).find(|i| (b.used | b.voided) >> i & 1 == 0) else {
                bi = self.open_book(township, year);
                continue;
            };
            let n = b.first + i;
            // A spoiled form now and then: voided, and the next number is used.
            if n.is_multiple_of(37) {
                self.books[bi].voided |= 1 << i;
                continue;
            }
            break n;
        };
        self.record(bi, n, date, amount);
        self.last_given.insert(key, (n, bi));
        receipt_text(n)
    }

    fn record(&mut self, bi: usize, n: u32, date: NaiveDate, amount: Decimal) {
        let b = &mut self.books[bi];
        b.used |= 1 << (n - b.first);
        b.collected += amount;
        b.deposited += amount;
        b.min = Some(b.min.map_or(date, |m| m.min(date)));
        b.max = Some(b.max.map_or(date, |m| m.max(date)));
    }

    /// Issue and settlement dates, voiding of unused numbers at settlement, and the
    /// end-of-year gap cases.
    pub fn close(&mut self, rng: &mut ChaCha8Rng, t_end: NaiveDate) {
        for b in &mut self.books {
            let (Some(lo), Some(hi)) = (b.min, b.max) else {
                continue;
            };
            b.issue =
                Some((lo - days(rng.random_range(1..10))).max(super::calendar::date(b.year, 1, 1)));
            let settle =
                (hi + days(rng.random_range(5..25))).min(super::calendar::date(b.year, 12, 20));
            if settle <= t_end && super::calendar::date(b.year, 12, 20) <= t_end {
                b.settle = Some(settle);
                let unused = !(b.used | b.voided) & ((1u64 << BOOK_SIZE) - 1);
                b.voided |= unused;
            }
        }
        for (key, kind) in std::mem::take(&mut self.end_targets) {
            let Some(bi) = self
                .books
                .iter()
                .rposition(|b| (b.township, b.year) == key && b.settle.is_some())
            else {
                continue;
            };
            let b = &mut self.books[bi];
            let note = match kind {
                GapKind::Missing => {
                    let Some(i) = (0..BOOK_SIZE).rev().find(|i| b.voided >> i & 1 == 1) else {
                        continue;
                    };
                    b.voided &= !(1 << i);
                    format!(
                        "book {}: receipt {} neither used nor voided",
                        b.no,
                        receipt_text(b.first + i)
                    )
                }
                GapKind::Shortfall => {
                    let short = fen(b.collected / Decimal::from(10)).max(Decimal::ONE);
                    b.deposited -= short;
                    format!(
                        "book {}: collected {} but deposited {}",
                        b.no,
                        fen(b.collected),
                        fen(b.deposited)
                    )
                }
                _ => {
                    b.settle = None;
                    format!(
                        "book {}: issued {} and not settled by 25 December",
                        b.no, b.year
                    )
                }
            };
            let amount = (kind == GapKind::Shortfall).then(|| b.collected - b.deposited);
            self.findings.push(BookFinding {
                code: "RECEIPT_GAP",
                month: b.max.map(ym_of),
                amount,
                note,
            });
        }
    }
}

/// Money moved in one month, by category, from the detail records.
#[derive(Clone, Debug, Default)]
pub struct MonthFlows {
    pub contribution: Decimal,
    pub prepaid_in: Decimal,
    pub prepaid_carry: Decimal,
    pub collective: Decimal,
    /// Contribution subsidies (缴费补贴) by level: central, province, city, county.
    pub subsidy: [Decimal; 4],
    /// Basic-pension subsidies (基础养老金) by level.
    pub basic_subsidy: [Decimal; 4],
    pub transfer_in: Decimal,
    pub basic: Decimal,
    pub account: Decimal,
    pub refund: Decimal,
    pub transfer_out: Decimal,
}

/// One fund-ledger row.
#[derive(Clone, Debug)]
pub struct LedgerRow {
    pub account: Acct,
    pub date: NaiveDate,
    pub voucher: String,
    pub inflow: bool,
    pub amount: Decimal,
    pub category: &'static str,
    pub counterpart: Option<Acct>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acct {
    Income,
    Expenditure,
    Fiscal,
    Prepaid,
}

impl Acct {
    pub fn zh(self) -> &'static str {
        match self {
            Acct::Income => "收入户",
            Acct::Expenditure => "支出户",
            Acct::Fiscal => "财政专户",
            Acct::Prepaid => "预收户",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Acct::Income => "income",
            Acct::Expenditure => "expenditure",
            Acct::Fiscal => "fiscal",
            Acct::Prepaid => "prepaid",
        }
    }
}

/// Category codes with their Chinese names.
pub fn category_zh(code: &str) -> &'static str {
    match code {
        "contribution" => "个人缴费",
        "collective" => "集体补助",
        "subsidy_central" => "财政补贴-中央",
        "subsidy_province" => "财政补贴-省级",
        "subsidy_city" => "财政补贴-市级",
        "subsidy_county" => "财政补贴-县级",
        "interest" => "利息收入",
        "transfer_in" => "转移收入",
        "to_fiscal" => "划转财政专户",
        "from_fiscal" => "财政专户拨入",
        "basic_pension" => "基础养老金支出",
        "account_pension" => "个人账户养老金支出",
        "refund" => "退保/丧葬支出",
        "transfer_out" => "转移支出",
        _ => "预收结转",
    }
}

const SUBSIDY_CATS: [&str; 4] = [
    "subsidy_central",
    "subsidy_province",
    "subsidy_city",
    "subsidy_county",
];

#[derive(Default)]
pub struct Ledger {
    pub months: BTreeMap<Ym, MonthFlows>,
}

/// Injected ledger cases for one month.
#[derive(Clone, Copy, Debug, Default)]
struct MonthFaults {
    income_residue: Option<Decimal>,
    working_factor: Option<Decimal>,
    contribution_delta: Option<Decimal>,
    refund_delta: Option<Decimal>,
}

/// A finance-bureau notice (财政补贴拨付通知): one level's money for one purpose and
/// month, transferred into the fiscal special account, and how the centre booked it.
#[derive(Clone, Debug)]
pub struct Notice {
    /// 文号
    pub no: String,
    /// 拨付日期: the day the money reached the fiscal special account.
    pub date: NaiveDate,
    /// 0 central, 1 province, 2 city, 3 county.
    pub level: usize,
    /// 基础养老金 rather than 缴费补贴.
    pub basic: bool,
    pub amount: Decimal,
    /// The fiscal account's book lines (date, amount): one, or none when never
    /// booked, or two when booked twice (a planted case).
    pub booked: Vec<(NaiveDate, Decimal)>,
}

/// `n` working days (Monday–Friday) after `d`.
pub fn add_working_days(d: NaiveDate, n: u32) -> NaiveDate {
    use chrono::Datelike;
    let mut x = d;
    let mut left = n;
    while left > 0 {
        x += days(1);
        if x.weekday().num_days_from_monday() < 5 {
            left -= 1;
        }
    }
    x
}

impl Ledger {
    pub fn at(&mut self, d: NaiveDate) -> &mut MonthFlows {
        self.months.entry(ym_of(d)).or_default()
    }

    /// The whole ledger from the scheme start to month `t`, with `n_fund` FUND_RULE
    /// and `n_books` BOOKS_DISAGREE months injected; the fiscal subsidies booked in
    /// the fiscal account as `notices` say.
    pub fn rows(
        &self,
        rng: &mut ChaCha8Rng,
        first: Ym,
        t: Ym,
        n_fund: usize,
        n_books: usize,
        notices: &[Notice],
    ) -> (Vec<LedgerRow>, Vec<BookFinding>) {
        let faults = self.choose_faults(rng, first, t, n_fund, n_books);
        let mut bookings: BTreeMap<Ym, Vec<(NaiveDate, usize, Decimal)>> = BTreeMap::new();
        for n in notices {
            for &(d, amount) in &n.booked {
                bookings
                    .entry(ym_of(d))
                    .or_default()
                    .push((d, n.level, amount));
            }
        }
        let mut out = Vec::new();
        let mut findings = Vec::new();
        let mut bal = [Decimal::ZERO; 4]; // income, expenditure, fiscal, prepaid
        let empty = MonthFlows::default();
        for m in first..=t {
            let f = self.months.get(&m).unwrap_or(&empty);
            let fault = faults.get(&m).copied().unwrap_or_default();
            let mut rows = Vec::new();
            month_rows(f, m, fault, &mut bal, &mut rows, &mut findings);
            // Fiscal subsidies: one line per booking of a notice, on its day.
            for &(d, level, amount) in bookings.get(&m).into_iter().flatten() {
                rows.push(row(
                    Acct::Fiscal,
                    d,
                    true,
                    amount,
                    SUBSIDY_CATS[level],
                    None,
                ));
                bal[2] += amount;
            }
            rows.sort_by_key(|r| r.date);
            for (i, mut r) in rows.into_iter().enumerate() {
                r.voucher = format!("PZ{}{:02}{:04}", year_of(m), month_of(m), i + 1);
                out.push(r);
            }
        }
        (out, findings)
    }

    fn choose_faults(
        &self,
        rng: &mut ChaCha8Rng,
        first: Ym,
        t: Ym,
        n_fund: usize,
        n_books: usize,
    ) -> BTreeMap<Ym, MonthFaults> {
        // Months with ordinary activity, excluding the first year and the last months.
        let busy: Vec<Ym> = (first + 12..t - 2)
            .filter(|m| {
                self.months.get(m).is_some_and(|f| {
                    f.basic > Decimal::ZERO
                        && f.contribution > Decimal::from(2000)
                        && f.subsidy[1] > Decimal::from(100)
                })
            })
            .collect();
        let mut faults: BTreeMap<Ym, MonthFaults> = BTreeMap::new();
        if busy.len() < 3 {
            return faults;
        }
        let mut used = std::collections::BTreeSet::new();
        // Distinct months, kept apart where there is room, so one month's fault cannot
        // spill into another's check.
        let take = |rng: &mut ChaCha8Rng, used: &std::collections::BTreeSet<Ym>| {
            for attempt in 0..1000 {
                let m = busy[rng.random_range(0..busy.len())];
                let apart = used.iter().all(|&u: &Ym| (u - m).abs() > 2);
                if !used.contains(&m) && (apart || attempt > 100) {
                    return Some(m);
                }
            }
            None
        };
        for j in 0..n_fund {
            let Some(m) = take(rng, &used) else { break };
            used.insert(m);
            let e = faults.entry(m).or_default();
            match j % 3 {
                0 => e.income_residue = Some(Decimal::from(rng.random_range(5..40) * 100)),
                1 => e.working_factor = Some(Decimal::new(6, 1)),
                _ => e.working_factor = Some(Decimal::new(26, 1)),
            }
        }
        // Alternately a contribution month and a refund month (a month with a refund,
        // else another contribution month).
        let refund_months: Vec<Ym> = busy
            .iter()
            .copied()
            .filter(|m| self.months[m].refund > Decimal::ZERO)
            .collect();
        for j in 0..n_books {
            let refund = j % 2 == 1 && refund_months.iter().any(|m| !used.contains(m));
            let m = if refund {
                let free: Vec<Ym> = refund_months
                    .iter()
                    .copied()
                    .filter(|m| !used.contains(m))
                    .collect();
                let m = free[rng.random_range(0..free.len())];
                used.insert(m);
                m
            } else {
                let Some(m) = take(rng, &used) else { break };
                used.insert(m);
                m
            };
            let e = faults.entry(m).or_default();
            if refund {
                e.refund_delta = Some(Decimal::from(rng.random_range(1..5) * 15));
            } else {
                e.contribution_delta = Some(Decimal::from(rng.random_range(1..10) * 100));
            }
        }
        faults
    }

    /// The finance bureau's notices: one per level, purpose and month with money (the
    /// month's subsidies of that level and purpose), dated in the month and booked in
    /// the fiscal account 0–3 calendar days later (within the 5 working days of
    /// 第四十条, and within the bank matching's window), with the planted cases: a
    /// notice booked with a wrong amount and one never booked (FISCAL_DISAGREE), one
    /// booked 8 working days late within its month (FISCAL_LATE). `rng` is a stream of
    /// its own, so the other files do not change with it. `plant` false: no cases.
    pub fn notices(
        &self,
        rng: &mut ChaCha8Rng,
        first: Ym,
        t: Ym,
        plant: bool,
    ) -> (Vec<Notice>, Vec<BookFinding>) {
        use chrono::Datelike;
        let t_end = last_day(t);
        let mut notices = Vec::new();
        let mut seq: BTreeMap<i32, u32> = BTreeMap::new();
        for (&m, f) in self.months.range(first..=t) {
            for basic in [false, true] {
                let amounts = if basic { f.basic_subsidy } else { f.subsidy };
                for (level, &amount) in amounts.iter().enumerate() {
                    if amount <= Decimal::ZERO {
                        continue;
                    }
                    let date = day_in(m, rng.random_range(1..=days_in_month(m))).min(t_end);
                    let booked = (date + days(rng.random_range(0..=3))).min(t_end);
                    notices.push(Notice {
                        no: String::new(),
                        date,
                        level,
                        basic,
                        amount,
                        booked: vec![(booked, amount)],
                    });
                }
            }
        }
        // 文号: numbered through each year in date order.
        notices.sort_by_key(|n| n.date);
        for n in &mut notices {
            let k = seq.entry(n.date.year()).or_insert(0);
            *k += 1;
            n.no = format!("县财社〔{}〕{}号", n.date.year(), k);
        }
        let findings = if plant {
            plant_fiscal(rng, &mut notices, first + 12, t - 2)
        } else {
            Vec::new()
        };
        (notices, findings)
    }
}

fn row(
    account: Acct,
    date: NaiveDate,
    inflow: bool,
    amount: Decimal,
    category: &'static str,
    counterpart: Option<Acct>,
) -> LedgerRow {
    LedgerRow {
        account,
        date,
        voucher: String::new(),
        inflow,
        amount,
        category,
        counterpart,
    }
}

/// The ledger rows of month `m`, in date order, updating the four balances.
fn month_rows(
    f: &MonthFlows,
    m: Ym,
    fault: MonthFaults,
    bal: &mut [Decimal; 4],
    rows: &mut Vec<LedgerRow>,
    findings: &mut Vec<BookFinding>,
) {
    let (inc, exp, fis, pre) = (0, 1, 2, 3);
    let end = last_day(m);
    let payouts = f.basic + f.account;
    let quarter_end = month_of(m).is_multiple_of(3);
    // Expenditure: interest, then a transfer from the fiscal account on the 5th that
    // leaves 1.5 months of payouts after this month's payments.
    let interest = if quarter_end {
        fen(bal[exp] * Decimal::new(3, 3) / Decimal::from(4))
    } else {
        Decimal::ZERO
    };
    let refund = f.refund + fault.refund_delta.unwrap_or_default();
    let outflows = payouts + refund + f.transfer_out;
    let factor = fault.working_factor.unwrap_or(Decimal::new(15, 1));
    let target = fen(payouts * factor);
    let transfer = (target - (bal[exp] + interest - outflows)).max(Decimal::ZERO);
    if transfer > Decimal::ZERO {
        rows.push(row(
            Acct::Fiscal,
            day_in(m, 5),
            false,
            transfer,
            "from_fiscal",
            Some(Acct::Expenditure),
        ));
        rows.push(row(
            Acct::Expenditure,
            day_in(m, 5),
            true,
            transfer,
            "from_fiscal",
            Some(Acct::Fiscal),
        ));
        bal[fis] -= transfer;
        bal[exp] += transfer;
    }
    for (amount, cat) in [(f.basic, "basic_pension"), (f.account, "account_pension")] {
        if amount > Decimal::ZERO {
            rows.push(row(
                Acct::Expenditure,
                day_in(m, 15),
                false,
                amount,
                cat,
                None,
            ));
        }
    }
    if interest > Decimal::ZERO {
        rows.push(row(
            Acct::Expenditure,
            day_in(m, 21),
            true,
            interest,
            "interest",
            None,
        ));
    }
    if month_of(m) == 12 {
        let fi = fen(bal[fis].max(Decimal::ZERO) * Decimal::new(35, 4));
        if fi > Decimal::ZERO {
            rows.push(row(Acct::Fiscal, day_in(m, 21), true, fi, "interest", None));
            bal[fis] += fi;
        }
    }
    // A transfer out is one outflow (转移支出), never also a refund.
    for (amount, cat) in [(refund, "refund"), (f.transfer_out, "transfer_out")] {
        if amount > Decimal::ZERO {
            rows.push(row(Acct::Expenditure, end, false, amount, cat, None));
        }
    }
    bal[exp] += interest - outflows;
    if let Some(factor) = fault.working_factor {
        findings.push(BookFinding {
            code: "FUND_RULE",
            month: Some(m),
            amount: None,
            note: format!("expenditure account {}: closing balance {} is {factor} months of payouts {payouts}", month_text(m), bal[exp]),
        });
    }
    // Prepaid account: prepayments in, the year's share carried to the fiscal account
    // on 31 October.
    if f.prepaid_in > Decimal::ZERO {
        rows.push(row(
            Acct::Prepaid,
            end,
            true,
            f.prepaid_in,
            "contribution",
            None,
        ));
        bal[pre] += f.prepaid_in;
    }
    if f.prepaid_carry > Decimal::ZERO {
        let d = day_in(m, 31);
        rows.push(row(
            Acct::Prepaid,
            d,
            false,
            f.prepaid_carry,
            "prepaid_carry",
            Some(Acct::Fiscal),
        ));
        rows.push(row(
            Acct::Fiscal,
            d,
            true,
            f.prepaid_carry,
            "prepaid_carry",
            Some(Acct::Prepaid),
        ));
        bal[pre] -= f.prepaid_carry;
        bal[fis] += f.prepaid_carry;
    }
    // Income account: the month's collections, swept to the fiscal account at month
    // end. Fiscal subsidies arrive in the fiscal account instead (Ledger::rows).
    let contribution = f.contribution + fault.contribution_delta.unwrap_or_default();
    let income = [
        (contribution, "contribution"),
        (f.collective, "collective"),
        (f.transfer_in, "transfer_in"),
    ];
    for (amount, cat) in income {
        if amount > Decimal::ZERO {
            rows.push(row(Acct::Income, end, true, amount, cat, None));
            bal[inc] += amount;
        }
    }
    if let Some(d) = fault.contribution_delta {
        findings.push(BookFinding {
            code: "BOOKS_DISAGREE",
            month: Some(m),
            amount: Some(d),
            note: format!(
                "income {} contribution: ledger {} but detail {}",
                month_text(m),
                fen(contribution),
                fen(f.contribution)
            ),
        });
    }
    if let Some(d) = fault.refund_delta {
        findings.push(BookFinding {
            code: "BOOKS_DISAGREE",
            month: Some(m),
            amount: Some(d),
            note: format!(
                "expenditure {} refund: ledger {} but detail {}",
                month_text(m),
                fen(refund),
                fen(f.refund)
            ),
        });
    }
    let residue = fault.income_residue.unwrap_or_default().min(bal[inc]);
    let sweep = bal[inc] - residue;
    if sweep > Decimal::ZERO {
        rows.push(row(
            Acct::Income,
            end,
            false,
            sweep,
            "to_fiscal",
            Some(Acct::Fiscal),
        ));
        rows.push(row(
            Acct::Fiscal,
            end,
            true,
            sweep,
            "to_fiscal",
            Some(Acct::Income),
        ));
        bal[inc] -= sweep;
        bal[fis] += sweep;
    }
    if residue > Decimal::ZERO {
        findings.push(BookFinding {
            code: "FUND_RULE",
            month: Some(m),
            amount: Some(residue),
            note: format!(
                "income account {}: balance {} left at month end",
                month_text(m),
                fen(residue)
            ),
        });
    }
}

/// The planted finance-bureau cases, each on a notice of its own month.
#[derive(Clone, Copy)]
enum FiscalCase {
    /// Booked with this difference (FISCAL_DISAGREE, booked − notified).
    WrongAmount(i64),
    /// Never booked (FISCAL_DISAGREE, − the notice).
    NeverBooked,
    /// Booked twice, the second time this many days after the first
    /// (FISCAL_DISAGREE, + the notice).
    BookedTwice(i64),
    /// Booked this many working days after the notice (FISCAL_LATE, the notice).
    Late(u32),
}

/// Plants the finance-bureau cases on notices of months `lo..=hi` with more than 100
/// yuan, each in a month of its own, each booking kept in the notice's month (so that
/// month alone disagrees): a wrong booked amount, a notice never booked, a notice
/// booked twice (FISCAL_DISAGREE); bookings 8, 6 and 10 working days after the notice
/// (FISCAL_LATE).
fn plant_fiscal(rng: &mut ChaCha8Rng, notices: &mut [Notice], lo: Ym, hi: Ym) -> Vec<BookFinding> {
    use FiscalCase::*;
    let mut findings = Vec::new();
    let mut used_months = std::collections::BTreeSet::new();
    let hundred = Decimal::from(100);
    let delta = -(rng.random_range(1..10) * 10);
    let cases = [
        WrongAmount(delta),
        NeverBooked,
        BookedTwice(2),
        Late(8),
        Late(6),
        Late(10),
    ];
    for case in cases {
        let fits = |n: &Notice| {
            let m = ym_of(n.date);
            let booked_in_month = n.booked.iter().all(|&(d, _)| ym_of(d) == m);
            (lo..=hi).contains(&m)
                && n.amount > hundred
                && !used_months.contains(&m)
                && match case {
                    WrongAmount(_) => booked_in_month,
                    NeverBooked => true,
                    BookedTwice(after) => {
                        n.booked.iter().all(|&(d, _)| ym_of(d + days(after)) == m)
                    }
                    Late(wd) => ym_of(add_working_days(n.date, wd)) == m,
                }
        };
        let candidates: Vec<usize> = (0..notices.len()).filter(|&i| fits(&notices[i])).collect();
        if candidates.is_empty() {
            continue;
        }
        let n = &mut notices[candidates[rng.random_range(0..candidates.len())]];
        let m = ym_of(n.date);
        used_months.insert(m);
        let what = format!(
            "fiscal {} level {} notice {} of {} ({})",
            month_text(m),
            SUBSIDY_CATS[n.level],
            n.no,
            fen(n.amount),
            if n.basic {
                "basic_pension"
            } else {
                "contribution"
            }
        );
        let (code, amount, note) = match case {
            WrongAmount(delta) => {
                let delta = Decimal::from(delta);
                let d = n.booked[0].0;
                n.booked = vec![(d, n.amount + delta)];
                let note = format!("{what}: booked {}", fen(n.amount + delta));
                ("FISCAL_DISAGREE", delta, note)
            }
            NeverBooked => {
                n.booked.clear();
                (
                    "FISCAL_DISAGREE",
                    -n.amount,
                    format!("{what}: never booked"),
                )
            }
            BookedTwice(after) => {
                let (d, a) = n.booked[0];
                let again = d + days(after);
                n.booked.push((again, a));
                let note = format!(
                    "{what}: booked twice, {} and {}",
                    super::calendar::iso(d),
                    super::calendar::iso(again)
                );
                ("FISCAL_DISAGREE", n.amount, note)
            }
            Late(wd) => {
                let d = add_working_days(n.date, wd);
                n.booked = vec![(d, n.amount)];
                let note = format!(
                    "{what}: booked {} ({wd} working days after the notice)",
                    super::calendar::iso(d)
                );
                ("FISCAL_LATE", n.amount, note)
            }
        };
        findings.push(BookFinding {
            code,
            month: Some(m),
            amount: Some(amount),
            note,
        });
    }
    findings
}
