//! Every date, month, money and ID-number variant of docs/rules.md § Input acceptance.

use chrono::NaiveDate;
use pension::idnum;
use pension::ingest::value::{parse_bool, parse_date, parse_money, parse_month, parse_rate};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn dates_in_every_variant() {
    for s in [
        "2024-03-05",
        "2024/3/5",
        "20240305",
        "2024年3月5日",
        " 2024-03-05 ",
        "２０２４-０３-０５",
        "2024-03-05 00:00:00",
        "45356",
    ] {
        assert_eq!(parse_date(s), Ok(d(2024, 3, 5)), "{s}");
    }
    for s in [
        "2024-02-30",
        "2024-13-01",
        "05/03/2024",
        "2024.3.5",
        "abc",
        "2024-3",
        "202403051",
    ] {
        assert!(parse_date(s).is_err(), "{s} should be refused");
    }
}

#[test]
fn months_in_every_variant() {
    for s in [
        "2024-03",
        "202403",
        "2024年3月",
        "2024/03",
        "2024-3",
        "２０２４年３月",
    ] {
        assert_eq!(parse_month(s), Ok(d(2024, 3, 1)), "{s}");
    }
    for s in ["2024-13", "202413", "2024年13月", "24-03", ""] {
        assert!(parse_month(s).is_err(), "{s} should be refused");
    }
}

#[test]
fn money_is_exact_fen() {
    for (s, fen) in [
        ("1,234.50", 123450),
        ("1234.5", 123450),
        ("¥1234.50", 123450),
        ("￥1,234.50", 123450),
        ("1234", 123400),
        ("0.01", 1),
        ("１２３４.５", 123450),
        (" 88.00 ", 8800),
    ] {
        assert_eq!(parse_money(s, false), Ok(fen), "{s}");
    }
    // Never rounded silently, never negative, never text.
    for s in ["1234.567", "-5.00", "12a.00", "1.2.3", ".", "1.", "¥"] {
        assert!(parse_money(s, false).is_err(), "{s} should be refused");
    }
    assert_eq!(parse_money("-5.00", true), Ok(-500));
    // A comma is a thousands separator only between groups of three digits.
    for (s, fen) in [
        ("12,345", 1234500),
        ("1,234,567.89", 123456789),
        ("1，234.50", 123450),
        ("-1,234.00", -123400),
    ] {
        assert_eq!(parse_money(s, true), Ok(fen), "{s}");
    }
    for s in [
        "12,34",
        "1,2345.00",
        "1234,567",
        ",123",
        "1,234,5",
        "1,,234",
        "1,234.5,0",
        "12,34元",
    ] {
        let why = parse_money(s, false).expect_err(s);
        assert!(why.contains("comma"), "{s}: {why}");
    }
    assert!(parse_money("12,34", false)
        .unwrap_err()
        .ends_with("if it is a decimal comma, write 12.34"));
    // Nor is a space between digits squeezed out; padding and `¥ 12.00` are fine.
    for s in ["12 34", "1 234.50", "12　34"] {
        let why = parse_money(s, false).expect_err(s);
        assert!(why.contains("space between digits"), "{s}: {why}");
    }
    assert_eq!(parse_money(" ¥ 12.00 ", false), Ok(1200));
    assert_eq!(parse_rate("1.50"), Ok(15000));
    assert_eq!(parse_rate("2.5%"), Ok(25000));
    assert_eq!(parse_bool("是"), Ok(true));
    assert_eq!(parse_bool("否"), Ok(false));
}

#[test]
fn id_numbers_checked_and_upgraded() {
    // GB 11643 example: 11010519491231002X is valid.
    let ok = idnum::parse("11010519491231002X");
    assert_eq!(ok.problem, None);
    assert_eq!(ok.sex(), Some('F'));
    assert_eq!(ok.birth_date(), Some(d(1949, 12, 31)));
    // Lowercase x, full-width digits and spaces are the same number.
    assert_eq!(
        idnum::parse(" 11010519491231002x ").normalized,
        "11010519491231002X"
    );
    assert_eq!(
        idnum::parse("１１０１０５１９４９１２３１００２Ｘ").normalized,
        "11010519491231002X"
    );
    // 15 → 18: insert 19, compute the check character, keep the original.
    let legacy = idnum::parse("110105491231002");
    assert_eq!(legacy.normalized, "11010519491231002X");
    assert_eq!(legacy.legacy15.as_deref(), Some("110105491231002"));
    assert_eq!(legacy.problem, None);
    // Each kind of malformation is named.
    let made = idnum::make("411725", d(1956, 7, 1), 123);
    assert_eq!(idnum::parse(&made).problem, None);
    let wrong_check = format!(
        "{}{}",
        &made[..17],
        if made.ends_with('0') { '1' } else { '0' }
    );
    assert!(matches!(
        idnum::parse(&wrong_check).problem,
        Some(idnum::IdProblem::CheckChar { .. })
    ));
    assert!(matches!(
        idnum::parse("41172519560701123").problem,
        Some(idnum::IdProblem::Length(17))
    ));
    assert!(matches!(
        idnum::parse(&format!("99{}", &made[2..])).problem,
        Some(idnum::IdProblem::Region(_))
    ));
    let bad_date = idnum::make("411725", d(1956, 7, 1), 123).replace("19560701", "19560231");
    assert!(matches!(
        idnum::parse(&bad_date).problem,
        Some(idnum::IdProblem::BirthDate(_))
    ));
    // What Excel leaves of an 18-digit number in a numeric column is named as such:
    // scientific notation, or the digits past the 15th turned to zeros (when what is
    // left fails the checks; in a workbook the number cell itself tells).
    let excel = Some(idnum::IdProblem::StoredAsNumber);
    assert_eq!(idnum::parse("4.11725E+17").problem, excel);
    assert_eq!(idnum::parse("4.1172519550312e17").problem, excel);
    assert_eq!(idnum::parse("411725194805060000").problem, excel);
    assert_eq!(
        idnum::parse("411725195503120000").problem,
        None,
        "passes the checks as text"
    );
    assert_eq!(idnum::parse_cell("411725195503120000", true).problem, excel);
    // A 15-digit number fits in a number cell whole.
    assert_eq!(idnum::parse_cell("110105491231002", true).problem, None);
    // Other malformations keep their own reason.
    assert!(matches!(
        idnum::parse("4117251948050600").problem,
        Some(idnum::IdProblem::Length(16))
    ));
    assert!(matches!(
        idnum::parse("4.11725").problem,
        Some(idnum::IdProblem::Length(7))
    ));
}
