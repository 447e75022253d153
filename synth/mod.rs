//! Synthetic county generator: a deterministic 确山县 (county code 411725) with its
//! residents' pension records, registries and fund books, written as the files really
//! arrive, plus the ground truth of every audit case injected into them.
//!
//! Stages: [`population`] (people and registries) → [`plan`] (enrollments, injected
//! cases, look-alikes) → [`history`] (one enrollment's records at a time, streamed to
//! [`output`]) → [`audit`] (the findings those records should produce) → [`books`]
//! (receipt books and the fund ledger, with the book-level cases).
//!
//! Output: the data files in `operational/`, `registry/`, `reference/`,
//! `contribution/` (one file per year), `subsidy/`, `payout/` (one file per month)
//! and `fund/`; the answer key in `_truth/` (which ingestion skips):
//! `ground_truth.csv`, `lookalikes.csv` and `files.csv`.

pub mod account;
pub mod audit;
pub mod bank;
pub mod books;
pub mod calendar;
pub mod geo;
pub mod history;
pub mod names;
pub mod output;
pub mod params;
pub mod plan;
pub mod population;
pub mod province;
pub mod writer;

use books::{Ledger, Receipts};
use calendar::{month_text, ym, DateStyle, MoneyStyle, MonthStyle};
use history::{ContribKind, Records};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use writer::{Enc, Style, Table};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthConfig {
    pub persons: u32,
    pub seed: u64,
    pub through_year: i32,
    pub through_month: u32,
    /// The county's region code: 411725 (确山县) or a Zhumadian neighbour
    /// (geo::county_name), for a province of several synthetic counties.
    pub region: &'static str,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            persons: 2_000,
            seed: 1,
            through_year: 2026,
            through_month: 10,
            region: geo::COUNTY_CODE,
        }
    }
}

/// One data file written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenFile {
    /// Relative to the output directory.
    pub path: PathBuf,
    pub kind: String,
    pub rows: u64,
    /// utf8 | utf8-bom | gb18030 | xlsx
    pub encoding: String,
    /// zh | en
    pub header_lang: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthReport {
    pub persons: u32,
    pub files: Vec<WrittenFile>,
    /// Check code → ground-truth rows.
    pub injected: BTreeMap<String, u64>,
    pub lookalikes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write workbook {path}: {message}")]
    Xlsx { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Seeds for independent streams, so one stage's draws never shift another's.
fn sub_seed(seed: u64, stream: u64) -> u64 {
    // SplitMix64 finaliser.
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Generates the county into `out` (created if needed; files of the same name are
/// overwritten, others left alone, so give it a fresh directory).
pub fn generate(cfg: &SynthConfig, out: &Path) -> Result<SynthReport, SynthError> {
    generate_with(cfg, out, &mut ())
}

/// What a caller may do between the stages (the province generator, province.rs):
/// look at the plan and change who a person is before any record is written, and
/// see every enrollment's records as they are streamed out.
pub trait Hook {
    fn planned(
        &mut self,
        _ctx: &plan::Ctx,
        _pop: &mut population::Population,
        _plan: &mut plan::Plan,
    ) {
    }
    fn streamed(&mut self, _e: &plan::Enrollment, _p: &population::Person, _r: &Records) {}
    /// Whether the books carry their planted cases (BOOKS_DISAGREE in the fund ledger,
    /// FISCAL_DISAGREE and FISCAL_LATE in the bureau's notices); false gives books
    /// that agree, for a test that nothing is flagged then.
    fn book_cases(&self) -> bool {
        true
    }
}

/// No hook: the county as `generate` makes it.
impl Hook for () {}

/// `generate`, with the hook called after the plan and for every enrollment.
pub fn generate_with(
    cfg: &SynthConfig,
    out: &Path,
    hook: &mut dyn Hook,
) -> Result<SynthReport, SynthError> {
    if cfg.persons < 50
        || !(1..=12).contains(&cfg.through_month)
        || ym(cfg.through_year, cfg.through_month) < ym(2014, 1)
    {
        return Err(SynthError::Config(format!(
            "need at least 50 persons and a through-month from 2014-01 on, got {cfg:?}"
        )));
    }
    let ctx = plan::Ctx::new(cfg.through_year, cfg.through_month);
    if geo::county_name(cfg.region).is_none() {
        return Err(SynthError::Config(format!(
            "region {} is not one of the counties the generator knows (411721–411729)",
            cfg.region
        )));
    }
    let geo = geo::Geo::build_for(cfg.region);
    let mut rng = ChaCha8Rng::seed_from_u64(sub_seed(cfg.seed, 1));
    let mut pop = population::Population::generate(cfg.persons, &mut rng, &geo, ctx.t_end);
    let mut plan = plan::build(
        ctx,
        &geo,
        &mut pop,
        ChaCha8Rng::seed_from_u64(sub_seed(cfg.seed, 2)),
    );
    hook.planned(&ctx, &mut pop, &mut plan);
    let mut book_rng = ChaCha8Rng::seed_from_u64(sub_seed(cfg.seed, 3));
    // Book-level cases scale with the books, not the people.
    let per_kind = (cfg.persons as usize / 200_000).max(1);
    let mut receipts = Receipts::new(
        &mut book_rng,
        geo.townships.len(),
        calendar::year_of(ctx.t),
        per_kind,
    );
    let mut outputs = output::Outputs::open(out, ctx, &geo)?;
    let mut s = stream(
        cfg.seed,
        ctx,
        &geo,
        &pop,
        &plan,
        &mut receipts,
        &mut outputs,
        hook,
    )?;
    outputs.registries(&pop.persons, &geo)?;
    outputs.reference()?;
    receipts.close(&mut book_rng, ctx.t_end);
    outputs.receipt_books(&geo, &receipts)?;
    let plant = hook.book_cases();
    let n_books = if plant {
        3 + cfg.persons as usize / 500_000
    } else {
        0
    };
    // The finance bureau's notices draw from a stream of their own (added after the
    // others), so every file that existed before them is unchanged.
    let mut fiscal_rng = ChaCha8Rng::seed_from_u64(sub_seed(cfg.seed, 4));
    let (notices, fiscal_findings) = s.ledger.notices(&mut fiscal_rng, ym(2011, 7), ctx.t, plant);
    let (rows, ledger_findings) =
        s.ledger
            .rows(&mut book_rng, ym(2011, 7), ctx.t, 4, n_books, &notices);
    outputs.fund_ledger(&rows)?;
    outputs.fiscal_notices(&notices)?;
    let mut files = outputs.finish(&geo)?;
    // The banks' statements of the fund's accounts (their own random streams).
    let bank = bank::Bank::build(&rows, cfg.seed, ctx.t, geo.name);
    files.extend(bank.write(out)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    for f in receipts
        .findings
        .iter()
        .chain(&ledger_findings)
        .chain(&bank.findings)
        .chain(&fiscal_findings)
    {
        s.truth.push(audit::Gt {
            code: f.code,
            person_no: String::new(),
            id: String::new(),
            from: f.month,
            to: f.month,
            amount: f.amount,
            note: f.note.clone(),
        });
    }
    write_ground_truth(out, &s.truth)?;
    s.looks.sort();
    s.looks.dedup();
    write_lookalikes(out, &s.looks)?;
    write_files_csv(out, &files)?;
    let mut injected = BTreeMap::new();
    for g in &s.truth {
        *injected.entry(g.code.to_string()).or_insert(0u64) += 1;
    }
    Ok(SynthReport {
        persons: cfg.persons,
        files,
        injected,
        lookalikes: s.looks.len() as u64,
    })
}

/// What streaming the enrollments leaves behind: the fund flows and the answer key.
struct Streamed {
    ledger: Ledger,
    truth: Vec<audit::Gt>,
    looks: Vec<[String; 4]>,
}

/// Generates, audits and writes one enrollment at a time, each with its own random
/// stream, so nothing per-record accumulates in memory.
#[allow(clippy::too_many_arguments)]
fn stream(
    seed: u64,
    ctx: plan::Ctx,
    geo: &geo::Geo,
    pop: &population::Population,
    plan: &plan::Plan,
    receipts: &mut Receipts,
    outputs: &mut output::Outputs,
    hook: &mut dyn Hook,
) -> Result<Streamed, SynthError> {
    let mut s = Streamed {
        ledger: Ledger::default(),
        truth: Vec::new(),
        looks: Vec::new(),
    };
    let mut warnings = 0;
    for (idx, e) in plan.enrollments.iter().enumerate() {
        let p = &pop.persons[e.person as usize];
        let spouse = p
            .spouse
            .map(|x| &pop.persons[x as usize])
            .filter(|x| x.death.is_none())
            .map(|x| x.name.as_str());
        let mut erng = ChaCha8Rng::seed_from_u64(sub_seed(seed, 1_000 + idx as u64));
        let r = history::run(ctx, geo, p, e, idx, spouse, &mut erng, receipts);
        absorb(&mut s.ledger, &r);
        hook.streamed(e, p, &r);
        warnings += r.warnings;
        let found = audit::audit(ctx.t, p, e, &r);
        // A look-alike is only listed while nothing flags it.
        if found.is_empty() {
            let id = pension::idnum::parse(&e.id_text).normalized;
            for &l in &e.looks {
                s.looks.push([
                    l.code().to_string(),
                    e.person_no.clone(),
                    id.clone(),
                    look_note(l, e, p, pop, geo, &r),
                ]);
            }
            for l in &r.looks {
                s.looks.push([
                    l.kind.to_string(),
                    e.person_no.clone(),
                    id.clone(),
                    l.note.clone(),
                ]);
            }
        }
        s.truth.extend(found);
        outputs.enrollment_records(geo, e, &r)?;
    }
    debug_assert_eq!(warnings, 0, "account postings fell in a settlement month");
    Ok(s)
}

/// Why a plan-level look-alike must not be flagged, in words a tester can check.
fn look_note(
    l: plan::Look,
    e: &plan::Enrollment,
    p: &population::Person,
    pop: &population::Population,
    geo: &geo::Geo,
    r: &Records,
) -> String {
    use plan::Look;
    match l {
        Look::CoupleAccount => format!(
            "card {} shared by a married couple of {}",
            e.bank, geo.villages[e.village].name
        ),
        Look::TradName | Look::NameVariant => {
            format!("enrollment name {} = register name {}", e.name_text, p.name)
        }
        Look::Twin | Look::TwinSameSound => {
            let twin = p.twin_of.map(|t| &pop.persons[t as usize]);
            format!(
                "twin of {} ({}), both born {}",
                twin.map_or("", |t| t.name.as_str()),
                twin.map_or("", |t| t.id.as_str()),
                calendar::iso(p.birth)
            )
        }
        Look::Legacy15 => format!(
            "enrollment ID {} is the 15-digit form of registered {}",
            e.id_text, p.id
        ),
        Look::IdFormat => format!("enrollment ID typed as '{}' (= {})", e.id_text, p.id),
        Look::MovedBeneficiary => {
            let moved = p.moved.map(|m| calendar::iso(m.1)).unwrap_or_default();
            let start = r
                .approval
                .as_ref()
                .map(|a| month_text(a.start))
                .unwrap_or_default();
            format!(
                "moved out of the county {moved}, receiving since {start}: keeps the relationship"
            )
        }
    }
}

/// Adds one enrollment's money movements to the monthly fund flows.
fn absorb(ledger: &mut Ledger, r: &Records) {
    for c in r.contributions.iter().filter(|c| c.ok) {
        if c.kind == ContribKind::Prepay {
            ledger.at(c.date).prepaid_in += c.amount;
            ledger.at(calendar::date(c.year, 10, 31)).prepaid_carry += c.amount;
        } else {
            ledger.at(c.date).contribution += c.amount;
        }
    }
    for s in &r.subsidies {
        let f = ledger.at(s.date);
        if s.basic {
            f.basic_subsidy[s.level] += s.amount;
        } else {
            f.subsidy[s.level] += s.amount;
        }
    }
    for c in &r.collective {
        ledger.at(c.date).collective += c.amount;
    }
    for t in &r.transfers {
        let f = ledger.at(t.date);
        if t.out {
            f.transfer_out += t.amount;
        } else {
            f.transfer_in += t.amount;
        }
    }
    for p in r.payouts.iter().filter(|p| p.ok) {
        let f = ledger.at(p.date);
        f.basic += p.basic;
        f.account += p.account;
    }
    if let Some(c) = r
        .cancellation
        .as_ref()
        .filter(|c| c.refund > rust_decimal::Decimal::ZERO)
    {
        ledger.at(c.apply).refund += c.refund;
    }
}

fn plain_table(
    out: &Path,
    rel: &str,
    kind: &'static str,
    cols: &[(&str, &str)],
) -> Result<Table, SynthError> {
    let st = Style {
        enc: Enc::Utf8,
        en: true,
        date: DateStyle::Iso,
        month: MonthStyle::Dash,
        money: MoneyStyle::Plain,
        shuffle: false,
    };
    Table::create(out, rel, kind, cols, st)
}

fn write_ground_truth(out: &Path, truth: &[audit::Gt]) -> Result<(), SynthError> {
    let cols = [
        ("check_code", ""),
        ("person_no", ""),
        ("id_number", ""),
        ("month_from", ""),
        ("month_to", ""),
        ("amount", ""),
        ("note", ""),
    ];
    let mut t = plain_table(out, "_truth/ground_truth.csv", "ground_truth", &cols)?;
    let mut rows: Vec<&audit::Gt> = truth.iter().collect();
    rows.sort_by(|a, b| (a.code, &a.person_no, &a.note).cmp(&(b.code, &b.person_no, &b.note)));
    for g in rows {
        t.s(g.code)
            .s(&g.person_no)
            .s(&g.id)
            .s(&g.from.map(month_text).unwrap_or_default())
            .s(&g.to.map(month_text).unwrap_or_default());
        match g.amount {
            Some(a) => t.money(a),
            None => t.s(""),
        };
        t.s(&g.note).end()?;
    }
    t.finish().map(|_| ())
}

fn write_lookalikes(out: &Path, looks: &[[String; 4]]) -> Result<(), SynthError> {
    let cols = [
        ("kind", ""),
        ("person_no", ""),
        ("id_number", ""),
        ("note", ""),
    ];
    let mut t = plain_table(out, "_truth/lookalikes.csv", "lookalikes", &cols)?;
    for l in looks {
        t.s(&l[0]).s(&l[1]).s(&l[2]).s(&l[3]).end()?;
    }
    t.finish().map(|_| ())
}

fn write_files_csv(out: &Path, files: &[WrittenFile]) -> Result<(), SynthError> {
    let cols = [
        ("path", ""),
        ("kind", ""),
        ("rows", ""),
        ("encoding", ""),
        ("header_lang", ""),
    ];
    let mut t = plain_table(out, "_truth/files.csv", "files", &cols)?;
    for f in files {
        t.s(&f.path.to_string_lossy())
            .s(&f.kind)
            .int(f.rows as i64)
            .s(&f.encoding)
            .s(&f.header_lang)
            .end()?;
    }
    t.finish().map(|_| ())
}

#[cfg(test)]
mod tests;
