//! `pipeline serve` driven by a real headless Chromium through WebDriver
//! (Debian's chromium-driver; .ci/run installs it): signing in as each role, a
//! leader refused a finding's and a person's page, an auditor filtering, opening and
//! confirming a finding (history and operator log show it), a second change on the
//! same finding refused, a POST without the CSRF token refused, an expired session
//! sent back to sign-in, Chinese text intact.
//!
//! The WebDriver client is a few lines of HTTP/JSON over a local TCP socket (the
//! protocol is plain HTTP), so the tests need no extra crate.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{pipeline, samples, succeeds, Fixture};

const MONTH: &str = "2026-10";
const PASSWORD: &str = "密码-Secret-2026";

/// (account, role)
const ACCOUNTS: &[(&str, &str)] = &[
    ("director", "leader"),
    ("stat1", "statistician"),
    ("aud1", "auditor"),
    ("aud2", "auditor"),
    ("admin1", "admin"),
];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A child process ended with the test (or, for the shared server and chromedriver
/// held in a static that is never dropped, when the test binary exits).
struct Running(Child);

static CHILDREN: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

extern "C" fn kill_children() {
    if let Ok(pids) = CHILDREN.lock() {
        for &pid in pids.iter() {
            // SAFETY: signals a process this binary started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Records a child to be killed at exit (the test harness leaves through exit()).
fn reap_at_exit(child: &Child) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a plain function without captured state.
    ONCE.call_once(|| unsafe {
        libc::atexit(kill_children);
    });
    CHILDREN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(child.id() as i32);
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 exchange on 127.0.0.1 (Connection: close): status, headers, body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(300))).ok();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send");
    s.write_all(body).expect("send body");
    // Read the head, then exactly the body: a server may keep the connection open.
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "the connection closed before a response head");
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let lower = head.to_ascii_lowercase();
    let length = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = lower.contains("transfer-encoding: chunked");
    let mut content = raw[split + 4..].to_vec();
    loop {
        let complete = match length {
            Some(n) => content.len() >= n,
            None if chunked => content.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        content.extend_from_slice(&buf[..n]);
    }
    if chunked {
        content = dechunk(&content);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (status, head, content)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
    out
}

/// The shared setting: the sample county through ledger and audit, the accounts,
/// one server (30-minute sessions) and chromedriver. None when there is no browser.
struct World {
    fx: &'static Fixture,
    port: u16,
    driver: u16,
    _server: Running,
    _chromedriver: Running,
}

fn browser_paths() -> Option<(PathBuf, PathBuf)> {
    let chromium = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some("/usr/bin/chromium".into()),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_file())?;
    let driver = [
        std::env::var_os("CHROMEDRIVER").map(PathBuf::from),
        Some("/usr/bin/chromedriver".into()),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.is_file())?;
    Some((chromium, driver))
}

fn serve(wh: &Path, port: u16, idle: &str) -> Running {
    let mut child = pipeline(wh)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--idle-timeout",
            idle,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pipeline serve starts");
    reap_at_exit(&child);
    wait_for_port(port, &mut child, "pipeline serve");
    Running(child)
}

/// One test at a time on the shared county (tests change findings' statuses), and
/// one browser at a time (several Chromiums starting at once on a 2-core machine
/// time out).
fn turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The world, and a turn.
fn world() -> Option<(&'static World, std::sync::MutexGuard<'static, ()>)> {
    let turn = turn();
    Some((setting()?, turn))
}

/// The sample county through ledger and audit, with the accounts (no browser needed).
fn county() -> &'static Fixture {
    static C: OnceLock<Fixture> = OnceLock::new();
    C.get_or_init(|| {
        let fx = Fixture::new();
        assert!(
            fx.ingest(&[samples().join("county")]).committed,
            "the sample county ingests"
        );
        crate::common::ledger_through(&fx, MONTH);
        crate::common::audit_month(&fx, MONTH);
        for (name, role) in ACCOUNTS {
            let mut cmd = pipeline(&fx.wh_dir());
            cmd.args(["user", "add", name, "--role", role, "--password-stdin"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("user add starts");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{PASSWORD}\n").as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        fx
    })
}

fn setting() -> Option<&'static World> {
    static W: OnceLock<Option<World>> = OnceLock::new();
    W.get_or_init(|| {
        let Some((_, driver_bin)) = browser_paths() else {
            assert!(
                std::env::var_os("PIPELINE_REQUIRE_BROWSER").is_none(),
                "chromium and chromedriver are needed: apt-get install chromium chromium-driver (as .ci/run does)"
            );
            eprintln!("SKIPPED the web tests: no chromium/chromedriver (apt-get install chromium chromium-driver)");
            return None;
        };
        let fx = county();
        let port = free_port();
        let server = serve(&fx.wh_dir(), port, "30m");
        let driver = free_port();
        let mut child = Command::new(driver_bin)
            .arg(format!("--port={driver}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        reap_at_exit(&child);
        wait_for_port(driver, &mut child, "chromedriver");
        Some(World { fx, port, driver, _server: server, _chromedriver: Running(child) })
    })
    .as_ref()
}

/// One headless Chromium (a fresh profile) driven through WebDriver.
struct Browser {
    driver: u16,
    session: String,
    base: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn new(w: &World, port: u16) -> Browser {
        let (chromium, _) = browser_paths().expect("checked by world()");
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1400,1000",
                     format!("--user-data-dir={}", profile.path().display())]}}}});
        let v = wd(w.driver, "POST", "/session", Some(caps));
        let session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a WebDriver session: {v}"))
            .to_string();
        Browser {
            driver: w.driver,
            session,
            base: format!("http://127.0.0.1:{port}"),
            _profile: profile,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        wd(
            self.driver,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    fn go(&self, path: &str) {
        self.cmd(
            "POST",
            "/url",
            Some(json!({"url": format!("{}{path}", self.base)})),
        );
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn path(&self) -> String {
        self.url().trim_start_matches(&self.base).to_string()
    }

    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn text(&self) -> String {
        self.js("return document.body.innerText;")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css} on {}: {v}", self.url()))
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        );
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
    }

    /// Waits until the address contains `part` (a form submitted by a click may
    /// still be loading when the click returns).
    fn wait_url(&self, part: &str) {
        let t = Instant::now();
        while !self.url().contains(part) {
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "the page did not reach {part}: {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.js("return document.readyState;");
    }

    /// Clicks a button that loads a new page and waits until the new page is there
    /// (a click returns before the form's answer arrives).
    fn submit(&self, css: &str) {
        self.js("window.__before_submit = true;");
        self.click(css);
        let t = Instant::now();
        loop {
            let v = self.js("return typeof window.__before_submit === 'undefined' && document.readyState === 'complete';");
            if v.as_bool() == Some(true) {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "no new page after clicking {css}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn sign_in(&self, name: &str) {
        self.go("/login");
        self.type_into("#name", name);
        self.type_into("#password", PASSWORD);
        self.submit("#sign-in");
    }

    /// With PIPELINE_WEB_SCREENSHOTS=DIR, saves the page as DIR/NAME.png (how the
    /// README's screenshots are made).
    fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("PIPELINE_WEB_SCREENSHOTS") else {
            return;
        };
        let v = self.cmd("GET", "/screenshot", None);
        let png = base64_decode(v.as_str().expect("a screenshot"));
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png)
            .expect("screenshot written");
    }

    /// The session cookie (HttpOnly: the page cannot read it, WebDriver can).
    fn session_cookie(&self) -> String {
        let v = self.cmd("GET", "/cookie/pipeline_session", None);
        v["value"].as_str().expect("a session cookie").to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        wd(
            self.driver,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !matches!(c, b'=' | b'\n' | b'\r'))
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | (value(c) as u32) << (18 - 6 * i));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    out
}

fn wd(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let (_, _, out) = http(
        port,
        method,
        path,
        &[("Content-Type", "application/json".into())],
        &bytes,
    );
    let v: Value = serde_json::from_slice(&out).unwrap_or_else(|e| panic!("WebDriver {path}: {e}"));
    v["value"].clone()
}

fn sql(w: &World, query: &str) -> Vec<Vec<String>> {
    w.fx.rows(query)
}

#[test]
fn each_role_signs_in_to_its_own_pages() {
    let Some((w, _turn)) = world() else { return };
    // (account, first page, a page it may open, a page it may not)
    let cases = [
        ("director", "/dashboard", "/reports", "/findings"),
        ("stat1", "/dashboard", "/reports", "/persons"),
        ("aud1", "/findings", "/persons", "/admin/log"),
        ("admin1", "/admin/users", "/admin/log", "/findings"),
    ];
    for (name, home, open, closed) in cases {
        let b = Browser::new(w, w.port);
        b.sign_in(name);
        assert_eq!(b.path(), home, "{name} lands on {home}");
        assert!(b.text().contains(name), "{name}'s name is shown on {home}");
        b.go(open);
        assert!(!b.text().contains("无权访问"), "{name} may open {open}");
        b.go(closed);
        assert!(
            b.text().contains("无权访问"),
            "{name} is refused {closed}: {}",
            b.text()
        );
        // Signing out ends the session: the next page asks to sign in.
        b.go(home);
        b.submit("nav form button");
        b.go(home);
        assert!(
            b.path().starts_with("/login"),
            "{name} signed out: {}",
            b.path()
        );
    }
    let b = Browser::new(w, w.port);
    b.go("/login");
    b.type_into("#name", "aud1");
    b.type_into("#password", "wrong password");
    b.submit("#sign-in");
    assert!(
        b.text().contains("用户名或密码错误"),
        "a wrong password is refused"
    );
    let failed = sql(
        w,
        "SELECT count(*) FROM operator_log WHERE action = 'sign_in_failed' AND who = 'aud1'",
    );
    assert_eq!(
        failed[0][0], "1",
        "the failed sign-in is in the operator log"
    );
    let signed = sql(w, "SELECT count(DISTINCT who) FROM operator_log WHERE action = 'sign_in' AND who IN ('director', 'stat1', 'aud1', 'admin1')");
    assert_eq!(signed[0][0], "4");
}

#[test]
fn a_leader_sees_aggregates_and_is_refused_a_finding_or_a_person() {
    let Some((w, _turn)) = world() else { return };
    let f = sql(w, "SELECT finding_id, person_no, name, id_number FROM findings WHERE person_no IS NOT NULL AND name IS NOT NULL ORDER BY finding_id LIMIT 1");
    let (id, person, name, idno) = (&f[0][0], &f[0][1], &f[0][2], &f[0][3]);
    let b = Browser::new(w, w.port);
    b.sign_in("director");
    // The dashboard: Chinese text intact, the county's townships, no personal numbers.
    let lang = b.js("return document.documentElement.lang + '|' + document.characterSet + '|' + document.title;");
    assert_eq!(
        lang.as_str().unwrap(),
        "zh-CN|UTF-8|领导驾驶舱 2026年10月 · 养老保险数据工作台"
    );
    let page = b.text();
    let township = &sql(w, "SELECT min(township) FROM enrollment")[0][0];
    assert!(
        page.contains(township.as_str()),
        "the drill-down lists {township}"
    );
    assert!(page.contains("环比") && page.contains("同比"));
    b.screenshot("workbench-dashboard");
    let digits_runs = page
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() >= 15)
        .count();
    assert_eq!(
        digits_runs, 0,
        "no ID, person or account number on the leader's dashboard"
    );
    // Drill down to a township, then a village: aggregates only.
    b.go(&format!("/dashboard?month={MONTH}&township={}", township));
    let village = &sql(
        w,
        &format!("SELECT min(village) FROM enrollment WHERE township = '{township}'"),
    )[0][0];
    assert!(b.text().contains(village.as_str()), "{township}'s villages");
    // Typing a finding's or a person's address: refused, and nothing of theirs shown.
    let cookie = b.session_cookie();
    for path in [
        format!("/findings/{id}"),
        format!("/persons/{person}"),
        format!("/persons?q={person}"),
        "/findings/export.xlsx".to_string(),
    ] {
        b.go(&path);
        let text = b.text();
        assert!(text.contains("无权访问"), "{path} refused: {text}");
        assert!(
            !text.contains(name.as_str()) && !text.contains(idno.as_str()),
            "{path} shows nothing personal"
        );
        let (status, _, body) = http(
            w.port,
            "GET",
            &path,
            &[("Cookie", format!("pipeline_session={cookie}"))],
            b"",
        );
        assert_eq!(status, 403, "{path} answers 403 Forbidden");
        assert!(!String::from_utf8_lossy(&body).contains(name.as_str()));
    }
    let refused = sql(w, &format!("SELECT count(*) FROM operator_log WHERE who = 'director' AND action = 'refused' AND subject = '/findings/{id}'"));
    assert_ne!(refused[0][0], "0", "the refusal is logged");
}

#[test]
fn an_auditor_filters_opens_and_confirms_a_finding() {
    let Some((w, _turn)) = world() else { return };
    // The check with the most open findings, and a township among them.
    let pick = sql(w, "SELECT check_code, township, count(*) AS n FROM findings WHERE status = 'open' AND township IS NOT NULL
                       GROUP BY ALL ORDER BY n DESC, check_code, township LIMIT 1");
    let (check, township, n) = (&pick[0][0], &pick[0][1], &pick[0][2]);
    let b = Browser::new(w, w.port);
    b.sign_in("aud1");
    assert_eq!(b.path(), "/findings");
    b.js(&format!("document.getElementById('f-check').value = '{check}'; document.getElementById('f-status').value = 'open';"));
    b.js(&format!(
        "document.getElementById('f-township').value = '{township}';"
    ));
    b.submit("#apply");
    b.wait_url("check=");
    let total = b.js("return document.getElementById('total').innerText;");
    assert_eq!(
        total.as_str().unwrap(),
        n,
        "the list counts what the filter selects"
    );
    b.screenshot("workbench-findings");
    let rows = b
        .js("return document.querySelectorAll('#findings tbody tr').length;")
        .as_i64()
        .unwrap();
    assert_eq!(rows, n.parse::<i64>().unwrap().min(50));
    let shown_townships = b.js("return [...document.querySelectorAll('#findings tbody tr td:nth-child(7)')].map(t => t.innerText);");
    assert!(
        shown_townships
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.as_str() == Some(township.as_str())),
        "only {township}: {shown_townships}"
    );
    // Open the first finding: evidence, the person's records with file and line, history.
    b.submit("#findings tbody tr a.finding-link");
    let id = b
        .js("return document.getElementById('finding-id').innerText;")
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(b.path(), format!("/findings/{id}"));
    let evidence = &sql(
        w,
        &format!("SELECT evidence FROM findings WHERE finding_id = '{id}'"),
    )[0][0];
    assert_eq!(
        b.js("return document.getElementById('evidence').innerText;")
            .as_str()
            .unwrap(),
        evidence.as_str()
    );
    let page = b.text();
    assert!(
        page.contains("参保登记 enrollment") && page.contains("来源文件") && page.contains("行号"),
        "records with lineage"
    );
    let person = &sql(
        w,
        &format!("SELECT person_no FROM findings WHERE finding_id = '{id}'"),
    )[0][0];
    let (file, line) = {
        let r = sql(
            w,
            &format!("SELECT _file, _line FROM enrollment WHERE person_no = '{person}'"),
        );
        (r[0][0].clone(), r[0][1].clone())
    };
    let cells = b.js(
        "return [...document.querySelectorAll('#records-enrollment td')].map(t => t.innerText);",
    );
    let cells: Vec<&str> = cells
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        cells.contains(&file.as_str()) && cells.contains(&line.as_str()),
        "enrollment row from {file} line {line}: {cells:?}"
    );
    // Confirm it with a note.
    b.js("document.getElementById('new-status').value = 'confirmed';");
    b.type_into("#note", "经入户核实，确认违规领取");
    b.submit("#save-status");
    assert_eq!(b.path(), format!("/findings/{id}"));
    assert_eq!(
        b.js("return document.getElementById('status').innerText;")
            .as_str()
            .unwrap(),
        "confirmed"
    );
    let history = b
        .js("return document.getElementById('history').innerText;")
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        history.contains("经入户核实，确认违规领取") && history.contains("aud1"),
        "history shows it: {history}"
    );
    let stored = sql(w, &format!("SELECT status, who, note FROM finding_history WHERE finding_id = '{id}' ORDER BY seq DESC LIMIT 1"));
    assert_eq!(
        stored[0],
        vec!["confirmed", "aud1", "经入户核实，确认违规领取"]
    );
    assert_eq!(
        sql(
            w,
            &format!("SELECT status FROM findings WHERE finding_id = '{id}'")
        )[0][0],
        "confirmed"
    );
    // The operator log, as the admin sees it and as `pipeline sql` does.
    let logged = succeeds(pipeline(&w.fx.wh_dir()).args(["sql", "--format", "csv",
        &format!("SELECT who, action, detail FROM operator_log WHERE subject = '{id}' ORDER BY logged_at")]));
    assert!(
        logged.contains("aud1,view_finding,")
            && logged.contains("aud1,status_change,open → confirmed: 经入户核实"),
        "{logged}"
    );
    let admin = Browser::new(w, w.port);
    admin.sign_in("admin1");
    admin.go(&format!("/admin/log?subject={id}"));
    let log = admin.text();
    assert!(
        log.contains("status_change") && log.contains("aud1"),
        "the admin sees the change: {log}"
    );
}

#[test]
fn a_second_change_on_the_same_finding_is_refused_not_overwritten() {
    let Some((w, _turn)) = world() else { return };
    let id = sql(
        w,
        "SELECT finding_id FROM findings WHERE status = 'open' ORDER BY finding_id DESC LIMIT 1",
    )[0][0]
        .clone();
    let first = Browser::new(w, w.port);
    first.sign_in("aud1");
    first.go(&format!("/findings/{id}"));
    let second = Browser::new(w, w.port);
    second.sign_in("aud2");
    second.go(&format!("/findings/{id}"));
    second.js("document.getElementById('new-status').value = 'dismissed';");
    second.type_into("#note", "低保户，已核实无误");
    second.submit("#save-status");
    // aud1 still has the page as it was: the change is refused with who made the other.
    first.js("document.getElementById('new-status').value = 'confirmed';");
    first.type_into("#note", "确认");
    first.submit("#save-status");
    let text = first.text();
    assert!(
        text.contains("已被 aud2") && text.contains("未保存"),
        "told who changed it: {text}"
    );
    let last = sql(w, &format!("SELECT status, who FROM finding_history WHERE finding_id = '{id}' ORDER BY seq DESC LIMIT 1"));
    assert_eq!(
        last[0],
        vec!["dismissed", "aud2"],
        "the first change stands"
    );
    // Recovered needs the amount recovered.
    first.go(&format!("/findings/{id}"));
    first.js("document.getElementById('new-status').value = 'recovered';");
    first.type_into("#note", "已退回");
    first.submit("#save-status");
    assert!(first.text().contains("追回金额"), "an amount is asked for");
    first.go(&format!("/findings/{id}"));
    first.js("document.getElementById('new-status').value = 'recovered';");
    first.type_into("#recovered", "1200.50");
    first.type_into("#note", "已退回");
    first.submit("#save-status");
    let last = sql(w, &format!("SELECT status, note FROM finding_history WHERE finding_id = '{id}' ORDER BY seq DESC LIMIT 1"));
    assert_eq!(last[0][0], "recovered");
    assert!(last[0][1].contains("1200.50"), "{:?}", last[0]);
}

#[test]
fn a_post_without_the_csrf_token_is_refused() {
    let Some((w, _turn)) = world() else { return };
    let id = sql(w, "SELECT finding_id FROM findings WHERE status = 'open' ORDER BY finding_id LIMIT 1 OFFSET 5")[0][0].clone();
    let b = Browser::new(w, w.port);
    b.sign_in("aud1");
    b.go(&format!("/findings/{id}"));
    // A form built by another page would carry the cookie but not the token.
    b.js(&format!(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/findings/{id}/status';
         for (const [k, v] of [['status', 'dismissed'], ['note', 'forged'], ['seen', '0']]) {{
           const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }}
         document.body.appendChild(f); f.submit();"
    ));
    std::thread::sleep(Duration::from_millis(500));
    assert!(b.text().contains("请求被拒绝 (CSRF)"), "{}", b.text());
    let cookie = b.session_cookie();
    let (status, _, _) = http(
        w.port,
        "POST",
        &format!("/findings/{id}/status"),
        &[
            ("Cookie", format!("pipeline_session={cookie}")),
            ("Content-Type", "application/x-www-form-urlencoded".into()),
        ],
        b"status=dismissed&note=forged&seen=0&csrf=wrong",
    );
    assert_eq!(status, 403);
    assert_eq!(
        sql(
            w,
            &format!("SELECT status FROM findings WHERE finding_id = '{id}'")
        )[0][0],
        "open",
        "nothing was written"
    );
    let changes = sql(
        w,
        &format!(
            "SELECT count(*) FROM operator_log WHERE action = 'status_change' AND subject = '{id}'"
        ),
    );
    assert_eq!(changes[0][0], "0");
    // Without a session at all: sign in first.
    let (status, head, _) = http(w.port, "POST", "/findings/assign", &[], b"id=x&assignee=y");
    assert_eq!(status, 303);
    assert!(head.contains("location: /login"), "{head}");
}

#[test]
fn an_expired_session_goes_back_to_sign_in() {
    let Some((w, _turn)) = world() else { return };
    let port = free_port();
    let _short = serve(&w.fx.wh_dir(), port, "6s");
    let b = Browser::new(w, port);
    b.sign_in("stat1");
    assert_eq!(b.path(), "/dashboard");
    b.go("/reports");
    let text = b.text();
    assert!(text.contains("统计月报"), "signed in: {text}");
    std::thread::sleep(Duration::from_millis(7000));
    b.go("/reports");
    assert_eq!(b.path(), "/login?expired=1");
    assert!(b.text().contains("登录已超时"), "{}", b.text());
}

#[test]
fn an_auditor_finds_a_person_by_number_id_or_name() {
    let Some((w, _turn)) = world() else { return };
    let p = sql(w, "SELECT person_no, id_number, name FROM enrollment WHERE person_no IN (SELECT person_no FROM payout) ORDER BY person_no LIMIT 1");
    let (no, idno, name) = (&p[0][0], &p[0][1], &p[0][2]);
    let b = Browser::new(w, w.port);
    b.sign_in("aud1");
    for q in [no.as_str(), idno.as_str(), name.as_str()] {
        b.go("/persons");
        b.type_into("#q", q);
        b.submit("#search");
        if b.path() != format!("/persons/{no}") {
            // A name shared by several: pick from the list.
            b.submit(&format!("#found a[href='/persons/{no}']"));
        }
        assert_eq!(b.path(), format!("/persons/{no}"), "found by {q}");
    }
    let payouts = sql(
        w,
        &format!("SELECT count(*) FROM payout WHERE person_no = '{no}'"),
    )[0][0]
        .clone();
    let shown = b.js("return document.querySelectorAll('#records-payout tbody tr').length;");
    assert_eq!(
        shown.as_i64().unwrap().to_string(),
        payouts,
        "every payout row of the person"
    );
    let views = sql(w, &format!("SELECT count(*) FROM operator_log WHERE who = 'aud1' AND action = 'view_person' AND subject = '{no}'"));
    assert_eq!(views[0][0], "3", "each view of the person is logged");
}

/// The dashboard's drill-down adds up: the township rows (with 乡镇不详 for what has
/// no township, such as the county-level books findings) sum to the county row, the
/// county row equals the key figures (open findings as the summary tile counts
/// them, enrolled persons, the month's payouts), and each township's villages sum
/// to that township's row. No browser needed.
#[test]
fn the_dashboard_drill_down_levels_add_up() {
    use pension::serve::dashboard::{drill, DrillRow};
    let _turn = turn();
    let fx = county();
    let session = fx.session();
    let month: pension::domain::Month = MONTH.parse().unwrap();
    let level = |township: &str, village: &str| -> (Vec<DrillRow>, DrillRow) {
        let mut rows = drill(&session.conn, month, township, village).expect("drill-down");
        let total = rows.pop().expect("a total row");
        assert!(total.total && total.label == "合计");
        assert!(rows.iter().all(|r| !r.total));
        (rows, total)
    };
    let sum = |rows: &[DrillRow]| {
        let mut s = (
            0i64,
            0i64,
            rust_decimal::Decimal::ZERO,
            rust_decimal::Decimal::ZERO,
            0i64,
            rust_decimal::Decimal::ZERO,
        );
        for r in rows {
            s.0 += r.enrolled;
            s.1 += r.paid_persons;
            s.2 += r.paid;
            s.3 += r.paid_ly;
            s.4 += r.open_findings;
            s.5 += r.at_risk;
        }
        s
    };
    let figures = |r: &DrillRow| {
        (
            r.enrolled,
            r.paid_persons,
            r.paid,
            r.paid_ly,
            r.open_findings,
            r.at_risk,
        )
    };
    let (townships, county) = level("", "");
    assert_eq!(
        sum(&townships),
        figures(&county),
        "the townships sum to the county"
    );
    // The county row is the key figures, counted independently.
    let key = &fx.rows(&format!(
        "SELECT (SELECT count(*) FROM findings WHERE status IN ('open', 'confirmed')),
                (SELECT sum(abs(amount_at_risk)) FROM findings WHERE status IN ('open', 'confirmed')),
                (SELECT count(DISTINCT person_no) FROM enrollment),
                (SELECT sum(total_amount) FROM payout WHERE status = 'ok' AND month = DATE '{MONTH}-01'),
                (SELECT count(*) FROM findings WHERE status IN ('open', 'confirmed') AND nullif(trim(township), '') IS NULL)"
    ))[0];
    assert_eq!(
        county.open_findings.to_string(),
        key[0],
        "open findings as the tile counts them"
    );
    assert_eq!(county.at_risk.to_string(), key[1]);
    assert_eq!(county.enrolled.to_string(), key[2]);
    assert_eq!(county.paid.to_string(), key[3]);
    // Findings without a township are not dropped: they are the 乡镇不详 row.
    let no_township: i64 = key[4].parse().unwrap();
    assert!(
        no_township > 0,
        "the sample county has county-level findings (books, receipts)"
    );
    let unknown = townships
        .iter()
        .find(|r| r.area.is_empty())
        .expect("a 乡镇不详 row");
    assert_eq!(unknown.label, "乡镇不详");
    assert_eq!(unknown.open_findings, no_township);
    assert!(
        townships.len() >= 12,
        "twelve townships and the unknown row"
    );
    for t in townships.iter().filter(|r| !r.area.is_empty()) {
        let (villages, total) = level(&t.area, "");
        assert_eq!(
            figures(&total),
            figures(t),
            "{}: its total row is its county row",
            t.area
        );
        assert_eq!(
            sum(&villages),
            figures(t),
            "{}: the villages sum to the township",
            t.area
        );
        assert_eq!(total.mom, t.mom);
        // One village alone is that village's row.
        let v = villages
            .iter()
            .find(|v| !v.area.is_empty())
            .expect("a village");
        let (one, one_total) = level(&t.area, &v.area);
        assert_eq!(one.len(), 1);
        assert_eq!(figures(&one_total), figures(v), "{} {}", t.area, v.area);
    }
}

/// The CSRF token of a page's forms.
fn csrf_of(page: &[u8]) -> String {
    let text = String::from_utf8_lossy(page);
    text.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form with its CSRF token")
        .to_string()
}

/// Restarting the server signs nobody out: sessions are kept in the warehouse's
/// `sessions.json` by the hash of their token (the token itself is not there);
/// signing out removes the session from the file, so the next server refuses it.
/// Driven over plain HTTP with the bench's client (no browser needed).
#[test]
fn sessions_survive_a_restart_and_the_file_holds_no_token() {
    use pension::serve::bench::{sign_in, Client};
    use sha2::Digest as _;
    let _turn = turn();
    let fx = county();
    let address = |port: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let port = free_port();
    let first = serve(&fx.wh_dir(), port, "30m");
    let mut before = Client::new(address(port));
    sign_in(&mut before, "aud1", PASSWORD).expect("aud1 signs in");
    assert_eq!(before.get("/persons").unwrap().status, 200);
    drop(first);
    let token = before
        .cookie("pipeline_session")
        .expect("a session cookie")
        .to_string();
    let kept = std::fs::read_to_string(fx.wh_dir().join("sessions.json")).expect("sessions.json");
    let hash: String = sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!kept.contains(&token), "the file does not hold the token");
    assert!(kept.contains(&hash) && kept.contains("\"aud1\""), "{kept}");

    // A new server: the same cookie still opens the auditor's pages.
    let port = free_port();
    let second = serve(&fx.wh_dir(), port, "30m");
    let mut after = Client::new(address(port));
    after.set_cookie("pipeline_session", &token);
    let page = after.get("/persons").unwrap();
    assert_eq!(page.status, 200, "still signed in after the restart");
    // Signing out ends it for every later server too.
    let out = after
        .post_form("/logout", &[("csrf", &csrf_of(&page.body))])
        .unwrap();
    assert_eq!(out.location.as_deref(), Some("/login"));
    drop(second);
    let kept = std::fs::read_to_string(fx.wh_dir().join("sessions.json")).unwrap();
    assert!(!kept.contains(&hash), "signed out: gone from the file");
    let port = free_port();
    let _third = serve(&fx.wh_dir(), port, "30m");
    let mut again = Client::new(address(port));
    again.set_cookie("pipeline_session", &token);
    let refused = again.get("/persons").unwrap();
    assert_eq!(refused.status, 303);
    assert_eq!(refused.location.as_deref(), Some("/login?expired=1"));
}
