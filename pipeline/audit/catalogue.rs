//! The check catalogue (docs/rules.md § Audit checks): code, Chinese title,
//! severity, whether it is about a person or the books, whether it holds a payment in
//! pre-payment screening, and its SQL (DUP_PERSON is Rust).

#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub code: &'static str,
    pub title_zh: &'static str,
    /// high | medium | low
    pub severity: &'static str,
    /// Book-level checks put the book, account or category in `evidence`.
    pub book_level: bool,
    /// A standing finding of this check on a person holds that person's payments in
    /// `pipeline screen` (payment checks hold the flagged row itself).
    pub holds_person: bool,
    /// Its SQL's definition file (`checks/<CODE>.sql`, read through `crate::defs`, so
    /// a definitions folder can replace it); DUP_PERSON has none.
    pub sql_file: Option<&'static str>,
}

macro_rules! check {
    ($code:literal, $zh:literal, $sev:literal, $book:literal, $hold:literal) => {
        Check {
            code: $code,
            title_zh: $zh,
            severity: $sev,
            book_level: $book,
            holds_person: $hold,
            sql_file: Some(concat!("checks/", $code, ".sql")),
        }
    };
}

pub const CHECKS: &[Check] = &[
    check!("ID_INVALID", "身份证号码格式错误", "medium", false, true),
    check!(
        "ID_UNKNOWN",
        "身份证号码不在公安人口库",
        "high",
        false,
        true
    ),
    check!(
        "ID_MISMATCH",
        "身份信息与公安登记不一致",
        "medium",
        false,
        true
    ),
    check!("DECEASED_ACTIVE", "已死亡未注销", "high", false, true),
    check!(
        "PAID_AFTER_DEATH",
        "死亡后继续发放(冒领)",
        "high",
        false,
        false
    ),
    check!("DUP_ID", "同一身份证重复参保", "high", false, true),
    Check {
        code: "DUP_PERSON",
        title_zh: "疑似一人多证重复参保",
        severity: "high",
        book_level: false,
        holds_person: true,
        sql_file: None,
    },
    check!("SHARED_ACCOUNT", "多人共用银行账户", "medium", false, true),
    check!("DUAL_PENSION", "重复领取职工养老保险", "high", false, false),
    check!("UNDERAGE_PAID", "未到领取年龄发放", "high", false, false),
    check!("PAID_WHILE_SUSPENDED", "暂停期间发放", "high", false, false),
    check!("UNCERTIFIED_PAID", "未认证仍发放", "medium", false, false),
    check!(
        "AMOUNT_MISMATCH",
        "发放金额与核定不符",
        "medium",
        false,
        false
    ),
    check!("DUP_PAYMENT", "同月重复发放", "high", false, false),
    check!(
        "MOVED_OUT_ACTIVE",
        "迁出(出国)未注销",
        "medium",
        false,
        true
    ),
    check!("LATE_DEATH_REPORT", "死亡注销逾期", "low", false, false),
    check!("BAD_CONTRIBUTION", "异常缴费", "medium", false, false),
    check!(
        "SUBSIDY_MISMATCH",
        "缴费补贴与标准不符",
        "medium",
        false,
        false
    ),
    check!("RECEIPT_GAP", "收款收据管理异常", "high", true, false),
    check!("FUND_RULE", "基金账户违反管理规定", "medium", true, false),
    check!("BOOKS_DISAGREE", "账账不符", "high", true, false),
];

pub fn get(code: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.code == code)
}

/// Payment-level flags of `a_payeval` and the check each one is.
pub const PAYMENT_FLAGS: &[(&str, &str)] = &[
    ("f_dup", "DUP_PAYMENT"),
    ("f_after_death", "PAID_AFTER_DEATH"),
    ("f_dual", "DUAL_PENSION"),
    ("f_underage", "UNDERAGE_PAID"),
    ("f_prison", "PAID_WHILE_SUSPENDED"),
    ("f_suspended", "PAID_WHILE_SUSPENDED"),
    ("f_uncertified", "UNCERTIFIED_PAID"),
    ("f_amount", "AMOUNT_MISMATCH"),
];
