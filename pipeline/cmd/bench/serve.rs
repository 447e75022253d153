//! `pipeline bench --stage serve`: the workbench's answer times over an existing
//! warehouse. `pipeline serve` runs as a child on a free loopback port (so its peak
//! memory is its own, read from wait4) with a throw-away auditor account in a
//! temporary accounts file — a random password, never shown, the file removed
//! after — and a client signs in over HTTP as a browser does
//! (pension::serve::bench), then times:
//!
//! - the findings list with a filter (the check and township with the most
//!   findings, their last page) and unfiltered at its deepest page, 50 times each;
//! - 50 persons' pages (persons with findings) and 50 findings' pages;
//! - --clients users at once, each signed in, mixing lists, findings, persons and
//!   dashboards for --seconds.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pension::serve::auth::{self, Role};
use pension::serve::bench::{
    list_path, mixed_request, pages, sign_in, timed, Client, Dice, Page, Plan, Timings,
};

use super::Args;

/// The server child and its temporary folder (the accounts file, the server's
/// messages): stopped and removed however the bench ends.
struct Server {
    child: Option<Child>,
    dir: PathBuf,
}

impl Server {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops the server (SIGTERM) and returns its peak RSS in KiB.
    fn stop(&mut self) -> anyhow::Result<u64> {
        let Some(child) = self.child.take() else {
            bail!("the server was already stopped");
        };
        let pid = child.id() as libc::pid_t;
        // SAFETY: signals and reaps our own child; a zeroed rusage is a valid
        // out-parameter, and std does not wait for the dropped Child again.
        let (r, usage) = unsafe {
            libc::kill(pid, libc::SIGTERM);
            let mut status: libc::c_int = 0;
            let mut usage: libc::rusage = std::mem::zeroed();
            (libc::wait4(pid, &mut status, 0, &mut usage), usage)
        };
        anyhow::ensure!(r == pid, "waiting for the server failed");
        Ok(usage.ru_maxrss as u64)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `pipeline serve` over the warehouse with a one-account accounts file;
/// returns the server, its address, the account and its password.
fn start(wh_dir: &Path) -> anyhow::Result<(Server, SocketAddr, String, String)> {
    let dir = std::env::temp_dir().join(format!("pipeline-bench-serve-{}", &auth::token()[..16]));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut server = Server { child: None, dir };
    let accounts = server.dir.join("users.json");
    let name = format!("bench-{}", pension::oplog::current_user());
    let password = auth::token();
    auth::add_user_to(&accounts, &name, Role::Auditor, &password, &name)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let log = std::fs::File::create(server.dir.join("serve.log"))?;
    let child = Command::new(std::env::current_exe()?)
        .arg("--warehouse")
        .arg(wh_dir)
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--idle-timeout",
            "2h",
        ])
        .arg("--accounts")
        .arg(&accounts)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting pipeline serve")?;
    let child = server.child.insert(child);
    let t = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!(
                "pipeline serve ended before listening ({status}):\n{}",
                server.log_tail()
            );
        }
        anyhow::ensure!(
            t.elapsed() < Duration::from_secs(60),
            "pipeline serve did not listen on {addr} within a minute"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((server, addr, name, password))
}

/// One line of the table: what, requests, errors, median, p95, max, goal.
fn line(what: &str, t: &Timings, goal: Option<f64>) -> String {
    let median = t.quantile_ms(0.5);
    let verdict = match goal {
        Some(g) if t.errors == 0 && median < g => format!("median < {g:.0} ms: met"),
        Some(g) => format!("median < {g:.0} ms: NOT met"),
        None => String::new(),
    };
    format!(
        "| {what} | {} | {} | {median:.1} | {:.1} | {:.1} | {verdict} |",
        t.requests(),
        t.errors,
        t.quantile_ms(0.95),
        t.quantile_ms(1.0)
    )
}

/// The same address `n` times.
fn repeat(client: &mut Client, page: Page, path: &str, n: usize) -> Timings {
    let mut t = Timings::default();
    for _ in 0..n {
        timed(client, page, path, &mut t);
    }
    t
}

/// `clients` users signed in at once, each asking for a mix of pages for `secs`:
/// per kind of page, and the wall time of the load.
fn mixed(
    addr: SocketAddr,
    plan: &Arc<Plan>,
    (name, password): (&str, &str),
    clients: usize,
    secs: u64,
) -> anyhow::Result<(Vec<Timings>, Duration)> {
    let barrier = Arc::new(Barrier::new(clients + 1));
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let (plan, barrier) = (plan.clone(), barrier.clone());
            let (name, password) = (name.to_string(), password.to_string());
            std::thread::spawn(move || -> anyhow::Result<Vec<Timings>> {
                let mut client = Client::new(addr);
                let signed = sign_in(&mut client, &name, &password);
                barrier.wait();
                signed?;
                let mut dice = Dice::new(i as u64 + 1);
                let mut by_page = vec![Timings::default(); Page::ALL.len()];
                let end = Instant::now() + Duration::from_secs(secs);
                while Instant::now() < end {
                    let (page, path) = mixed_request(&plan, &mut dice);
                    let k = Page::ALL.iter().position(|p| *p == page).unwrap_or(0);
                    timed(&mut client, page, &path, &mut by_page[k]);
                }
                Ok(by_page)
            })
        })
        .collect();
    // Everyone signed in (Argon2id, seconds in a debug build) before the clock starts.
    barrier.wait();
    let t = Instant::now();
    let mut by_page = vec![Timings::default(); Page::ALL.len()];
    for h in handles {
        let got = h
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))??;
        for (all, one) in by_page.iter_mut().zip(&got) {
            all.add(one);
        }
    }
    Ok((by_page, t.elapsed()))
}

pub fn run(ctx: &crate::cmd::Ctx, args: &Args) -> anyhow::Result<ExitCode> {
    let wh_dir = ctx.warehouse_dir();
    anyhow::ensure!(
        wh_dir.join("manifest.json").exists(),
        "{} is not a warehouse; pass --warehouse W (ingested, then ledger and audit run)",
        wh_dir.display()
    );
    let plan = Arc::new(
        Plan::from_warehouse(wh_dir, &ctx.catalog()?)
            .with_context(|| format!("choosing the pages to ask for in {}", wh_dir.display()))?,
    );
    // The server makes missing person copies in the background when it starts; made
    // here first, so that the pages are timed as they are once it has.
    let t = std::time::Instant::now();
    let copies = pension::warehouse::by_person::refresh(wh_dir, &ctx.catalog()?)
        .with_context(|| format!("making the person copies of {}", wh_dir.display()))?;
    for c in &copies {
        println!(
            "person copy of {}: {} rows in {:.1} s",
            c.kind, c.rows, c.seconds
        );
    }
    if !copies.is_empty() {
        println!("person copies made in {:.1} s", t.elapsed().as_secs_f64());
    }
    let (mut server, addr, name, password) = start(wh_dir)?;
    println!(
        "serve bench on {}: {} findings, {} persons enrolled; {} build, {} cores; server on {addr}",
        wh_dir.display(),
        plan.findings,
        plan.persons_enrolled,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    let mut rows = Vec::new();
    let mut client = Client::new(addr);
    let t = Instant::now();
    sign_in(&mut client, &name, &password)
        .with_context(|| format!("server messages:\n{}", server.log_tail()))?;
    let mut signing = Timings::default();
    signing.times.push(t.elapsed());
    rows.push(line(
        "sign-in (Argon2id check of the password)",
        &signing,
        None,
    ));
    rows.push(line(
        "first page after the start (opens the warehouse's DuckDB session)",
        &repeat(&mut client, Page::List, "/findings", 1),
        None,
    ));
    rows.push(line(
        "dashboard, first view of the month (report tables computed, then cached)",
        &repeat(&mut client, Page::Dashboard, "/dashboard", 1),
        None,
    ));

    let (check, township, n) = &plan.filter;
    let last = pages(*n);
    let filtered = list_path(&[("check", check), ("township", township)], last);
    let a = repeat(&mut client, Page::List, &filtered, 50);
    rows.push(line(
        &format!("(a) findings list, check {check} + township {township} ({n} findings), page {last} of {last}"),
        &a,
        Some(300.0),
    ));
    let deepest = pages(plan.findings);
    rows.push(line(
        &format!(
            "(a) findings list, no filter ({} findings), page {deepest} of {deepest}",
            plan.findings
        ),
        &repeat(&mut client, Page::List, &list_path(&[], deepest), 50),
        Some(300.0),
    ));
    let mut b = Timings::default();
    for p in plan.persons.iter().take(50) {
        timed(&mut client, Page::Person, &format!("/persons/{p}"), &mut b);
    }
    rows.push(line(
        &format!(
            "(b) a person's page, {} persons with findings",
            plan.persons.len().min(50)
        ),
        &b,
        Some(500.0),
    ));
    let mut f = Timings::default();
    for id in plan.finding_ids.iter().take(50) {
        timed(
            &mut client,
            Page::Finding,
            &format!("/findings/{id}"),
            &mut f,
        );
    }
    rows.push(line(
        &format!(
            "(b) a finding's page (evidence, records beside), {} findings",
            plan.finding_ids.len().min(50)
        ),
        &f,
        Some(500.0),
    ));

    let (by_page, wall) = mixed(addr, &plan, (&name, &password), args.clients, args.seconds)?;
    let mut all = Timings::default();
    for t in &by_page {
        all.add(t);
    }
    rows.push(line(
        &format!(
            "(c) {} users at once, {:.1} s, mixed pages: all ({:.1} requests/s)",
            args.clients,
            wall.as_secs_f64(),
            all.requests() as f64 / wall.as_secs_f64()
        ),
        &all,
        None,
    ));
    for (page, t) in Page::ALL.iter().zip(&by_page) {
        rows.push(line(&format!("(c) … {}", page.name()), t, None));
    }
    let rss = server.stop()?;

    println!("| request | requests | errors | median ms | p95 ms | max ms | goal |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for r in &rows {
        println!("{r}");
    }
    println!(
        "server peak RSS: {} MiB (the whole run, from wait4)",
        rss / 1024
    );
    println!(
        "(the bench's account `{name}` signed in and viewed persons and findings: the warehouse's operator log records it)"
    );
    let failed: Vec<String> = [&a, &b, &f, &all]
        .iter()
        .filter_map(|t| t.first_error.clone())
        .collect();
    if all.errors > 0 || !failed.is_empty() {
        println!("requests failed; the first: {}", failed.join("; "));
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
