//! The workbench under load, as `pipeline bench --stage serve` measures it: a small
//! HTTP/1.1 client that signs in as a browser does (the sign-in form's CSRF token,
//! the session cookie, connections kept alive), the pages to ask for chosen from
//! the warehouse, and their timings. The client is a few dozen lines over a
//! loopback socket rather than a crate: the protocol is plain text, and the build
//! gains nothing to compile.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::schema::Catalog;
use crate::warehouse::{connect, relation_exists, Warehouse};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("talking to the server: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("query engine (DuckDB): {0}")]
    Sql(#[from] duckdb::Error),
    #[error("signing in as {name} failed: {why}")]
    SignIn { name: String, why: String },
    #[error(
        "the warehouse has no findings to page through; run `pipeline audit --month YYYY-MM` first"
    )]
    NoFindings,
}

/// One answer: the status, where a redirect points, the body.
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// An HTTP/1.1 client of one server with a cookie jar and one kept-alive connection.
pub struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    cookies: Vec<(String, String)>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            conn: None,
            cookies: Vec::new(),
        }
    }

    /// A cookie the server set.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sends a cookie from now on (a browser's, carried over).
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        keep_cookie(&mut self.cookies, &format!("{name}={value}"));
    }

    pub fn get(&mut self, path: &str) -> std::io::Result<Answer> {
        self.request("GET", path, None)
    }

    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> std::io::Result<Answer> {
        let body = serde_urlencoded::to_string(fields).map_err(std::io::Error::other)?;
        self.request("POST", path, Some(&body))
    }

    /// One exchange; a kept connection the server has closed meanwhile fails on its
    /// first use, so that case is tried once more on a new connection.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        form: Option<&str>,
    ) -> std::io::Result<Answer> {
        let reused = self.conn.is_some();
        match self.exchange(method, path, form) {
            Err(_) if reused => {
                self.conn = None;
                self.exchange(method, path, form)
            }
            other => other,
        }
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        form: Option<&str>,
    ) -> std::io::Result<Answer> {
        let conn = match &mut self.conn {
            Some(c) => c,
            None => {
                let s = TcpStream::connect(self.addr)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_secs(600)))?;
                self.conn.insert(BufReader::new(s))
            }
        };
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        let body = form.unwrap_or("");
        if form.is_some() {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let stream = conn.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        let answer = read_answer(conn, &mut self.cookies);
        if !matches!(answer, Ok((_, true))) {
            // Closed by the server, or in an unknown state after an error.
            self.conn = None;
        }
        answer.map(|(a, _)| a)
    }
}

fn eof(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_string())
}

/// Reads one response; the flag says whether the connection stays open.
fn read_answer(
    conn: &mut BufReader<TcpStream>,
    cookies: &mut Vec<(String, String)>,
) -> std::io::Result<(Answer, bool)> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(eof("the server closed the connection"));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP status line: {line:?}")))?;
    let (mut length, mut chunked, mut keep, mut location) = (None, false, true, None);
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(eof("the server closed the connection in the headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => keep = !value.eq_ignore_ascii_case("close"),
            "location" => location = Some(value.to_string()),
            "set-cookie" => keep_cookie(cookies, value),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            conn.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other("a bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while {
                    line.clear();
                    conn.read_line(&mut line)? > 0 && !line.trim().is_empty()
                } {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            conn.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            conn.read_exact(&mut crlf)?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        conn.read_exact(&mut body)?;
    } else {
        conn.read_to_end(&mut body)?;
        keep = false;
    }
    Ok((
        Answer {
            status,
            location,
            body,
        },
        keep,
    ))
}

/// Keeps a `Set-Cookie` (or forgets the cookie when it is cleared).
fn keep_cookie(jar: &mut Vec<(String, String)>, header: &str) {
    let mut parts = header.split(';');
    let Some((name, value)) = parts.next().and_then(|kv| kv.trim().split_once('=')) else {
        return;
    };
    jar.retain(|(k, _)| k != name);
    let cleared = value.is_empty() || parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
    if !cleared {
        jar.push((name.to_string(), value.to_string()));
    }
}

/// Signs in as a browser does: the form (and its CSRF cookie), then the POST.
pub fn sign_in(client: &mut Client, name: &str, password: &str) -> Result<(), BenchError> {
    let fail = |why: String| BenchError::SignIn {
        name: name.to_string(),
        why,
    };
    let form = client.get("/login")?;
    let page = String::from_utf8_lossy(&form.body);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| fail(format!("no sign-in form (status {})", form.status)))?
        .to_string();
    let answer = client.post_form(
        "/login",
        &[("csrf", &csrf), ("name", name), ("password", password)],
    )?;
    match answer.location.as_deref() {
        Some(to) if answer.status == 303 && !to.starts_with("/login") => Ok(()),
        _ => Err(fail(format!(
            "status {}, {}",
            answer.status,
            if String::from_utf8_lossy(&answer.body).contains("用户名或密码错误") {
                "wrong name or password"
            } else {
                "no session"
            }
        ))),
    }
}

/// The kinds of page the bench asks for, with the mark a good answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    List,
    Finding,
    Person,
    Dashboard,
}

impl Page {
    pub const ALL: [Page; 4] = [Page::List, Page::Finding, Page::Person, Page::Dashboard];

    pub fn name(self) -> &'static str {
        match self {
            Page::List => "findings list",
            Page::Finding => "a finding's page",
            Page::Person => "a person's page",
            Page::Dashboard => "dashboard (drill-down)",
        }
    }

    /// An element id every complete page of the kind has.
    fn mark(self) -> &'static str {
        match self {
            Page::List => "id=\"total\"",
            Page::Finding => "id=\"finding-id\"",
            Page::Person => "id=\"records-",
            Page::Dashboard => "id=\"drill\"",
        }
    }
}

/// Latencies of one kind of request, and the requests that failed (a transport
/// error, a status other than 200, or a page without its mark).
#[derive(Debug, Default, Clone)]
pub struct Timings {
    pub times: Vec<Duration>,
    pub errors: usize,
    /// The first failure, to be shown.
    pub first_error: Option<String>,
}

impl Timings {
    pub fn add(&mut self, other: &Timings) {
        self.times.extend_from_slice(&other.times);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }

    /// The value at quantile `q` (nearest rank), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.times.is_empty() {
            return f64::NAN;
        }
        let mut t = self.times.clone();
        t.sort();
        let rank = ((q * t.len() as f64).ceil() as usize).clamp(1, t.len());
        t[rank - 1].as_secs_f64() * 1000.0
    }

    pub fn requests(&self) -> usize {
        self.times.len() + self.errors
    }
}

/// Asks for `path` and times it; a failure is counted, not raised.
pub fn timed(client: &mut Client, page: Page, path: &str, into: &mut Timings) {
    let t = Instant::now();
    let outcome = match client.get(path) {
        Ok(a) if a.status == 200 && contains(&a.body, page.mark()) => Ok(()),
        Ok(a) => Err(format!(
            "{path}: status {}{}",
            a.status,
            a.location
                .map(|l| format!(" → {l}"))
                .unwrap_or_else(|| " (page incomplete)".into())
        )),
        Err(e) => Err(format!("{path}: {e}")),
    };
    match outcome {
        Ok(()) => into.times.push(t.elapsed()),
        Err(e) => {
            into.errors += 1;
            into.first_error.get_or_insert(e);
        }
    }
}

fn contains(body: &[u8], mark: &str) -> bool {
    body.windows(mark.len()).any(|w| w == mark.as_bytes())
}

/// What the bench asks for, chosen from the warehouse: the check and township with
/// the most findings (a filter a clerk uses), persons and findings spread over the
/// county, the townships.
#[derive(Debug, Clone)]
pub struct Plan {
    pub findings: i64,
    pub persons_enrolled: i64,
    /// (check, township, findings they select)
    pub filter: (String, String, i64),
    pub finding_ids: Vec<String>,
    /// Persons who have findings.
    pub persons: Vec<String>,
    pub townships: Vec<String>,
}

fn column(conn: &duckdb::Connection, sql: &str) -> Result<Vec<String>, BenchError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Plan {
    pub fn from_warehouse(wh_dir: &Path, catalog: &Catalog) -> Result<Plan, BenchError> {
        let wh = Warehouse::open_read(wh_dir)?;
        let conn = connect(&wh, catalog)?;
        if !relation_exists(&conn, "findings")? {
            return Err(BenchError::NoFindings);
        }
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
        let findings = count("SELECT count(*) FROM findings")?;
        if findings == 0 {
            return Err(BenchError::NoFindings);
        }
        let filter = conn.query_row(
            "SELECT check_code, township, count(*) AS n FROM findings WHERE township IS NOT NULL
             GROUP BY ALL ORDER BY n DESC, check_code, township LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        // Spread over the county by a hash, the same every run.
        let finding_ids = column(
            &conn,
            "SELECT finding_id FROM findings ORDER BY hash(finding_id) LIMIT 500",
        )?;
        let persons = column(
            &conn,
            "SELECT person_no FROM (SELECT DISTINCT person_no FROM findings WHERE person_no IS NOT NULL)
             ORDER BY hash(person_no) LIMIT 500",
        )?;
        let townships = column(
            &conn,
            "SELECT DISTINCT township FROM findings WHERE township IS NOT NULL ORDER BY 1",
        )?;
        Ok(Plan {
            findings,
            persons_enrolled: count("SELECT count(DISTINCT person_no) FROM enrollment")?,
            filter,
            finding_ids,
            persons,
            townships,
        })
    }
}

/// The address of a findings list page with its filter.
pub fn list_path(filters: &[(&str, &str)], page: i64) -> String {
    let mut pairs: Vec<(&str, String)> = filters
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    pairs.push(("page", page.to_string()));
    format!(
        "/findings?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// The number of list pages for `n` findings.
pub fn pages(n: i64) -> i64 {
    ((n + super::findings::PAGE_SIZE - 1) / super::findings::PAGE_SIZE).max(1)
}

/// A small deterministic generator (xorshift) for the mixed load: each client its
/// own sequence, no dependency.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// One request of the mixed load: a list (a township's findings, a page among the
/// first ten), a finding, a person, or the dashboard (county or a township).
pub fn mixed_request(plan: &Plan, dice: &mut Dice) -> (Page, String) {
    let pick = |v: &[String], d: &mut Dice| v[d.below(v.len())].clone();
    match dice.below(20) {
        0..=6 => {
            let township = pick(&plan.townships, dice);
            let page = dice.below(10) as i64 + 1;
            (
                Page::List,
                list_path(&[("township", township.as_str())], page),
            )
        }
        7..=11 => (
            Page::Finding,
            format!("/findings/{}", pick(&plan.finding_ids, dice)),
        ),
        12..=16 => (
            Page::Person,
            format!("/persons/{}", pick(&plan.persons, dice)),
        ),
        _ => {
            let path = if dice.below(2) == 0 {
                "/dashboard".to_string()
            } else {
                format!(
                    "/dashboard?{}",
                    serde_urlencoded::to_string([("township", pick(&plan.townships, dice))])
                        .unwrap_or_default()
                )
            };
            (Page::Dashboard, path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let t = Timings {
            times: (1..=100).map(Duration::from_millis).collect(),
            ..Timings::default()
        };
        assert_eq!(t.quantile_ms(0.5), 50.0);
        assert_eq!(t.quantile_ms(0.95), 95.0);
        assert_eq!(t.quantile_ms(1.0), 100.0);
        let one = Timings {
            times: vec![Duration::from_millis(7)],
            ..Timings::default()
        };
        assert_eq!(one.quantile_ms(0.95), 7.0);
    }

    #[test]
    fn cookies_are_kept_replaced_and_cleared() {
        let mut jar = Vec::new();
        keep_cookie(&mut jar, "pipeline_login=abc; Path=/login; HttpOnly");
        keep_cookie(
            &mut jar,
            "pipeline_session=s1; Path=/; HttpOnly; SameSite=Strict",
        );
        keep_cookie(&mut jar, "pipeline_session=s2; Path=/");
        keep_cookie(&mut jar, "pipeline_login=; Path=/login; Max-Age=0");
        assert_eq!(jar, vec![("pipeline_session".into(), "s2".into())]);
    }

    #[test]
    fn list_addresses_carry_the_filter_and_page() {
        assert_eq!(
            list_path(
                &[
                    ("check", "PAID_AFTER_DEATH"),
                    ("township", "竹沟镇"),
                    ("status", "")
                ],
                3
            ),
            "/findings?check=PAID_AFTER_DEATH&township=%E7%AB%B9%E6%B2%9F%E9%95%87&page=3"
        );
        assert_eq!(pages(0), 1);
        assert_eq!(pages(50), 1);
        assert_eq!(pages(51), 2);
    }
}
