//! The rule parameters as data: `parameters.toml` at the project root (built into
//! the binary), or `$PIPELINE_DEFINITIONS/parameters.toml` when that folder has
//! one (the copy then replaces the built-in file as a whole).
//!
//! Each parameter has versions with an effective-from date; a run uses the
//! version in force in the month it works on (the last version whose `from` is on
//! or before the last day of that month). The whole file is checked when it is
//! loaded — every parameter the code reads is present, none is unknown or
//! misspelt, every value has the right form — so the typed views below
//! ([`Parameters::audit`], [`Parameters::ledger`], [`Parameters::benefit_rules`])
//! only fail for a month before a parameter's first version.

use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

/// The file shipped with the project.
pub const SHIPPED: &str = include_str!("../parameters.toml");
/// The file's name, in the project root and in a definitions folder.
pub const FILE_NAME: &str = "parameters.toml";

/// The form a parameter's value takes; fixed by the code that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// A whole number ≥ 0 (ages, days, months, persons, a score).
    Whole,
    /// An exact positive decimal: `139` or `"139.5"`.
    Decimal,
    /// A day of the year, `"MM-DD"`.
    MonthDay,
    /// A calendar date, `1951-06-30`.
    Date,
}

impl Form {
    fn describe(self) -> &'static str {
        match self {
            Form::Whole => "a whole number such as 60",
            Form::Decimal => "a positive number such as 139 or \"139.5\"",
            Form::MonthDay => "a day of the year as \"MM-DD\", e.g. \"10-31\"",
            Form::Date => "a date such as 1951-06-30",
        }
    }
}

/// Every parameter the code reads, with its form. A name in the file that is not
/// here is refused (a misspelling would otherwise be silently ignored).
const KNOWN: &[(&str, Form)] = &[
    ("pension_age", Form::Whole),
    ("min_contribution_age", Form::Whole),
    ("account_divisor", Form::Decimal),
    ("contribution_deadline", Form::MonthDay),
    ("prepaid_move_by", Form::MonthDay),
    ("certification_deadline", Form::MonthDay),
    ("old_cohort_born_by", Form::Date),
    ("refund_window_days", Form::Whole),
    ("death_report_days", Form::Whole),
    ("photo_cert_years", Form::Whole),
    ("shared_account_max", Form::Whole),
    ("working_balance_min_months", Form::Whole),
    ("working_balance_max_months", Form::Whole),
    ("receipt_settle_by", Form::MonthDay),
    ("fiscal_booking_working_days", Form::Whole),
    ("dup_person_threshold", Form::Whole),
    ("bank_match_window_days", Form::Whole),
    ("bank_batch_max_lines", Form::Whole),
    ("basic_pension_central", Form::Decimal),
    ("basic_pension_province_percent", Form::Whole),
    ("basic_pension_city_percent", Form::Whole),
    ("notice_posting_days", Form::Whole),
];

/// A checked value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Whole(u32),
    Decimal(Decimal),
    /// (month, day)
    MonthDay(u32, u32),
    Date(NaiveDate),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Whole(n) => write!(f, "{n}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::MonthDay(m, d) => write!(f, "{m:02}-{d:02}"),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

/// One version of a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub from: NaiveDate,
    pub value: Value,
}

/// One parameter with all its versions (increasing `from`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub zh: String,
    pub unit: String,
    pub rule: String,
    pub versions: Vec<Version>,
}

impl Parameter {
    /// The version in force on `day`, if any.
    pub fn in_force(&self, day: NaiveDate) -> Option<&Version> {
        self.versions.iter().rev().find(|v| v.from <= day)
    }
}

/// Where the parameters came from, for messages and `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::BuiltIn => write!(f, "{FILE_NAME} (built in)"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    #[error("cannot read the parameters file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parameters file {origin}{}: {message}", .line.map_or(String::new(), |l| format!(", line {l}")))]
    Invalid {
        origin: Origin,
        line: Option<usize>,
        message: String,
    },
    #[error("parameter `{name}` ({zh}) has no version in force on {day} (its first version is from {first}; see {origin})")]
    NotInForce {
        name: String,
        zh: String,
        day: NaiveDate,
        first: NaiveDate,
        origin: Origin,
    },
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    parameter: Vec<ParamDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamDoc {
    name: Spanned<String>,
    zh: String,
    unit: String,
    rule: String,
    versions: Spanned<Vec<VersionDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionDoc {
    from: Spanned<toml::Value>,
    value: Spanned<toml::Value>,
    /// Why this version (a policy document); documentation only.
    #[allow(dead_code)]
    note: Option<String>,
}

/// The whole parameters file, checked.
#[derive(Debug, Clone)]
pub struct Parameters {
    pub origin: Origin,
    /// In file order.
    pub parameters: Vec<Parameter>,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Checks one file's parameters, turning byte offsets into line numbers.
struct Checker<'a> {
    text: &'a str,
    origin: &'a Origin,
}

impl Checker<'_> {
    fn error(&self, offset: Option<usize>, message: String) -> ParamsError {
        ParamsError::Invalid {
            origin: self.origin.clone(),
            line: offset.map(|o| line_of(self.text, o)),
            message,
        }
    }

    /// A known name, and versions of the right form in date order.
    fn parameter(&self, p: ParamDoc) -> Result<Parameter, ParamsError> {
        let name = p.name.get_ref().clone();
        let Some(&(_, form)) = KNOWN.iter().find(|(n, _)| *n == name) else {
            return Err(self.error(
                Some(p.name.span().start),
                format!(
                    "unknown parameter `{name}`; the parameters are: {}",
                    KNOWN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        if p.versions.get_ref().is_empty() {
            return Err(self.error(
                Some(p.versions.span().start),
                format!("parameter `{name}` has no versions"),
            ));
        }
        let mut versions: Vec<Version> = Vec::new();
        for v in p.versions.into_inner() {
            let version = self.version(&name, &p.zh, form, &v)?;
            if let Some(prev) = versions.last().filter(|prev| prev.from >= version.from) {
                return Err(self.error(
                    Some(v.from.span().start),
                    format!(
                        "parameter `{name}`: version from {} must come after the version from {} (list versions oldest first, one per date)",
                        version.from, prev.from
                    ),
                ));
            }
            versions.push(version);
        }
        Ok(Parameter {
            name,
            zh: p.zh,
            unit: p.unit,
            rule: p.rule,
            versions,
        })
    }

    fn version(
        &self,
        name: &str,
        zh: &str,
        form: Form,
        v: &VersionDoc,
    ) -> Result<Version, ParamsError> {
        let Some(from) = plain_date(v.from.get_ref()) else {
            return Err(self.error(
                Some(v.from.span().start),
                format!(
                    "parameter `{name}`: `from` must be a date such as 2027-01-01, not {}",
                    v.from.get_ref()
                ),
            ));
        };
        let Some(value) = value_of(form, v.value.get_ref()) else {
            return Err(self.error(
                Some(v.value.span().start),
                format!(
                    "parameter `{name}` ({zh}): value {} is not {}",
                    v.value.get_ref(),
                    form.describe()
                ),
            ));
        };
        Ok(Version { from, value })
    }
}

fn month_day(text: &str) -> Option<(u32, u32)> {
    let (m, d) = text.trim().split_once('-')?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    // A leap year, so that 02-29 is a day of the year (the users clamp to the 28th).
    NaiveDate::from_ymd_opt(2000, m, d).map(|_| (m, d))
}

fn plain_date(v: &toml::Value) -> Option<NaiveDate> {
    let toml::Value::Datetime(dt) = v else {
        return None;
    };
    match (dt.date, dt.time, dt.offset) {
        (Some(d), None, None) => {
            NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
        }
        _ => None,
    }
}

fn value_of(form: Form, v: &toml::Value) -> Option<Value> {
    let value = match (form, v) {
        (Form::Whole, toml::Value::Integer(n)) => u32::try_from(*n).ok().map(Value::Whole),
        (Form::Decimal, toml::Value::Integer(n)) => Some(Value::Decimal(Decimal::from(*n))),
        (Form::Decimal, toml::Value::String(s)) => {
            s.trim().parse::<Decimal>().ok().map(Value::Decimal)
        }
        (Form::MonthDay, toml::Value::String(s)) => {
            month_day(s).map(|(m, d)| Value::MonthDay(m, d))
        }
        (Form::Date, v) => plain_date(v).map(Value::Date),
        _ => None,
    };
    // A divisor of zero or less has no meaning.
    value.filter(|v| !matches!(v, Value::Decimal(d) if *d <= Decimal::ZERO))
}

impl Parameters {
    /// The parameters of this run: `parameters.toml` of the --definitions folder
    /// (or $PIPELINE_DEFINITIONS) when it has one, else the built-in file.
    pub fn load() -> Result<Parameters, ParamsError> {
        // Through the one loader of definition files (built in, or the
        // --definitions folder laid over them).
        let file = crate::defs::active()
            .file(FILE_NAME)
            .map_err(|e| ParamsError::Invalid {
                origin: Origin::BuiltIn,
                line: None,
                message: e.to_string(),
            })?;
        match file.origin {
            crate::defs::Origin::BuiltIn => Parameters::parse(&file.text, Origin::BuiltIn),
            crate::defs::Origin::Folder { .. } => {
                Parameters::parse(&file.text, Origin::File(file.path))
            }
        }
    }

    /// The built-in file.
    pub fn shipped() -> Result<Parameters, ParamsError> {
        Parameters::parse(SHIPPED, Origin::BuiltIn)
    }

    /// Parses and checks a whole file.
    pub fn parse(text: &str, origin: Origin) -> Result<Parameters, ParamsError> {
        let ctx = Checker {
            text,
            origin: &origin,
        };
        let doc: FileDoc = toml::from_str(text).map_err(|e| ParamsError::Invalid {
            origin: origin.clone(),
            line: e.span().map(|s| line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let mut out: Vec<Parameter> = Vec::new();
        for p in doc.parameter {
            let name_at = p.name.span().start;
            let p = ctx.parameter(p)?;
            if out.iter().any(|q| q.name == p.name) {
                return Err(ctx.error(
                    Some(name_at),
                    format!("parameter `{}` is given twice; give one [[parameter]] with several versions", p.name),
                ));
            }
            out.push(p);
        }
        let missing: Vec<&str> = KNOWN
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !out.iter().any(|p| p.name == *n))
            .collect();
        if !missing.is_empty() {
            return Err(ctx.error(
                None,
                format!(
                    "parameter(s) missing: {} (copy them from the project's {FILE_NAME})",
                    missing.join(", ")
                ),
            ));
        }
        Ok(Parameters {
            origin,
            parameters: out,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Every parameter with the version in force on `day` (None before its first).
    pub fn in_force(&self, day: NaiveDate) -> Vec<(&Parameter, Option<&Version>)> {
        self.parameters
            .iter()
            .map(|p| (p, p.in_force(day)))
            .collect()
    }

    /// The value of `name` in force in `month` (on its last day).
    fn value(&self, name: &str, month: NaiveDate) -> Result<Value, ParamsError> {
        let day = crate::domain::calendar::month_end(month);
        // Present by construction: `parse` refuses a file without every KNOWN name.
        let p = self.get(name).expect("checked at load");
        p.in_force(day)
            .map(|v| v.value)
            .ok_or_else(|| ParamsError::NotInForce {
                name: p.name.clone(),
                zh: p.zh.clone(),
                day,
                first: p.versions[0].from,
                origin: self.origin.clone(),
            })
    }

    fn whole(&self, name: &str, month: NaiveDate) -> Result<u32, ParamsError> {
        match self.value(name, month)? {
            Value::Whole(n) => Ok(n),
            other => unreachable!("{name} is checked to be whole, got {other:?}"),
        }
    }

    fn decimal(&self, name: &str, month: NaiveDate) -> Result<Decimal, ParamsError> {
        match self.value(name, month)? {
            Value::Decimal(d) => Ok(d),
            other => unreachable!("{name} is checked to be a decimal, got {other:?}"),
        }
    }

    fn month_day(&self, name: &str, month: NaiveDate) -> Result<(u32, u32), ParamsError> {
        match self.value(name, month)? {
            Value::MonthDay(m, d) => Ok((m, d)),
            other => unreachable!("{name} is checked to be a month-day, got {other:?}"),
        }
    }

    fn date(&self, name: &str, month: NaiveDate) -> Result<NaiveDate, ParamsError> {
        match self.value(name, month)? {
            Value::Date(d) => Ok(d),
            other => unreachable!("{name} is checked to be a date, got {other:?}"),
        }
    }

    /// The audit's and the reports' parameters in force in `month`.
    pub fn audit(&self, month: NaiveDate) -> Result<AuditParams, ParamsError> {
        let cert = self.month_day("certification_deadline", month)?;
        let prepaid = self.month_day("prepaid_move_by", month)?;
        Ok(AuditParams {
            pension_age: self.whole("pension_age", month)?,
            min_contribution_age: self.whole("min_contribution_age", month)?,
            death_report_days: self.whole("death_report_days", month)?,
            photo_cert_years: self.whole("photo_cert_years", month)?,
            // Not certified by the deadline: suspended from the month after it.
            cert_first_month: cert.0 % 12 + 1,
            shared_account_max: self.whole("shared_account_max", month)?,
            working_min_months: self.whole("working_balance_min_months", month)?,
            working_max_months: self.whole("working_balance_max_months", month)?,
            receipt_settle: self.month_day("receipt_settle_by", month)?,
            fiscal_booking_working_days: self.whole("fiscal_booking_working_days", month)?,
            // The year's prepayment is carried to the fiscal account in the month it moves.
            prepaid_carry_month: prepaid.0,
            dup_threshold: self.whole("dup_person_threshold", month)? as i32,
            contribution_deadline: self.month_day("contribution_deadline", month)?,
            bank_match_window_days: self.whole("bank_match_window_days", month)?,
        })
    }

    /// The funding split of the basic pension and the public notice's posting days,
    /// in force in `month`; the central standard with every version (a period's
    /// months may fall under different ones).
    pub fn reporting(&self, month: NaiveDate) -> Result<ReportParams, ParamsError> {
        let central = self.get("basic_pension_central").expect("checked at load");
        let province = self.whole("basic_pension_province_percent", month)?;
        let city = self.whole("basic_pension_city_percent", month)?;
        if province + city > 100 {
            return Err(ParamsError::Invalid {
                origin: self.origin.clone(),
                line: None,
                message: format!(
                    "basic_pension_province_percent ({province}) and basic_pension_city_percent \
                     ({city}) add up to more than 100: the county's share would be negative"
                ),
            });
        }
        Ok(ReportParams {
            basic_central: central
                .versions
                .iter()
                .filter_map(|v| match v.value {
                    Value::Decimal(d) => Some((v.from, d)),
                    _ => None,
                })
                .collect(),
            province_percent: province,
            city_percent: city,
            notice_days: self.whole("notice_posting_days", month)?,
        })
    }

    /// The bank reconciliation's parameters in force in `month` (the month reconciled).
    pub fn reconcile(&self, month: NaiveDate) -> Result<ReconcileParams, ParamsError> {
        Ok(ReconcileParams {
            window_days: self.whole("bank_match_window_days", month)?,
            batch_max_lines: self.whole("bank_batch_max_lines", month)?,
        })
    }

    /// The ledger engine's parameters in force in `month` (the through month).
    pub fn ledger(&self, month: NaiveDate) -> Result<LedgerParams, ParamsError> {
        Ok(LedgerParams {
            divisor: self.decimal("account_divisor", month)?,
            refund_window_days: self.whole("refund_window_days", month)?.into(),
            prepaid_move_by: self.month_day("prepaid_move_by", month)?,
        })
    }

    /// The benefit rules (start month, certification) in force in `month`.
    pub fn benefit_rules(&self, month: NaiveDate) -> Result<BenefitRules, ParamsError> {
        Ok(BenefitRules {
            pension_age: self.whole("pension_age", month)?,
            old_cohort_born_by: self.date("old_cohort_born_by", month)?,
            certify_by: self.month_day("certification_deadline", month)?,
        })
    }
}

// ---------------------------------------------------------------------------
// The typed views: what each stage reads from the file. They are defined here, the
// stages' only common ground for parameters, so that no stage imports another
// for them; each stage keeps its own `Default` and methods.

/// The rule parameters the audit's checks and the reports use (`audit::AuditParams`);
/// never literals in SQL.
#[derive(Debug, Clone)]
pub struct AuditParams {
    /// Pension from the month after this birthday.
    pub pension_age: u32,
    /// No contribution before this birthday.
    pub min_contribution_age: u32,
    /// A death cancellation later than this many days after death is late.
    pub death_report_days: u32,
    /// A beneficiary is certified by photo (照相认证) at least once in this many years.
    pub photo_cert_years: u32,
    /// Certification deadline: uncertified beneficiaries are suspended from this month.
    pub cert_first_month: u32,
    /// More persons than this on one bank account is a finding (a couple is normal).
    pub shared_account_max: u32,
    /// Expenditure working balance, in months of payouts.
    pub working_min_months: u32,
    pub working_max_months: u32,
    /// Receipt books must be settled by this month and day of their year.
    pub receipt_settle: (u32, u32),
    /// A fiscal transfer is booked within this many working days of its arrival.
    pub fiscal_booking_working_days: u32,
    /// Month in which the year's prepayment is carried to the fiscal account.
    pub prepaid_carry_month: u32,
    /// DUP_PERSON: score at which two records are reported as one person.
    pub dup_threshold: i32,
    /// A year's contribution is due by this month and day of the year (interrupted
    /// after it; the monthly report counts interruptions from it).
    pub contribution_deadline: (u32, u32),
    /// BANK_UNMATCHED: the matching window (days), after which plus one month an
    /// unmatched bank or book line is no longer timing.
    pub bank_match_window_days: u32,
}

/// The numbers of the bank reconciliation's matching (`reconcile::run`;
/// docs/rules.md § Bank reconciliation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileParams {
    /// A book line and a bank line match only within this many days either side: 5.
    pub window_days: u32,
    /// A batch has at most this many lines on its many side: 8.
    pub batch_max_lines: u32,
}

/// The rule parameters the ledger engine needs (`ledger::engine::Params`); the rate
/// table is passed separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerParams {
    /// Account pension divisor (计发月数): 139.
    pub divisor: Decimal,
    /// Heirs may claim within this many days of death: 60. Only flags
    /// [`RefundCalc::late_claim`]; the refund itself is unchanged.
    pub refund_window_days: i64,
    /// Each year's prepaid contribution moves on this (month, day) of the year:
    /// (10, 31). A lot received after that day of a year it covers moves on its
    /// receipt date.
    pub prepaid_move_by: (u32, u32),
}

/// What the reports need beyond the audit's parameters: how the basic pension is
/// split by funding level (附表十三, 附表十四) and how long a village notice is posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams {
    /// The central minimum standard (yuan per month), every version from its month.
    pub basic_central: Vec<(NaiveDate, Decimal)>,
    /// Shares of the part above the central minimum, in percent; the county takes
    /// the rest.
    pub province_percent: u32,
    pub city_percent: u32,
    /// A public notice is posted for this many days (rules 第五十六条).
    pub notice_days: u32,
}

/// The numbers of the benefit rules (`ledger::checks::BenefitRules`, whose methods
/// apply them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenefitRules {
    /// Pension from the month after this birthday: 60.
    pub pension_age: u32,
    /// Persons born on or before this day were already of age when the scheme
    /// began (2011-07-01) and receive the basic pension from the month after
    /// registration: 1951-06-30.
    pub old_cohort_born_by: NaiveDate,
    /// Survival certification is due by this (month, day) each year: (4, 30).
    pub certify_by: (u32, u32),
}

/// The built-in file's newest versions: the `Default` of the typed structs, for
/// tests and library callers without a run month (the commands always read the
/// file in force). The shipped file is checked by a unit test, so this cannot
/// fail in a build that passed its tests.
pub(crate) fn shipped_newest<T>(
    view: impl Fn(&Parameters, NaiveDate) -> Result<T, ParamsError>,
) -> T {
    let p = Parameters::shipped().expect("the built-in parameters.toml is valid (unit-tested)");
    let far_future = NaiveDate::from_ymd_opt(9999, 12, 1).expect("valid date");
    view(&p, far_future).expect("every version of the built-in file is in force by 9999")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(y: i32, m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, 1).unwrap()
    }

    #[test]
    fn shipped_file_is_valid_and_gives_the_rules_values() {
        let p = Parameters::shipped().unwrap();
        assert_eq!(p.parameters.len(), KNOWN.len());
        let l = p.ledger(ym(2026, 10)).unwrap();
        assert_eq!(l.divisor, Decimal::from(139));
        let a = p.audit(ym(2026, 10)).unwrap();
        assert_eq!(a.cert_first_month, 5);
        assert_eq!(a.contribution_deadline, (10, 31));
    }

    #[test]
    fn a_later_version_is_in_force_from_its_month() {
        let text = SHIPPED.replace(
            "versions = [{ from = 2011-07-01, value = 139 }]",
            "versions = [\n  { from = 2011-07-01, value = 139 },\n  { from = 2027-01-01, value = \"150.5\" },\n]",
        );
        let p = Parameters::parse(&text, Origin::BuiltIn).unwrap();
        assert_eq!(p.ledger(ym(2026, 12)).unwrap().divisor, Decimal::from(139));
        assert_eq!(
            p.ledger(ym(2027, 1)).unwrap().divisor,
            "150.5".parse::<Decimal>().unwrap()
        );
        let err = p.ledger(ym(2011, 6)).unwrap_err().to_string();
        assert!(
            err.contains("account_divisor") && err.contains("2011-07-01"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_line_and_the_parameter() {
        let misspelt = SHIPPED.replace(
            "name = \"shared_account_max\"",
            "name = \"shared_acount_max\"",
        );
        let err = Parameters::parse(&misspelt, Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        let line = SHIPPED
            .lines()
            .position(|l| l.contains("\"shared_account_max\""))
            .unwrap()
            + 1;
        assert!(err.contains(&format!("line {line}")), "{err}");
        assert!(
            err.contains("unknown parameter `shared_acount_max`"),
            "{err}"
        );

        let float = SHIPPED.replace("value = 139 }", "value = 139.5 }");
        let err = Parameters::parse(&float, Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("account_divisor") && err.contains("line "),
            "{err}"
        );

        let broken = SHIPPED.replace("zh = \"待遇领取年龄\"", "zh = \"待遇领取年龄");
        let err = Parameters::parse(&broken, Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        let line = SHIPPED
            .lines()
            .position(|l| l.contains("待遇领取年龄"))
            .unwrap()
            + 1;
        assert!(err.contains(&format!("line {line}")), "{err}");
    }
}
