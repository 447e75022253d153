//! The check catalogue (docs/rules.md § Audit checks), read from the definition
//! files: each check is `checks/CODE.sql` (its query) with `checks/CODE.toml` beside
//! it (Chinese title, severity, book level, what it does in screening, what it
//! needs; the fields: pipeline/audit/checks/README.md). Read through the one loader
//! of such pairs (`defs::DefSource::pairs`), so a definitions folder can replace a
//! check's files or add a check. DUP_PERSON is Rust (`dup/`) and has only its TOML.
//!
//! The catalogue is read once per process, from the definitions the process uses
//! (`defs::active`); [`active`] returns it or the error that names the broken file.
//! [`CHECKS`] is the same list for code that iterates it directly.

use std::sync::OnceLock;

use serde::Deserialize;

use super::AuditError;
use crate::defs::{parse_toml, DefSource, DefsError, Pair};

/// Checks computed in Rust rather than SQL: a TOML file without SQL.
const RUST_CHECKS: &[&str] = &["DUP_PERSON"];

/// Derived tables (the ledger's, the bank reconciliation's) a check may need besides the input kinds.
const LEDGER_TABLES: &[&str] = &[
    "expected_payout",
    "account_event",
    "bank_line",
    "bank_reconciliation",
];

#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub code: &'static str,
    pub title_zh: &'static str,
    /// high | medium | low
    pub severity: &'static str,
    /// Book-level checks put the book, account or category in `evidence`.
    pub book_level: bool,
    /// A standing finding of this check on a person holds that person's payments in
    /// `pipeline screen` (payment checks hold the flagged row itself: `flags`).
    pub holds_person: bool,
    /// Its SQL's definition file (`checks/<CODE>.sql`, read through `crate::defs`, so
    /// a definitions folder can replace it); DUP_PERSON has none.
    pub sql_file: Option<&'static str>,
    /// The columns of `a_payeval` that flag a payment as this check (screening).
    pub flags: &'static [&'static str],
    /// The input kinds and ledger tables whose rows it reads.
    pub needs: &'static [&'static str],
    /// Where it runs and is listed.
    pub order: i64,
    /// Found by the province over all counties (`reports/province/<CODE>.sql`); the
    /// county's SQL only takes the rows the province sent back (`province_finding`).
    /// Its cases come from the synthetic province (tests/province.rs), not from a
    /// single synthetic county.
    pub from_province: bool,
}

/// `checks/CODE.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    order: i64,
    title: String,
    severity: String,
    book_level: bool,
    screening: String,
    #[serde(default)]
    flags: Vec<String>,
    needs: Vec<String>,
    #[serde(default)]
    from_province: bool,
}

/// A check code: capitals, digits and `_` (lower-case names are the shared SQL files).
fn is_code(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Loaded once per process and kept for its lifetime (a few dozen short strings).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn leak_all(v: Vec<String>) -> &'static [&'static str] {
    Box::leak(
        v.into_iter()
            .map(leak)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// Every check of `src`, in their order (then by code).
pub fn load(src: &DefSource) -> Result<Vec<Check>, AuditError> {
    // A broken input kind is reported by what reads the kinds; here it only means
    // `needs` cannot be checked.
    let kinds = crate::schema::Catalog::from_source(src).ok();
    let mut checks = Vec::new();
    for pair in src.pairs("checks", is_code)? {
        checks.push(check_of(pair, kinds.as_ref())?);
    }
    checks.sort_by(|a, b| a.order.cmp(&b.order).then(a.code.cmp(b.code)));
    Ok(checks)
}

/// One check from its two files, its metadata checked.
fn check_of(pair: Pair, kinds: Option<&crate::schema::Catalog>) -> Result<Check, AuditError> {
    let code = pair.name;
    let rust = RUST_CHECKS.contains(&code.as_str());
    let Some(toml) = pair.meta else {
        let path = pair.sql.map(|f| f.path).unwrap_or_default();
        return Err(invalid(
            &path,
            &format!(
                "the audit check {code} has no metadata file beside it; create {code}.toml with \
             its title, severity, book_level, screening and needs (checks/README.md)"
            ),
        ));
    };
    let bad = |message: String| invalid(&toml.path, &message);
    match (&pair.sql, rust) {
        (None, false) => {
            return Err(bad(format!("the check has no SQL file; create {code}.sql beside it")))
        }
        (Some(sql), true) => {
            return Err(invalid(&sql.path, &format!(
                "{code} is record linkage in the program (pipeline/audit/dup/) and takes no SQL file"
            )))
        }
        _ => {}
    }
    let meta: Meta = parse_toml(&toml)?;
    if !["high", "medium", "low"].contains(&meta.severity.as_str()) {
        return Err(bad(format!(
            "severity must be \"high\", \"medium\" or \"low\", not {:?}",
            meta.severity
        )));
    }
    let flagged = !meta.flags.is_empty();
    let holds_person = match meta.screening.as_str() {
        "person" | "none" if flagged => {
            return Err(bad("flags go only with screening = \"payment\"".into()))
        }
        "payment" if !flagged => return Err(bad(
            "screening = \"payment\" needs flags: the columns of a_payeval that mark the payment"
                .into(),
        )),
        "person" => true,
        "payment" | "none" => false,
        other => {
            return Err(bad(format!(
                "screening must be \"person\", \"payment\" or \"none\", not {other:?}"
            )))
        }
    };
    let known = |n: &str| LEDGER_TABLES.contains(&n) || kinds.is_none_or(|k| k.get(n).is_ok());
    if let Some(unknown) = meta.needs.iter().find(|n| !known(n.as_str())) {
        return Err(bad(format!(
            "needs {unknown:?}, which is neither an input kind nor a derived table ({})",
            LEDGER_TABLES.join(", ")
        )));
    }
    Ok(Check {
        sql_file: pair.sql.map(|_| leak(format!("checks/{code}.sql"))),
        code: leak(code),
        title_zh: leak(meta.title),
        severity: leak(meta.severity),
        book_level: meta.book_level,
        holds_person,
        flags: leak_all(meta.flags),
        needs: leak_all(meta.needs),
        order: meta.order,
        from_province: meta.from_province,
    })
}

fn invalid(path: &std::path::Path, message: &str) -> AuditError {
    AuditError::Definitions(DefsError::Invalid {
        path: path.to_path_buf(),
        message: message.to_string(),
    })
}

static ACTIVE: OnceLock<Result<Vec<Check>, String>> = OnceLock::new();

/// The catalogue of this process's definitions (read once).
pub fn active() -> Result<&'static [Check], AuditError> {
    match ACTIVE.get_or_init(|| load(crate::defs::active()).map_err(|e| e.to_string())) {
        Ok(checks) => Ok(checks),
        Err(message) => Err(AuditError::Usage(message.clone())),
    }
}

/// The catalogue as a list to iterate (`for check in CHECKS`, `CHECKS.iter()`); the
/// command line has loaded it with its error before anything reads it this way, so a
/// broken check file stops the program with its message here only in library use.
#[derive(Debug, Clone, Copy)]
pub struct Checks;

pub const CHECKS: Checks = Checks;

impl std::ops::Deref for Checks {
    type Target = [Check];
    fn deref(&self) -> &[Check] {
        active().unwrap_or_else(|e| panic!("the audit check catalogue: {e}"))
    }
}

impl IntoIterator for Checks {
    type Item = &'static Check;
    type IntoIter = std::slice::Iter<'static, Check>;
    fn into_iter(self) -> Self::IntoIter {
        active()
            .unwrap_or_else(|e| panic!("the audit check catalogue: {e}"))
            .iter()
    }
}

pub fn get(code: &str) -> Option<&'static Check> {
    CHECKS.into_iter().find(|c| c.code == code)
}

/// Payment-level flags of `a_payeval` and the check each one is (screening).
pub fn payment_flags(checks: &[Check]) -> Vec<(&'static str, &'static str)> {
    checks
        .iter()
        .flat_map(|c| c.flags.iter().map(|f| (*f, c.code)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in catalogue as it was when it was a table in this file: codes in
    /// order, titles, severities, book level, screening and the payment flags.
    #[test]
    fn the_built_in_catalogue_is_the_one_of_the_rules() {
        let checks = load(&DefSource::builtin()).unwrap();
        let codes: Vec<&str> = checks.iter().map(|c| c.code).collect();
        assert_eq!(
            codes,
            [
                "ID_INVALID",
                "ID_UNKNOWN",
                "ID_MISMATCH",
                "DECEASED_ACTIVE",
                "PAID_AFTER_DEATH",
                "DUP_ID",
                "DUP_PERSON",
                "SHARED_ACCOUNT",
                "DUAL_PENSION",
                "UNDERAGE_PAID",
                "PAID_WHILE_SUSPENDED",
                "UNCERTIFIED_PAID",
                "PHOTO_CERT_OVERDUE",
                "AMOUNT_MISMATCH",
                "DUP_PAYMENT",
                "MOVED_OUT_ACTIVE",
                "LATE_DEATH_REPORT",
                "BAD_CONTRIBUTION",
                "SUBSIDY_MISMATCH",
                "RECEIPT_GAP",
                "FUND_RULE",
                "BOOKS_DISAGREE",
                "FISCAL_DISAGREE",
                "FISCAL_LATE",
                "DUAL_ENROLLMENT",
                "DUAL_PAYOUT",
                "PAID_AFTER_DEATH_ELSEWHERE",
                "BANK_UNMATCHED",
                "BANK_STATEMENT",
                "BANK_BALANCE",
            ]
        );
        // The bank reconciliation's checks are about accounts and read its tables.
        for code in ["BANK_UNMATCHED", "BANK_STATEMENT", "BANK_BALANCE"] {
            let c = checks.iter().find(|c| c.code == code).unwrap();
            assert!(
                c.book_level && !c.holds_person && c.flags.is_empty(),
                "{code}"
            );
        }
        let unmatched = checks.iter().find(|c| c.code == "BANK_UNMATCHED").unwrap();
        assert!(unmatched.needs.contains(&"bank_line"));
        let dup = checks.iter().find(|c| c.code == "DUP_PERSON").unwrap();
        assert!(
            dup.sql_file.is_none() && dup.holds_person && dup.title_zh == "疑似一人多证重复参保"
        );
        let books = checks.iter().find(|c| c.code == "BOOKS_DISAGREE").unwrap();
        assert!(books.book_level && !books.holds_person && books.severity == "high");
        assert_eq!(books.sql_file, Some("checks/BOOKS_DISAGREE.sql"));
        let late = checks
            .iter()
            .find(|c| c.code == "LATE_DEATH_REPORT")
            .unwrap();
        assert_eq!((late.severity, late.title_zh), ("low", "死亡注销逾期"));
        let holding: Vec<&str> = checks
            .iter()
            .filter(|c| c.holds_person)
            .map(|c| c.code)
            .collect();
        assert_eq!(
            holding,
            [
                "ID_INVALID",
                "ID_UNKNOWN",
                "ID_MISMATCH",
                "DECEASED_ACTIVE",
                "DUP_ID",
                "DUP_PERSON",
                "SHARED_ACCOUNT",
                "MOVED_OUT_ACTIVE"
            ]
        );
        // The province's checks, and only they, are marked as found by the province.
        let province: Vec<&str> = checks
            .iter()
            .filter(|c| c.from_province)
            .map(|c| c.code)
            .collect();
        assert_eq!(
            province,
            [
                "DUAL_ENROLLMENT",
                "DUAL_PAYOUT",
                "PAID_AFTER_DEATH_ELSEWHERE"
            ]
        );
        let mut flags = payment_flags(&checks);
        flags.sort();
        assert_eq!(
            flags,
            [
                ("f_after_death", "PAID_AFTER_DEATH"),
                ("f_amount", "AMOUNT_MISMATCH"),
                ("f_dual", "DUAL_PENSION"),
                ("f_dup", "DUP_PAYMENT"),
                ("f_prison", "PAID_WHILE_SUSPENDED"),
                ("f_suspended", "PAID_WHILE_SUSPENDED"),
                ("f_uncertified", "UNCERTIFIED_PAID"),
                ("f_underage", "UNDERAGE_PAID"),
            ]
        );
    }

    fn folder(name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let tmp = std::env::temp_dir().join(format!("catalogue-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("checks")).unwrap();
        for (file, text) in files {
            std::fs::write(tmp.join("checks").join(file), text).unwrap();
        }
        tmp
    }

    const NEW_TOML: &str = "order = 15\ntitle = \"新规则\"\nseverity = \"low\"\n\
                            book_level = false\nscreening = \"none\"\nneeds = [\"payout\"]\n";

    #[test]
    fn a_folder_adds_a_check_in_its_order_and_retitles_one() {
        let retitled = DefSource::builtin()
            .text("checks/DUP_ID.toml")
            .unwrap()
            .replace("同一身份证重复参保", "一证多保");
        let dir = folder(
            "add",
            &[
                ("NEW_RULE.sql", "SELECT 1 AS x"),
                ("NEW_RULE.toml", NEW_TOML),
                ("DUP_ID.toml", &retitled),
            ],
        );
        let checks = load(&DefSource::with_folder(&dir).unwrap()).unwrap();
        let codes: Vec<&str> = checks.iter().take(3).map(|c| c.code).collect();
        assert_eq!(codes, ["ID_INVALID", "NEW_RULE", "ID_UNKNOWN"]);
        assert_eq!(checks[1].sql_file, Some("checks/NEW_RULE.sql"));
        let built_in = load(&DefSource::builtin()).unwrap().len();
        assert_eq!(checks.len(), built_in + 1);
        let dup = checks.iter().find(|c| c.code == "DUP_ID").unwrap();
        assert_eq!(dup.title_zh, "一证多保");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn broken_check_files_are_refused_by_name() {
        // A new check's SQL without its metadata: refused when the folder is opened.
        let dir = folder("lone", &[("NEW_RULE.sql", "SELECT 1")]);
        let err = DefSource::with_folder(&dir).unwrap_err().to_string();
        assert!(
            err.contains("NEW_RULE.sql") && err.contains("NEW_RULE.toml"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        // Metadata that is wrong: named with its file.
        let cases = [
            (
                "severity",
                NEW_TOML.replace("\"low\"", "\"urgent\""),
                "urgent",
            ),
            (
                "screening",
                NEW_TOML.replace("\"none\"", "\"payment\""),
                "flags",
            ),
            (
                "needs",
                NEW_TOML.replace("\"payout\"", "\"payouts\""),
                "payouts",
            ),
            ("field", format!("{NEW_TOML}holds = true\n"), "holds"),
        ];
        for (name, toml, says) in cases {
            let dir = folder(
                name,
                &[("NEW_RULE.sql", "SELECT 1"), ("NEW_RULE.toml", &toml)],
            );
            let err = load(&DefSource::with_folder(&dir).unwrap())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("NEW_RULE.toml") && err.contains(says),
                "{name}: {err}"
            );
            std::fs::remove_dir_all(&dir).unwrap();
        }
        // DUP_PERSON is Rust: a SQL file for it would silently replace nothing.
        let dir = folder("dup", &[("DUP_PERSON.sql", "SELECT 1")]);
        let err = load(&DefSource::with_folder(&dir).unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("DUP_PERSON.sql") && err.contains("audit/dup/"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
