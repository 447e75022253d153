//! The printed statements (银行对账单/<户>_<YYYY-MM>.csv|xlsx) and the bank_account
//! reference file, in the shapes /work/design-30.md § "The printed bank statement"
//! describes: a title block (bank, 户名, 账号, 起止日期), the header row, the lines, a
//! 本页合计 after every 50 lines and a 合计 at the end. Each file's shape (encoding,
//! container, title cells, page totals, column names) is drawn from the layout stream.

use super::super::books::Acct;
use super::super::calendar::{
    first_day, last_day, month_of, put_date, put_money, year_of, ym_of, DateStyle, MoneyStyle, Ym,
};
use super::super::writer::{fixed_workbook, io_err, xlsx_err, Enc, Style, Table};
use super::super::{SynthError, WrittenFile};
use super::{slot, Bank, BankAccount, BankLine, ACCTS};
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

/// Lines per printed page (a 本页合计 after each).
pub const PAGE_LINES: usize = 50;

/// The folder of the statements.
pub const DIR: &str = "银行对账单";

/// How one statement file is printed.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// None: XLSX.
    pub enc: Option<Enc>,
    /// Title cells as label | value instead of 「label：value」.
    pub split_title: bool,
    pub page_totals: bool,
    /// An 账号 column repeating the title's account number.
    pub account_column: bool,
    /// 0: 2026-09-01 至 2026-09-30, 1: 20260901-20260930, 2: 2026/9/1—2026/9/30.
    pub period: u8,
    pub money: MoneyStyle,
}

fn draw_shape(rng: &mut ChaCha8Rng) -> Shape {
    let enc = match rng.random_range(0..20) {
        0 | 1 => None,
        2..=4 => Some(Enc::Gb18030),
        5 => Some(Enc::Utf8Bom),
        _ => Some(Enc::Utf8),
    };
    Shape {
        enc,
        split_title: rng.random_range(0..4) == 0,
        page_totals: rng.random_range(0..5) != 0,
        account_column: rng.random_range(0..7) == 0,
        period: rng.random_range(0..3),
        money: if rng.random_range(0..4) == 0 {
            MoneyStyle::Comma
        } else {
            MoneyStyle::Plain
        },
    }
}

/// The column header each bank prints (all names of schemas/bank_statement.toml).
fn header(a: Acct, account_column: bool) -> Vec<&'static str> {
    let mut h = vec!["交易日期", "交易流水号", "摘要", "对方户名", "对方账号"];
    h.extend(match a {
        Acct::Income => ["收入金额", "支出金额"],
        Acct::Expenditure => ["借方发生额", "贷方发生额"],
        Acct::Fiscal => ["贷方金额", "借方金额"],
        Acct::Prepaid => ["收入", "支出"],
    });
    h.push("余额");
    if account_column {
        h.insert(0, "账号");
    }
    h
}

/// Whether the bank prints the expense (借方) column before the income column.
fn expense_first(a: Acct) -> bool {
    matches!(a, Acct::Expenditure)
}

/// A printed cell: text, or money (a number in XLSX).
#[derive(Clone, Debug)]
enum C {
    T(String),
    M(Decimal),
    Empty,
}

fn period_text(from: NaiveDate, to: NaiveDate, style: u8) -> String {
    let mut s = String::new();
    match style {
        0 => {
            put_date(&mut s, from, DateStyle::Iso);
            s.push_str(" 至 ");
            put_date(&mut s, to, DateStyle::Iso);
        }
        1 => {
            put_date(&mut s, from, DateStyle::Compact);
            s.push('-');
            put_date(&mut s, to, DateStyle::Compact);
        }
        _ => {
            put_date(&mut s, from, DateStyle::Slash);
            s.push('—');
            put_date(&mut s, to, DateStyle::Slash);
        }
    }
    s
}

/// The rows of one statement: title block, header, lines, page totals, total.
fn statement_rows(
    b: &Bank,
    acct: &BankAccount,
    m: Ym,
    lines: &[&BankLine],
    sh: Shape,
) -> Vec<Vec<C>> {
    let t = |s: &str| C::T(s.to_string());
    let title = |label: &str, value: &str| -> Vec<C> {
        if sh.split_title {
            vec![t(label), t(value)]
        } else {
            vec![C::T(format!("{label}：{value}"))]
        }
    };
    let mut rows = vec![vec![C::T(format!("{}账户对账单", acct.title))]];
    rows.push(title("户名", &acct.holder));
    rows.push(title("账号", &acct.no));
    let period = period_text(first_day(m), last_day(m), sh.period);
    let mut cur = title("币种", "人民币");
    cur.extend(title("起止日期", &period));
    rows.push(cur);
    let head = header(acct.acct, sh.account_column);
    rows.push(head.iter().map(|h| t(h)).collect());
    let width = head.len();
    let (mut page_in, mut page_out, mut all_in, mut all_out) = [Decimal::ZERO; 4].into();
    for (i, l) in lines.iter().enumerate() {
        let mut row = Vec::with_capacity(width);
        if sh.account_column {
            row.push(t(&acct.no));
        }
        let mut d = String::new();
        put_date(&mut d, l.date, DateStyle::Iso);
        row.push(C::T(d));
        row.push(t(&l.bank_ref));
        row.push(t(l.summary));
        match l.counterpart {
            Some(c) => {
                let other = b.account(c);
                row.push(t(&other.holder));
                row.push(t(&other.no));
            }
            None => {
                row.push(C::Empty);
                row.push(C::Empty);
            }
        }
        let (inc, exp) = if l.inflow {
            (C::M(l.amount), C::Empty)
        } else {
            (C::Empty, C::M(l.amount))
        };
        if l.inflow {
            page_in += l.amount;
            all_in += l.amount;
        } else {
            page_out += l.amount;
            all_out += l.amount;
        }
        if expense_first(acct.acct) {
            row.extend([exp, inc]);
        } else {
            row.extend([inc, exp]);
        }
        row.push(C::M(l.balance));
        rows.push(row);
        let page_end = (i + 1) % PAGE_LINES == 0 || i + 1 == lines.len();
        if sh.page_totals && page_end {
            rows.push(total_row(
                "本页合计",
                width,
                acct.acct,
                sh.account_column,
                page_in,
                page_out,
            ));
            page_in = Decimal::ZERO;
            page_out = Decimal::ZERO;
        }
    }
    rows.push(total_row(
        "合计",
        width,
        acct.acct,
        sh.account_column,
        all_in,
        all_out,
    ));
    rows
}

fn total_row(
    label: &str,
    width: usize,
    a: Acct,
    account_column: bool,
    inc: Decimal,
    exp: Decimal,
) -> Vec<C> {
    let mut row = vec![C::Empty; width];
    row[0] = C::T(label.to_string());
    let base = 5 + usize::from(account_column);
    let (i, e) = if expense_first(a) {
        (base + 1, base)
    } else {
        (base, base + 1)
    };
    row[i] = C::M(inc);
    row[e] = C::M(exp);
    row
}

fn csv_line(row: &[C], money: MoneyStyle) -> String {
    let mut line = String::new();
    for (k, c) in row.iter().enumerate() {
        if k > 0 {
            line.push(',');
        }
        let field = match c {
            C::T(s) => s.clone(),
            C::M(x) => {
                let mut s = String::new();
                put_money(&mut s, *x, money);
                s
            }
            C::Empty => String::new(),
        };
        if field.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(&field);
        }
    }
    line
}

fn write_csv(
    out: &Path,
    rel: &str,
    rows: &[Vec<C>],
    enc: Enc,
    money: MoneyStyle,
) -> Result<(), SynthError> {
    let abs = out.join(rel);
    if let Some(dir) = abs.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let mut text = String::new();
    if enc == Enc::Utf8Bom {
        text.push('\u{feff}');
    }
    for r in rows {
        text.push_str(&csv_line(r, money));
        text.push_str(if enc == Enc::Gb18030 { "\r\n" } else { "\n" });
    }
    let bytes = if enc == Enc::Gb18030 {
        encoding_rs::GB18030.encode(&text).0.into_owned()
    } else {
        text.into_bytes()
    };
    std::fs::write(&abs, bytes).map_err(io_err(&abs))
}

fn write_xlsx(out: &Path, rel: &str, rows: &[Vec<C>]) -> Result<(), SynthError> {
    use rust_xlsxwriter::Format;
    let abs = out.join(rel);
    let xerr = xlsx_err(&abs);
    let mut wb = fixed_workbook(&abs)?;
    let money_fmt = Format::new().set_num_format("#,##0.00");
    let ws = wb.add_worksheet();
    ws.set_name("对账单").map_err(xerr)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                C::T(s) => ws.write_string(r, c, s).map(|_| ()),
                // Excel keeps numbers as doubles; the reader rounds back to the fen.
                C::M(x) => ws
                    .write_number_with_format(r, c, x.to_f64().unwrap_or(0.0), &money_fmt)
                    .map(|_| ()),
                C::Empty => Ok(()),
            }
            .map_err(xerr)?;
        }
    }
    wb.save(&abs).map_err(xerr)
}

/// The file of one account's statement of month `m`, without the extension.
pub fn stem(a: Acct, m: Ym) -> String {
    format!("{DIR}/{}_{:04}-{:02}", a.zh(), year_of(m), month_of(m))
}

impl Bank {
    /// Writes every statement (one per account and month with lines) and the
    /// bank_account reference file.
    pub fn write(&self, out: &Path) -> Result<Vec<WrittenFile>, SynthError> {
        let mut rng = ChaCha8Rng::seed_from_u64(super::super::sub_seed(self.seed, 41));
        let mut files = Vec::new();
        for acct in &self.accounts {
            let lines: Vec<&BankLine> = self.lines_of(acct.acct).filter(|l| l.printed).collect();
            for m in self.start..=self.end {
                let month: Vec<&BankLine> = lines
                    .iter()
                    .copied()
                    .filter(|l| ym_of(l.date) == m)
                    .collect();
                let sh = draw_shape(&mut rng);
                if month.is_empty() {
                    continue;
                }
                let rows = statement_rows(self, acct, m, &month, sh);
                let (rel, encoding) = match sh.enc {
                    None => {
                        let rel = format!("{}.xlsx", stem(acct.acct, m));
                        write_xlsx(out, &rel, &rows)?;
                        (rel, "xlsx")
                    }
                    Some(enc) => {
                        let rel = format!("{}.csv", stem(acct.acct, m));
                        write_csv(out, &rel, &rows, enc, sh.money)?;
                        (rel, enc.label())
                    }
                };
                files.push(WrittenFile {
                    path: PathBuf::from(rel),
                    kind: "bank_statement".to_string(),
                    rows: month.len() as u64,
                    encoding: encoding.to_string(),
                    header_lang: "zh".to_string(),
                });
            }
        }
        files.push(self.write_accounts(out)?);
        Ok(files)
    }

    fn write_accounts(&self, out: &Path) -> Result<WrittenFile, SynthError> {
        let cols = [
            ("account_no", "账号"),
            ("account", "账户"),
            ("bank", "开户银行"),
        ];
        let st = Style::zh(
            Enc::Utf8,
            DateStyle::Iso,
            super::super::calendar::MonthStyle::Dash,
            MoneyStyle::Plain,
        );
        let mut t = Table::create(out, "reference/bank_account.csv", "bank_account", &cols, st)?;
        for &a in &ACCTS {
            let acct = &self.accounts[slot(a)];
            t.s(&acct.no).e(a.zh(), a.en()).s(&acct.bank).end()?;
        }
        t.finish()
    }
}
