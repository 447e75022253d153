//! The statements of a generated county: each file consistent with itself, the files
//! of one account joining but at the planted gaps, every month end reconciling with
//! the books up to the planted breaks (computed here from the lines and their groups,
//! not by the matching engine), and the answer key naming every case.

use super::super::books::{Acct, LedgerRow};
use super::super::calendar::{days, first_day, last_day, ym_of, Ym};
use super::super::{generate, SynthConfig};
use super::print::{stem, PAGE_LINES};
use super::{signed, slot, Bank, ACCTS, WINDOW_DAYS};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A county of 400 persons, its ledger read back and its bank rebuilt from it.
struct County {
    dir: Scratch,
    rows: Vec<LedgerRow>,
    bank: Bank,
    truth: Vec<BTreeMap<String, String>>,
}

fn county(name: &str, seed: u64) -> County {
    let dir = std::env::temp_dir().join(format!("synth-bank-{name}-{seed}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = SynthConfig {
        persons: 400,
        seed,
        ..SynthConfig::default()
    };
    generate(&cfg, &dir).expect("generate");
    let rows = read_ledger(&dir.join("fund/fund_ledger.csv"));
    let bank = Bank::build(&rows, seed, super::super::calendar::ym(2026, 10), "确山县");
    let truth = read_csv(&dir.join("_truth/ground_truth.csv"));
    County {
        dir: Scratch(dir),
        rows,
        bank,
        truth,
    }
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn money(s: &str) -> Decimal {
    Decimal::from_str(&s.replace([',', '¥'], "")).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"))
}

const CATEGORIES: &[&str] = &[
    "contribution",
    "collective",
    "subsidy_central",
    "subsidy_province",
    "subsidy_city",
    "subsidy_county",
    "interest",
    "transfer_in",
    "to_fiscal",
    "from_fiscal",
    "basic_pension",
    "account_pension",
    "refund",
    "transfer_out",
    "prepaid_carry",
];

fn acct(s: &str) -> Acct {
    ACCTS
        .into_iter()
        .find(|a| a.en() == s)
        .unwrap_or_else(|| panic!("account {s}"))
}

/// fund_ledger.csv as the generator wrote it (English header, codes).
fn read_ledger(path: &Path) -> Vec<LedgerRow> {
    read_csv(path)
        .into_iter()
        .map(|r| LedgerRow {
            account: acct(&r["account"]),
            date: day(&r["txn_date"]),
            voucher: r["voucher_no"].clone(),
            inflow: r["direction"] == "in",
            amount: money(&r["amount"]),
            category: CATEGORIES
                .iter()
                .find(|c| **c == r["category"])
                .copied()
                .unwrap_or("other"),
            counterpart: (!r["counterpart"].is_empty()).then(|| acct(&r["counterpart"])),
        })
        .collect()
}

/// One printed statement line as read back: date, ref, income, expense, balance.
#[derive(Debug)]
struct Printed {
    date: NaiveDate,
    bank_ref: String,
    income: Decimal,
    expense: Decimal,
    balance: Decimal,
}

/// Reads a statement (CSV in its encoding, or XLSX) into cells.
fn cells(path: &Path) -> Vec<Vec<String>> {
    if path.extension().is_some_and(|e| e == "xlsx") {
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut wb: Xlsx<_> = open_workbook(path).expect("xlsx");
        let range = wb.worksheet_range("对账单").expect("sheet");
        return range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Float(f) => format!("{f:.2}"),
                        Data::Empty => String::new(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
    }
    let raw = std::fs::read(path).expect("read");
    let text = match std::str::from_utf8(&raw) {
        Ok(s) => s.trim_start_matches('\u{feff}').to_string(),
        Err(_) => {
            let (s, _, bad) = encoding_rs::GB18030.decode(&raw);
            assert!(!bad, "{}", path.display());
            s.into_owned()
        }
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    r.records()
        .map(|x| x.expect("csv").iter().map(str::to_string).collect())
        .collect()
}

/// The title's account number, the lines, and checks of the file against itself:
/// running balance, page totals, total.
fn read_statement(path: &Path) -> (String, Vec<Printed>) {
    let (no, lines, _) = read_pages(path);
    (no, lines)
}

/// `read_statement`, with the number of 本页合计 lines.
fn read_pages(path: &Path) -> (String, Vec<Printed>, usize) {
    let rows = cells(path);
    // Title cells, without the empty cells a sheet pads its rows with.
    let title: Vec<String> = rows[..4]
        .iter()
        .map(|r| {
            let cells: Vec<&str> = r
                .iter()
                .map(String::as_str)
                .filter(|c| !c.is_empty())
                .collect();
            cells.join("|")
        })
        .collect();
    let no = title
        .iter()
        .find_map(|t| t.strip_prefix("账号：").or_else(|| t.strip_prefix("账号|")))
        .unwrap_or_else(|| panic!("{}: no 账号 in {title:?}", path.display()))
        .to_string();
    assert!(
        title[3].contains("起止日期"),
        "{}: {title:?}",
        path.display()
    );
    let head = &rows[4];
    let col = |names: &[&str]| {
        head.iter()
            .position(|h| names.contains(&h.as_str()))
            .unwrap_or_else(|| panic!("{}: {names:?} in {head:?}", path.display()))
    };
    let (ci, ce) = (
        col(&["收入金额", "贷方发生额", "贷方金额", "收入"]),
        col(&["支出金额", "借方发生额", "借方金额", "支出"]),
    );
    let (cd, cr, cb) = (col(&["交易日期"]), col(&["交易流水号"]), col(&["余额"]));
    let amount = |s: &str| {
        if s.is_empty() {
            Decimal::ZERO
        } else {
            money(s)
        }
    };
    let mut lines: Vec<Printed> = Vec::new();
    let (mut page, mut pages) = ((Decimal::ZERO, Decimal::ZERO), 0);
    let mut total_seen = false;
    for (n, r) in rows[5..].iter().enumerate() {
        let at = format!("{} line {}", path.display(), n + 6);
        if r[0] == "本页合计" || r[0] == "合计" {
            let said = (amount(&r[ci]), amount(&r[ce]));
            if r[0] == "本页合计" {
                assert_eq!(said, page, "{at}: page total");
                page = (Decimal::ZERO, Decimal::ZERO);
                pages += 1;
            } else {
                let sum = lines.iter().fold((Decimal::ZERO, Decimal::ZERO), |s, l| {
                    (s.0 + l.income, s.1 + l.expense)
                });
                assert_eq!(said, sum, "{at}: total");
                total_seen = true;
            }
            continue;
        }
        assert!(!total_seen, "{at}: a line after the total");
        let l = Printed {
            date: day(&r[cd]),
            bank_ref: r[cr].clone(),
            income: amount(&r[ci]),
            expense: amount(&r[ce]),
            balance: money(&r[cb]),
        };
        assert!(
            (l.income > Decimal::ZERO) != (l.expense > Decimal::ZERO),
            "{at}: one of income and expense"
        );
        if let Some(prev) = lines.last() {
            assert_eq!(
                l.balance,
                prev.balance + l.income - l.expense,
                "{at}: running balance"
            );
        }
        page = (page.0 + l.income, page.1 + l.expense);
        lines.push(l);
    }
    assert!(total_seen, "{}: no 合计", path.display());
    assert!(
        pages == 0 || pages == lines.len().div_ceil(PAGE_LINES),
        "{}: {pages} page totals for {} lines",
        path.display(),
        lines.len()
    );
    (no, lines, pages)
}

fn truth_of<'a>(c: &'a County, code: &str) -> Vec<&'a BTreeMap<String, String>> {
    c.truth.iter().filter(|t| t["check_code"] == code).collect()
}

fn month_key(m: Ym) -> String {
    super::super::calendar::month_text(m)
}

#[test]
fn statements_are_consistent_and_join_but_at_the_planted_gaps() {
    let c = county("join", 11);
    let accounts = read_csv(&c.dir.0.join("reference/bank_account.csv"));
    assert_eq!(accounts.len(), 4);
    let files = read_csv(&c.dir.0.join("_truth/files.csv"));
    let mut shapes = BTreeMap::new();
    let mut jumps = Vec::new();
    for a in ACCTS {
        let no = &accounts
            .iter()
            .find(|r| r["账户"] == a.zh())
            .expect("listed")["账号"];
        assert_eq!(no.len(), 19, "{no}");
        let mut prev: Option<Decimal> = None;
        let mut printed_lines = 0;
        for m in c.bank.start..=c.bank.end {
            let stem = stem(a, m);
            let Some(f) = files
                .iter()
                .find(|f| f["path"].starts_with(&stem) && f["kind"] == "bank_statement")
            else {
                continue;
            };
            *shapes.entry(f["encoding"].clone()).or_insert(0) += 1;
            let (title_no, lines) = read_statement(&c.dir.0.join(&f["path"]));
            assert_eq!(&title_no, no, "{stem}");
            assert_eq!(lines.len().to_string(), f["rows"], "{stem}");
            printed_lines += lines.len();
            let first = &lines[0];
            let opening = prev.unwrap_or(c.bank.opening[slot(a)]);
            let jump = first.balance - (opening + first.income - first.expense);
            if jump != Decimal::ZERO {
                jumps.push((a, month_key(m), jump, first.bank_ref.clone()));
            }
            prev = Some(lines.last().expect("a line").balance);
        }
        assert_eq!(
            printed_lines,
            c.bank.lines_of(a).filter(|l| l.printed).count(),
            "{a:?}"
        );
    }
    assert!(shapes.len() >= 3, "encodings/containers {shapes:?}");
    // Every jump is a planted BANK_STATEMENT case with its amount, and nothing else.
    let key = truth_of(&c, "BANK_STATEMENT");
    assert_eq!(jumps.len(), key.len(), "{jumps:?} vs {key:?}");
    for (a, m, jump, r) in &jumps {
        assert!(
            key.iter().any(|t| &t["month_from"] == m
                && money(&t["amount"]) == *jump
                && t["note"].contains(r.as_str())),
            "{a:?} {m} {jump} {r} not in the key {key:?}"
        );
    }
    assert_eq!(key.len(), 3, "two omitted lines and one opening jump");
}

#[test]
fn every_month_end_reconciles_but_for_the_planted_breaks() {
    reconciles(&county("reconcile", 11));
}

/// Other seeds: every case planted, the pairing unambiguous, every month end
/// reconciling but for the planted breaks.
#[test]
fn other_seeds_plant_every_case_and_reconcile() {
    for seed in [1, 2, 3, 5] {
        let c = county("seeds", seed);
        for (code, n) in [
            ("BANK_UNMATCHED", 4),
            ("BANK_STATEMENT", 3),
            ("BANK_BALANCE", 3),
        ] {
            assert_eq!(truth_of(&c, code).len(), n, "seed {seed} {code}");
        }
        for a in ACCTS {
            let amb = c
                .bank
                .ambiguities(&c.rows, a, first_day(c.bank.start), last_day(c.bank.end));
            assert!(amb.is_empty(), "seed {seed} {a:?}: {amb:?}");
        }
        reconciles(&c);
    }
}

fn reconciles(c: &County) {
    let (b, rows) = (&c.bank, &c.rows);
    let start = first_day(b.start);
    // A group is matched when it has both sides, all printed; then on its latest date.
    let matched_on = |g: usize| -> Option<NaiveDate> {
        let grp = &b.groups[g];
        let complete = !grp.books.is_empty()
            && !grp.banks.is_empty()
            && grp.banks.iter().all(|&k| b.lines[k].printed);
        complete.then(|| {
            let books = grp.books.iter().map(|&i| rows[i].date);
            let banks = grp.banks.iter().map(|&k| b.lines[k].date);
            books.chain(banks).max().expect("dates")
        })
    };
    let mut timing_items = 0;
    for a in ACCTS {
        for m in b.start..=b.end {
            let e = last_day(m);
            let bank_balance = b
                .lines_of(a)
                .filter(|l| l.printed && l.date <= e)
                .last()
                .map_or(b.opening[slot(a)], |l| l.balance);
            let book_balance: Decimal = rows
                .iter()
                .filter(|r| r.account == a && r.date <= e)
                .map(|r| signed(r.inflow, r.amount))
                .sum();
            let open = |on: Option<NaiveDate>| on.is_none_or(|d| d > e);
            // bank side + book items outstanding − (book side + bank items outstanding)
            let book_items: Decimal = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.account == a && r.date >= start && r.date <= e)
                .filter(|(i, _)| open(b.book_group.get(i).and_then(|&g| matched_on(g))))
                .map(|(_, r)| signed(r.inflow, r.amount))
                .sum();
            let bank_items: Decimal = b
                .lines_of(a)
                .filter(|l| l.printed && l.date <= e)
                .filter(|l| open(l.group.and_then(matched_on)))
                .map(|l| signed(l.inflow, l.amount))
                .sum();
            if book_items != Decimal::ZERO || bank_items != Decimal::ZERO {
                timing_items += 1;
            }
            let difference = (bank_balance + book_items) - (book_balance + bank_items);
            let planted: Decimal = b
                .breaks
                .iter()
                .filter(|x| x.acct == a && x.month <= m)
                .map(|x| x.amount)
                .sum();
            assert_eq!(difference, planted, "{a:?} {}", month_key(m));
        }
    }
    assert!(
        timing_items > 20,
        "month ends with outstanding items: {timing_items}"
    );
    // Each break is a BANK_BALANCE case of the key with its month and amount.
    let key = truth_of(&c, "BANK_BALANCE");
    assert_eq!(key.len(), b.breaks.len());
    for x in &b.breaks {
        assert!(
            key.iter().any(|t| t["month_from"] == month_key(x.month)
                && money(&t["amount"]) == x.amount
                && t["note"].contains(x.acct.en())),
            "{x:?} in {key:?}"
        );
    }
}

#[test]
fn the_pairing_is_unambiguous_and_every_unmatched_line_is_in_the_key() {
    let c = county("pairing", 11);
    let (b, rows) = (&c.bank, &c.rows);
    for a in ACCTS {
        let amb = b.ambiguities(rows, a, first_day(b.start), last_day(b.end));
        assert!(amb.is_empty(), "{a:?}: {amb:?}");
    }
    // The realistic differences are there: batches, one debit for two pension rows,
    // sweeps and interest on other days than booked.
    let split = b.groups.iter().filter(|g| g.banks.len() > 1).count();
    let joined = b.groups.iter().filter(|g| g.books.len() > 1).count();
    assert!(
        split > 10 && joined > 10,
        "batches {split}, joined {joined}"
    );
    let shifted = |cat: &str| {
        b.groups
            .iter()
            .filter(|g| g.books.len() == 1 && g.banks.len() == 1)
            .filter(|g| rows[g.books[0]].category == cat)
            .filter(|g| b.lines[g.banks[0]].date != rows[g.books[0]].date)
            .count()
    };
    assert!(shifted("to_fiscal") > 20 && shifted("interest") > 3);
    // BANK_UNMATCHED as the check defines it: unmatched after the window and a month.
    let as_of = last_day(b.end);
    let due = |d: NaiveDate| {
        (d + days(WINDOW_DAYS))
            .checked_add_months(chrono::Months::new(1))
            .is_some_and(|x| x <= as_of)
    };
    let complete = |g: usize| {
        let grp = &b.groups[g];
        !grp.books.is_empty()
            && !grp.banks.is_empty()
            && grp.banks.iter().all(|&k| b.lines[k].printed)
    };
    let mut expect: Vec<(String, Decimal, String)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let open = !b.book_group.get(&i).is_some_and(|&g| complete(g));
        if r.date >= first_day(b.start) && open && due(r.date) {
            expect.push((month_key(ym_of(r.date)), r.amount, r.voucher.clone()));
        }
    }
    for l in b.lines.iter().filter(|l| l.printed) {
        if !l.group.is_some_and(complete) && due(l.date) {
            expect.push((month_key(ym_of(l.date)), l.amount, l.bank_ref.clone()));
        }
    }
    let key = truth_of(&c, "BANK_UNMATCHED");
    assert_eq!(expect.len(), key.len(), "{expect:?} vs {key:?}");
    for (m, amount, r) in &expect {
        assert!(
            key.iter().any(|t| &t["month_from"] == m
                && money(&t["amount"]) == *amount
                && t["note"].contains(r.as_str())),
            "{m} {amount} {r} in {key:?}"
        );
    }
    // A fee, a refund never paid, and the two omitted lines' book rows.
    assert_eq!(key.len(), 4, "{key:?}");
    assert!(key.iter().any(|t| t["note"].contains("手续费")));
}

/// A month of more than 50 lines prints a 本页合计 after every 50 (when the file has
/// page totals) and the total of all at the end; read_pages checks each total.
#[test]
fn long_statements_print_page_totals() {
    let mut rows = Vec::new();
    let mut push = |date: NaiveDate, inflow: bool, amount: i64, category: &'static str| {
        rows.push(LedgerRow {
            account: Acct::Expenditure,
            date,
            voucher: format!("PZ{}", rows.len() + 1),
            inflow,
            amount: Decimal::new(amount, 2),
            category,
            counterpart: None,
        })
    };
    let end = super::super::calendar::ym(2026, 6);
    for m in end - 5..=end {
        push(first_day(m), true, 90_000_000, "from_fiscal");
        for j in 0..(40 + 12 * (end - m) as i64) {
            let date = first_day(m) + days(1 + j % 27);
            push(
                date,
                false,
                10_001 + 137 * j + 7_919 * (end - m) as i64,
                "refund",
            );
        }
    }
    let bank = Bank::build(&rows, 5, end, "确山县");
    let dir =
        Scratch(std::env::temp_dir().join(format!("synth-bank-pages-{}", std::process::id())));
    let files = bank.write(&dir.0).expect("write");
    let mut paged = 0;
    for f in files.iter().filter(|f| f.kind == "bank_statement") {
        let (_, lines, pages) = read_pages(&dir.0.join(&f.path));
        assert_eq!(lines.len() as u64, f.rows);
        if lines.len() > PAGE_LINES && pages > 1 {
            paged += 1;
        }
    }
    assert!(paged >= 2, "statements printed on several pages: {paged}");
}
