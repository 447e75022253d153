//! `pipeline bench`: ingest throughput and peak memory on a large synthetic county,
//! side by side with DuckDB's own CSV → Parquet copy of the same files; or the time
//! and peak memory of the whole monthly report package on that county; or the
//! workbench's answer times over an existing warehouse (`--stage serve`).
//!
//! Each side runs in a child process so that its peak memory (max RSS) is its own.

mod serve;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::synth::{generate, SynthConfig};
use anyhow::{bail, Context};
use pension::warehouse::Manifest;

/// Benchmark ingest beside DuckDB's own CSV → Parquet, (--stage report) the
/// monthly report package on the same county (then the annual package of the year
/// before --month and the fund plan of the year after), or (--stage serve) the workbench's
/// pages over the warehouse of --warehouse.
///
/// Measures ingest on a synthetic county of --persons (generated once into
/// WORK/county-N-sS and reused): our validating ingest of every file, and as the
/// reference DuckDB's read_csv → COPY TO parquet (zstd, no validation) of the
/// UTF-8 CSV files (DuckDB cannot read GB18030 or XLSX without extensions).
/// Build with --release for meaningful figures.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    persons: u32,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Working folder for the county, warehouses and results.
    #[arg(long, default_value = "bench-work")]
    work: PathBuf,
    /// What to measure: `ingest` (beside DuckDB's CSV → Parquet), or `report`: the
    /// whole monthly package (workbook, CSVs, charts, dashboard) for --month on the
    /// warehouse the ingest bench left in WORK/warehouse-ours (the ledger and audit
    /// it needs are run first when missing, and timed too).
    /// `serve`: the workbench over --warehouse (after ledger and audit): it starts
    /// `pipeline serve` on a free local port with a throw-away auditor account (in a
    /// temporary accounts file, removed after), signs in over HTTP and times the
    /// findings list with a filter, a person's page, and --clients users at once.
    /// `all` (the default): ingest, then ledger, audit and the report packages on the
    /// warehouse it made, and every goal of issue 21 beside what was measured.
    #[arg(long, default_value = "all", value_parser = ["all", "ingest", "report", "serve"])]
    stage: String,
    /// `--stage serve`: users signed in at once in the mixed load.
    #[arg(long, default_value_t = 20)]
    clients: usize,
    /// `--stage serve`: seconds the mixed load runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The report month for `--stage report`.
    #[arg(long, default_value = "2026-10", value_name = "YYYY-MM")]
    month: pension::domain::Month,
}

/// Hidden: the reference side, run as a child process.
#[derive(clap::Args)]
pub struct ReferenceArgs {
    #[arg(long)]
    out: PathBuf,
    files: Vec<PathBuf>,
}

struct Measured {
    wall: Duration,
    max_rss_kb: u64,
}

/// `pipeline ingest --skip-bad-files PATHS` into `wh`, in a child, measured.
fn ingest_measured(exe: &Path, wh: &Path, paths: &[PathBuf]) -> anyhow::Result<Measured> {
    run_measured(
        Command::new(exe)
            .arg("--warehouse")
            .arg(wh)
            .arg("ingest")
            .arg("--skip-bad-files")
            .args(paths),
    )
}

/// Runs a child and reports its wall time and peak RSS (from wait4's rusage).
fn run_measured(cmd: &mut Command) -> anyhow::Result<Measured> {
    reset_own_peak_rss();
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .spawn()
        .context("starting the child")?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; wait4 reaps exactly our
    // child, which std will not wait for again (the Child is dropped unwaited).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if r != pid {
        bail!("waiting for the child failed");
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("the child failed (status {status})");
    }
    Ok(Measured {
        wall,
        max_rss_kb: usage.ru_maxrss as u64,
    })
}

/// std spawns with posix_spawn (vfork), and Linux then starts the child's peak RSS
/// at the parent's own high-water mark: a child measured after the bench held a
/// large buffer would report the bench's peak, not its own (measured: a 13 MiB
/// child reported 1,513 MiB after its parent had touched 1.5 GB). Resetting our
/// peak to our current size (`clear_refs` 5, Linux ≥ 4.0) before each spawn makes
/// the child's figure its own.
fn reset_own_peak_rss() {
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("note: could not reset the bench's own peak RSS ({e}); a child's peak may include the bench's");
    }
}

/// A CSV file that is valid UTF-8 throughout, read in pieces (the largest county
/// file is 1 GB; the bench must stay small so its children's peaks are theirs).
fn is_utf8_csv(path: &Path) -> bool {
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("txt"));
    csv && std::fs::File::open(path).is_ok_and(|f| is_utf8_stream(f).unwrap_or(false))
}

fn is_utf8_stream(mut r: impl Read) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 1 << 20];
    // Bytes of a character cut at the end of the previous piece.
    let mut carry = 0;
    loop {
        let n = r.read(&mut buf[carry..])?;
        if n == 0 {
            return Ok(carry == 0);
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            // An incomplete character at the end (error_len None): keep it for the next piece.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// Each goal of the speed issue (21) beside what this run measured.
#[derive(Default)]
struct Goals {
    /// (goal, measured, met)
    rows: Vec<(String, String, bool)>,
}

/// Every stage's peak memory goal.
const PEAK_GOAL_MIB: u64 = 4096;

impl Goals {
    fn check(&mut self, goal: &str, measured: String, met: bool) {
        self.rows.push((goal.to_string(), measured, met));
    }

    /// A stage's seconds against its goal, and its peak memory against 4 GiB.
    fn stage(&mut self, stage: &str, m: &Measured, seconds: Option<f64>) {
        self.stage_peak(stage, m, seconds, PEAK_GOAL_MIB);
    }

    /// A stage's seconds against its goal, and its peak memory against `peak_mib`.
    fn stage_peak(&mut self, stage: &str, m: &Measured, seconds: Option<f64>, peak_mib: u64) {
        let s = m.wall.as_secs_f64();
        if let Some(goal) = seconds {
            self.check(
                &format!("{stage} ≤ {goal:.0} s"),
                format!("{s:.1} s"),
                s <= goal,
            );
        }
        let mib = m.max_rss_kb / 1024;
        self.check(
            &format!("{stage}: peak ≤ {peak_mib} MiB"),
            format!("{mib} MiB"),
            mib <= peak_mib,
        );
    }

    fn table(&self) -> String {
        let mut t = String::from("\n| goal (issue 21) | measured | met |\n|---|---:|---|\n");
        for (goal, measured, met) in &self.rows {
            let met = if *met { "met" } else { "**not met**" };
            t.push_str(&format!("| {goal} | {measured} | {met} |\n"));
        }
        t
    }
}

/// Which DuckDB the SQL stages run on: compiled from the bundled sources (at the
/// release profile's -O1), or a prebuilt library (tools/prebuilt-duckdb).
fn linked_duckdb() -> String {
    let version = duckdb::Connection::open_in_memory()
        .and_then(|c| c.query_row("SELECT version()", [], |r| r.get::<_, String>(0)))
        .unwrap_or_else(|e| format!("(version unknown: {e})"));
    if cfg!(feature = "bundled-duckdb") {
        format!("DuckDB {version} compiled from the bundled sources (release: -O1)")
    } else {
        format!("DuckDB {version} prebuilt (DUCKDB_LIB_DIR at build time)")
    }
}

pub fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<ExitCode> {
    let mut goals = Goals::default();
    println!("SQL stages on {}", linked_duckdb());
    match args.stage.as_str() {
        "report" => run_report(&args, &mut goals)?,
        "serve" => return serve::run(ctx, &args),
        "ingest" => run_ingest(&args, &mut goals)?,
        _ => {
            run_ingest(&args, &mut goals)?;
            run_report(&args, &mut goals)?;
        }
    }
    let table = goals.table();
    print!("{table}");
    let path = args.work.join(format!("bench-goals-{}.md", args.stage));
    std::fs::write(&path, table)?;
    println!("(written to {})", path.display());
    Ok(ExitCode::SUCCESS)
}

/// Ingest beside DuckDB's CSV → Parquet of the same files, then the same rows in
/// the other encoding, then the same files byte for byte.
fn run_ingest(args: &Args, goals: &mut Goals) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.work)?;
    let county = args
        .work
        .join(format!("county-{}-s{}", args.persons, args.seed));
    if !county.join("_truth").is_dir() {
        println!(
            "generating a {}-person county into {} …",
            args.persons,
            county.display()
        );
        let t = Instant::now();
        let cfg = SynthConfig {
            persons: args.persons,
            seed: args.seed,
            ..SynthConfig::default()
        };
        generate(&cfg, &county)?;
        println!("  synth: {:.1} s", t.elapsed().as_secs_f64());
    }
    let exe = std::env::current_exe()?;
    let (inputs, _) = pension::ingest::expand_paths(std::slice::from_ref(&county));
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum();

    // Ours: the full validating ingest of every file.
    let ours_wh = args.work.join("warehouse-ours");
    let _ = std::fs::remove_dir_all(&ours_wh);
    let ours = ingest_measured(&exe, &ours_wh, std::slice::from_ref(&county))?;
    let manifest = Manifest::load(&ours_wh)?;
    let ours_rows: u64 = manifest.files.iter().map(|f| f.rows_read).sum();

    // Ours a second time into the same warehouse: the same rows in other encodings
    // (UTF-8 ↔ GB18030) must store nothing, and take no longer than the first time.
    let reencoded = reencoded_county(&county)?;
    let again = ingest_measured(&exe, &ours_wh, std::slice::from_ref(&reencoded))?;
    let after = Manifest::load(&ours_wh)?;
    let resent: Vec<_> = after
        .files
        .iter()
        .filter(|f| f.seq >= manifest.next_seq)
        .collect();
    let again_rows: u64 = resent.iter().map(|f| f.rows_read).sum();
    let again_stored: u64 = resent.iter().map(|f| f.new + f.changed + f.gone).sum();
    let again_parts: usize = resent.iter().map(|f| f.parts.len()).sum();

    // Ours a third time: the very same files, each skipped by its checksum before a
    // row is parsed (it was stored under the same definition of its kind).
    let unchanged = ingest_measured(&exe, &ours_wh, std::slice::from_ref(&county))?;
    let third = Manifest::load(&ours_wh)?;
    let unchanged_read = third.files.len() - after.files.len();

    // Ours again on exactly the reference's files, for a like-for-like ratio.
    let utf8: Vec<PathBuf> = inputs.iter().filter(|p| is_utf8_csv(p)).cloned().collect();
    let utf8_bytes: u64 = utf8
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum();
    let subset_wh = args.work.join("warehouse-subset");
    let _ = std::fs::remove_dir_all(&subset_wh);
    let subset = ingest_measured(&exe, &subset_wh, &utf8)?;
    let subset_rows: u64 = Manifest::load(&subset_wh)?
        .files
        .iter()
        .map(|f| f.rows_read)
        .sum();

    let ref_out = args.work.join("reference-out");
    let _ = std::fs::remove_dir_all(&ref_out);
    std::fs::create_dir_all(&ref_out)?;
    let (ref_name, mut ref_cmd) = reference_command(&exe, &ref_out, &utf8);
    let reference = run_measured(&mut ref_cmd)?;

    let mb = |b: u64| b as f64 / 1e6;
    let line = |name: &str, files: usize, bytes: u64, rows: u64, m: &Measured| {
        let s = m.wall.as_secs_f64();
        format!(
            "{name:<44} {files:>6} {:>9.1} {:>12} {:>8.1} {:>12.0} {:>8.1} {:>9.0}",
            mb(bytes),
            rows,
            s,
            rows as f64 / s,
            mb(bytes) / s,
            m.max_rss_kb as f64 / 1024.0
        )
    };
    let mut report = String::new();
    report.push_str(&format!(
        "ingest bench: {} persons (seed {}), {} files, {:.1} MB; {} cores\n",
        args.persons,
        args.seed,
        inputs.len(),
        mb(total_bytes),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    ));
    report.push_str(&format!(
        "{:<44} {:>6} {:>9} {:>12} {:>8} {:>12} {:>8} {:>9}\n",
        "run", "files", "MB", "rows", "seconds", "rows/s", "MB/s", "peak MiB"
    ));
    report.push_str(&line(
        "pipeline ingest (all files, validating)",
        inputs.len(),
        total_bytes,
        ours_rows,
        &ours,
    ));
    report.push('\n');
    report.push_str(&line(
        "pipeline re-ingest (same rows, other encoding)",
        resent.len(),
        total_bytes,
        again_rows,
        &again,
    ));
    report.push('\n');
    report.push_str(&line(
        "pipeline re-ingest (same files, unchanged)",
        unchanged_read,
        total_bytes,
        third.files[after.files.len()..]
            .iter()
            .map(|f| f.rows_read)
            .sum(),
        &unchanged,
    ));
    report.push('\n');
    report.push_str(&line(
        "pipeline ingest (UTF-8 CSV subset)",
        utf8.len(),
        utf8_bytes,
        subset_rows,
        &subset,
    ));
    report.push('\n');
    report.push_str(&line(
        &ref_name,
        utf8.len(),
        utf8_bytes,
        subset_rows,
        &reference,
    ));
    report.push('\n');
    let ratio = reference.wall.as_secs_f64() / subset.wall.as_secs_f64();
    report.push_str(&format!(
        "throughput ratio (ours / DuckDB, same files): {ratio:.2}×\n"
    ));
    let again_ratio = again.wall.as_secs_f64() / ours.wall.as_secs_f64();
    report.push_str(&format!(
        "re-ingest in the other encoding: {} files read again ({} byte-identical XLSX files skipped by checksum), {again_stored} rows stored, {again_parts} Parquet files written; {again_ratio:.2}× the first ingest's time\n",
        resent.len(),
        inputs.len().saturating_sub(resent.len()),
    ));
    let unchanged_ratio = unchanged.wall.as_secs_f64() / ours.wall.as_secs_f64();
    report.push_str(&format!(
        "re-ingest of the same files: {unchanged_read} files read again, {} skipped by checksum; {unchanged_ratio:.2}× the first ingest's time\n",
        inputs.len().saturating_sub(unchanged_read),
    ));
    print!("{report}");
    let path = args.work.join("bench-ingest.txt");
    std::fs::File::create(&path)?.write_all(report.as_bytes())?;
    println!("(written to {})", path.display());
    goals.check(
        "ingest ≥ 1.0× DuckDB on the same files",
        format!("{ratio:.2}×"),
        ratio >= 1.0,
    );
    goals.check(
        "re-ingest of unchanged files ≤ 0.3× the first ingest",
        format!("{unchanged_ratio:.2}×"),
        unchanged_ratio <= 0.3 && third.files.len() == after.files.len(),
    );
    goals.check(
        "re-ingest in the other encoding stores nothing",
        format!("{again_stored} rows, {again_parts} files"),
        again_stored == 0 && again_parts == 0,
    );
    goals.stage("ingest", &ours, None);
    goals.stage("re-ingest (other encoding)", &again, None);
    Ok(())
}

/// The county's files again with every CSV in the other encoding (UTF-8 → GB18030,
/// GB18030 → UTF-8 with BOM); XLSX files are copied. Made once, next to the county.
fn reencoded_county(county: &Path) -> anyhow::Result<PathBuf> {
    let name = county
        .file_name()
        .map_or("county".into(), |n| n.to_string_lossy().into_owned());
    let out = county.with_file_name(format!("{name}-reencoded"));
    let done = out.join("_done");
    if done.exists() {
        return Ok(out);
    }
    println!("re-encoding the county into {} …", out.display());
    let (inputs, _) = pension::ingest::expand_paths(&[county.to_path_buf()]);
    for f in inputs {
        let to = out.join(f.strip_prefix(county).unwrap_or(&f));
        if let Some(d) = to.parent() {
            std::fs::create_dir_all(d)?;
        }
        let is_csv = f
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("txt"));
        if !is_csv {
            std::fs::copy(&f, &to)?;
            continue;
        }
        reencode_csv(&f, &to)?;
    }
    std::fs::write(&done, b"")?;
    Ok(out)
}

/// One CSV in the other encoding, a line at a time: the text exactly as ingest
/// decodes it (UTF-8, GB18030, or mixed line by line), then UTF-8 → GB18030 and
/// anything else → UTF-8 with BOM.
fn reencode_csv(from: &Path, to: &Path) -> anyhow::Result<()> {
    use std::io::BufRead;
    let utf8 = is_utf8_stream(std::fs::File::open(from)?)?;
    let mut text = std::io::BufReader::new(pension::ingest::decode::LineDecoder::new(
        std::io::BufReader::new(std::fs::File::open(from)?),
        Default::default(),
        Default::default(),
    ));
    let mut out = std::io::BufWriter::new(std::fs::File::create(to)?);
    if !utf8 {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut line = String::new();
    while text.read_line(&mut line)? > 0 {
        if utf8 {
            out.write_all(&encoding_rs::GB18030.encode(&line).0)?;
        } else {
            out.write_all(line.as_bytes())?;
        }
        line.clear();
    }
    out.flush()?;
    Ok(())
}

/// The official DuckDB build (Python wheel, `pip install duckdb`) when present —
/// a fair reference, compiled with full optimisation; otherwise the DuckDB linked
/// into this binary (see the release profile's opt-level for libduckdb-sys).
fn reference_command(exe: &Path, out: &Path, files: &[PathBuf]) -> (String, Command) {
    let has_wheel = Command::new("python3")
        .args(["-c", "import duckdb"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_wheel {
        let mut c = Command::new("python3");
        c.arg("-c").arg(PY_REFERENCE).arg(out).args(files);
        ("DuckDB (official wheel) read_csv → parquet".into(), c)
    } else {
        let mut c = Command::new(exe);
        c.arg("bench-reference").arg("--out").arg(out).args(files);
        ("DuckDB (linked) read_csv → parquet".into(), c)
    }
}

const PY_REFERENCE: &str = r#"
import sys, duckdb
out, files = sys.argv[1], sys.argv[2:]
con = duckdb.connect()
print(duckdb.__version__)
for i, f in enumerate(files):
    q = "COPY (SELECT * FROM read_csv('%s', header = true)) TO '%s/%05d.parquet' (FORMAT parquet, COMPRESSION zstd)"
    con.execute(q % (f.replace("'", "''"), out.replace("'", "''"), i))
"#;

/// DuckDB's own CSV → Parquet, one COPY per file, no validation.
pub fn run_reference(args: ReferenceArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)?;
    let conn = duckdb::Connection::open_in_memory()?;
    for (i, f) in args.files.iter().enumerate() {
        let sql = format!(
            "COPY (SELECT * FROM read_csv({}, header = true)) TO {} (FORMAT parquet, COMPRESSION zstd)",
            pension::warehouse::lit(&f.to_string_lossy()),
            pension::warehouse::lit(&args.out.join(format!("{i:05}.parquet")).to_string_lossy())
        );
        conn.execute_batch(&sql)
            .with_context(|| format!("DuckDB reference on {}", f.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_measured(what: &str, m: &Measured) {
    println!(
        "  {what:<44} {:>8.1} s  peak {:>6} MiB",
        m.wall.as_secs_f64(),
        m.max_rss_kb / 1024
    );
}

/// The report package on the ingest bench's warehouse: ledger and audit first when
/// the warehouse has none, then `report --dashboard`, each in its own process.
fn run_report(args: &Args, goals: &mut Goals) -> anyhow::Result<()> {
    let wh = args.work.join("warehouse-ours");
    let month = args.month.to_string();
    let manifest = Manifest::load(&wh).with_context(|| {
        format!(
            "{}: run `pipeline bench --persons N` (the ingest bench) first",
            wh.display()
        )
    })?;
    let exe = std::env::current_exe()?;
    let stage = |args_: &[&str]| {
        let mut c = Command::new(&exe);
        c.arg("--warehouse").arg(&wh).args(args_);
        c
    };
    println!(
        "report bench on {} ({} files ingested), month {}",
        wh.display(),
        manifest.files.len(),
        month
    );
    if !manifest.derived.contains_key("account_event") {
        let m = run_measured(&mut stage(&["ledger", "--through", &month]))?;
        print_measured("pipeline ledger", &m);
        goals.stage("ledger", &m, Some(30.0));
    }
    // The bank reconciliation (issue 30: ≤ 10 s, ≤ 2 GB at 1M persons), measured at
    // every run, beside the audit, which runs it again first (its time is in the
    // audit's figure too).
    let m = run_measured(&mut stage(&["reconcile", "--month", &month]))?;
    print_measured("pipeline reconcile (bank reconciliation)", &m);
    goals.stage_peak("bank reconciliation", &m, Some(10.0), 2048);
    if !manifest.derived.contains_key("findings") {
        let m = run_measured(&mut stage(&["audit", "--month", &month]))?;
        print_measured("pipeline audit (first run after ingest)", &m);
        goals.stage("audit", &m, Some(30.0));
    }
    let out = args.work.join(format!("report-{}", month));
    let page = args.work.join(format!("dashboard-{}.html", month));
    let _ = std::fs::remove_dir_all(&out);
    let m = run_measured(&mut stage(&[
        "report",
        "--month",
        &month,
        "--out",
        &out.to_string_lossy(),
        "--dashboard",
        &page.to_string_lossy(),
    ]))?;
    let files = pension::warehouse::walk(&out);
    let bytes: u64 = files
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("| run | seconds | peak MiB | files | MB |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| pipeline report --dashboard (workbook, CSVs, PNG+SVG charts, dashboard) | {:.1} | {} | {} | {:.1} |",
        m.wall.as_secs_f64(),
        m.max_rss_kb / 1024,
        files.len() + 1,
        (bytes + page.metadata().map(|m| m.len()).unwrap_or(0)) as f64 / 1e6
    );
    goals.stage("monthly report package", &m, Some(10.0));
    // The annual package of the last complete year and next year's fund plan
    // (issue 19), each in its own process on the same warehouse.
    let year = (args.month.year() - 1).to_string();
    let next = (args.month.year() + 1).to_string();
    for (what, cmd, period) in [
        (
            "pipeline report --year (annual package 年报)",
            "report",
            ["--year", year.as_str()],
        ),
        (
            "pipeline plan --year (fund plan 附表十四)",
            "plan",
            ["--year", next.as_str()],
        ),
    ] {
        let out = args.work.join(format!("{cmd}-{}", period[1]));
        let _ = std::fs::remove_dir_all(&out);
        let m = run_measured(&mut stage(&[
            cmd,
            period[0],
            period[1],
            "--out",
            &out.to_string_lossy(),
        ]))?;
        let files = pension::warehouse::walk(&out);
        let bytes: u64 = files
            .iter()
            .filter_map(|p| p.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!(
            "| {what} {} | {:.1} | {} | {} | {:.1} |",
            period[1],
            m.wall.as_secs_f64(),
            m.max_rss_kb / 1024,
            files.len(),
            bytes as f64 / 1e6
        );
        goals.stage(&format!("{cmd} --year {}", period[1]), &m, None);
    }
    Ok(())
}
