//! `pipeline synth`: the synthetic county.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::synth::province::generate_province;
use crate::synth::{generate, SynthConfig};
use anyhow::Context;
use pension::domain::Month;

/// Generate a synthetic county with known injected audit cases.
///
/// Population, registries, years of contributions
/// and payouts in the mixed encodings, header languages and formats that really
/// arrive — with a known number of injected audit cases. The answer key
/// (ground truth, look-alikes, file list) is written to DIR/_truth/, which
/// `ingest` skips.
#[derive(clap::Args)]
pub struct Args {
    /// Population of the county register.
    #[arg(long, default_value_t = 2000)]
    persons: u32,
    /// Random seed: the same seed and size give byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Last month of data, YYYY-MM.
    #[arg(long, default_value = "2026-10", value_name = "YYYY-MM")]
    through: Month,
    /// The county's region code (行政区划代码): 411725 (确山县) or a neighbour
    /// 411721–411729, whose residents' ID numbers and person numbers start with it
    /// (a province test holds several counties).
    #[arg(long, default_value = "411725", value_name = "CODE")]
    region: String,
    /// Two counties of one province instead of one: --region (seed --seed) and
    /// --second-region (seed --seed + 1) in DIR/<region>/, with persons known to
    /// both — enrolled in both, paid by both, paid by one after dying in the other —
    /// and their answer key in DIR/_truth/cross_county.csv (`pipeline province`).
    #[arg(long)]
    province: bool,
    /// The second county of --province.
    #[arg(long, default_value = "411726", value_name = "CODE")]
    second_region: String,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cfg = SynthConfig {
        persons: args.persons,
        seed: args.seed,
        through_year: args.through.year(),
        through_month: args.through.month(),
        // One county per process: the code lives as long as the run.
        region: Box::leak(args.region.into_boxed_str()),
    };
    let started = std::time::Instant::now();
    if args.province {
        let second = SynthConfig {
            seed: cfg.seed + 1,
            region: Box::leak(args.second_region.into_boxed_str()),
            ..cfg.clone()
        };
        let report = generate_province(&cfg, &second, &args.out).with_context(|| {
            format!(
                "generating the synthetic province in {}",
                args.out.display()
            )
        })?;
        for (region, r) in &report.counties {
            let rows: u64 = r.files.iter().map(|f| f.rows).sum();
            println!(
                "county {region}: {} persons, {} files, {} rows → {}",
                r.persons,
                r.files.len(),
                rows,
                args.out.join(region).display()
            );
        }
        println!(
            "cross-county cases (DIR/_truth/cross_county.csv), in {:.1} s:",
            started.elapsed().as_secs_f64()
        );
        for c in &report.cases {
            println!("  {:<28} {} {}", c.code, c.county, c.other_county);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = generate(&cfg, &args.out)
        .with_context(|| format!("generating the synthetic county in {}", args.out.display()))?;
    let rows: u64 = report.files.iter().map(|f| f.rows).sum();
    println!(
        "synthetic county: {} persons, {} files, {} rows in {:.1} s → {}",
        report.persons,
        report.files.len(),
        rows,
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    println!("injected audit cases (ground-truth rows):");
    for (code, n) in &report.injected {
        println!("  {code:<22} {n}");
    }
    println!(
        "look-alikes that must not be flagged: {}",
        report.lookalikes
    );
    Ok(ExitCode::SUCCESS)
}
