//! `pipeline serve`: the centre's workbench — sign-in with roles, findings triage,
//! a person's page, the leadership dashboard and the operator log — over the same
//! warehouse and views as the CLI.
//!
//! axum carries HTTP; every request is then handled in one place (`handle`, on a
//! blocking thread because DuckDB is synchronous): the session is looked up, the
//! route's roles are checked (the table `ROUTES`), a POST must carry the session's
//! CSRF token, and only then does the page's function run. One file per page group.

mod admin;
pub mod auth;
pub mod bench;
pub mod dashboard;
pub mod db;
pub mod findings;
mod persons;
mod reports;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use auth::{Role, Session, Sessions};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::Response;

use crate::oplog;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("query engine (DuckDB): {0}")]
    Sql(#[from] duckdb::Error),
    #[error("{0}")]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("{0}")]
    Audit(#[from] crate::audit::AuditError),
    #[error("{0}")]
    Report(#[from] crate::reports::ReportError),
    #[error("{0}")]
    Auth(#[from] auth::AuthError),
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The user's input was wrong: shown to them as it is (400).
    #[error("{0}")]
    Input(String),
    #[error("not found: {0}")]
    NotFound(String),
}

/// A month typed by the user (`YYYY-MM`, domain::Month), or a message saying how
/// to write it.
pub fn month_of(text: &str) -> Result<crate::domain::Month, WebError> {
    text.parse().map_err(|_| {
        WebError::Input(format!(
            "月份 `{}` 应写作 YYYY-MM，例如 2026-10 (a month is written YYYY-MM)",
            text.trim()
        ))
    })
}

pub struct Options {
    pub listen: SocketAddr,
    pub idle: Duration,
}

/// Who may open what: the longest matching path prefix decides. A path no prefix
/// matches is open to nobody but the sign-in page and the static files.
const ROUTES: &[(&str, &[Role])] = &[
    (
        "/dashboard",
        &[Role::Leader, Role::Statistician, Role::Auditor, Role::Admin],
    ),
    ("/reports", &[Role::Leader, Role::Statistician]),
    ("/findings", &[Role::Auditor]),
    ("/persons", &[Role::Auditor]),
    ("/admin", &[Role::Admin]),
    (
        "/logout",
        &[Role::Leader, Role::Statistician, Role::Auditor, Role::Admin],
    ),
    (
        "/",
        &[Role::Leader, Role::Statistician, Role::Auditor, Role::Admin],
    ),
];

/// The first page of each role after sign-in.
fn home(role: Role) -> &'static str {
    match role {
        Role::Leader | Role::Statistician => "/dashboard",
        Role::Auditor => "/findings",
        Role::Admin => "/admin/users",
    }
}

fn allowed(path: &str, role: Role) -> bool {
    ROUTES
        .iter()
        .filter(|(prefix, _)| {
            *prefix == "/" && path == "/"
                || *prefix != "/" && (path == *prefix || path.starts_with(&format!("{prefix}/")))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .is_some_and(|(_, roles)| roles.contains(&role))
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("records.html", include_str!("templates/records.html")),
    ("login.html", include_str!("templates/login.html")),
    ("message.html", include_str!("templates/message.html")),
    ("findings.html", include_str!("templates/findings.html")),
    ("finding.html", include_str!("templates/finding.html")),
    ("persons.html", include_str!("templates/persons.html")),
    ("person.html", include_str!("templates/person.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("reports.html", include_str!("templates/reports.html")),
    ("users.html", include_str!("templates/users.html")),
    ("log.html", include_str!("templates/log.html")),
];

const STATIC: &[(&str, &str, &[u8])] = &[(
    "/static/style.css",
    "text/css; charset=utf-8",
    include_bytes!("static/style.css"),
)];

pub struct App {
    pub wh: PathBuf,
    /// The accounts file: `warehouse/users.json`, or another for a bench's throw-away
    /// account (`serve --accounts`); the sessions are kept beside it.
    pub accounts: PathBuf,
    pub db: db::Db,
    pub sessions: Sessions,
    templates: minijinja::Environment<'static>,
    /// One write at a time from this server (the warehouse lock guards against the CLI).
    pub writing: std::sync::Mutex<()>,
    pub dashboards: dashboard::Cache,
}

impl App {
    /// The workbench over the warehouse `wh`, with the accounts of `accounts`
    /// (normally `warehouse/users.json`) and the sessions kept beside them.
    pub fn new(
        wh: &Path,
        catalog: crate::schema::Catalog,
        idle: Duration,
        accounts: PathBuf,
    ) -> Result<App, WebError> {
        let mut env = minijinja::Environment::new();
        for (name, text) in TEMPLATES {
            env.add_template(name, text)?;
        }
        // A session comes back only for an account that still has the same role.
        let users = auth::load_users_from(&accounts)?;
        let sessions =
            Sessions::kept_in(&accounts.with_file_name(auth::SESSIONS_FILE), idle, |s| {
                users.iter().any(|u| u.name == s.user && u.role == s.role)
            })?;
        Ok(App {
            wh: wh.to_path_buf(),
            accounts,
            db: db::Db::new(wh, catalog),
            sessions,
            templates: env,
            writing: std::sync::Mutex::new(()),
            dashboards: dashboard::Cache::default(),
        })
    }

    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, WebError> {
        Ok(self.templates.get_template(name)?.render(ctx)?)
    }

    pub fn log(&self, entry: &oplog::Entry) -> Result<(), WebError> {
        oplog::append(&self.wh, entry)?;
        Ok(())
    }
}

/// One request, read whole: the page functions are plain synchronous code.
pub struct Req {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    /// The form fields of a POST (a name may repeat: bulk selections).
    pub form: Vec<(String, String)>,
    pub session: Option<Session>,
    pub token: Option<String>,
    pub address: String,
    cookies: HashMap<String, String>,
}

impl Req {
    pub fn q(&self, name: &str) -> String {
        self.query
            .get(name)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    pub fn field(&self, name: &str) -> String {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    pub fn fields(&self, name: &str) -> Vec<String> {
        self.form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The signed-in user (routes are checked before a page runs, so there is one).
    pub fn user(&self) -> &Session {
        self.session.as_ref().expect("checked by handle")
    }

    /// An operator-log entry for this user and request.
    pub fn entry(&self, action: &str) -> oplog::Entry {
        let (who, role) = self
            .session
            .as_ref()
            .map_or((String::new(), ""), |s| (s.user.clone(), s.role.name()));
        oplog::Entry::new(&who, role, "web", action).address(&self.address)
    }

    /// What every page's template gets: the user, their role, the CSRF token.
    pub fn base(&self) -> minijinja::Value {
        match &self.session {
            Some(s) => minijinja::context! {
                user => s.user, role => s.role.name(), role_zh => s.role.zh(), csrf => s.csrf,
                path => self.path,
            },
            None => minijinja::context! { path => self.path },
        }
    }
}

pub enum Reply {
    Html(String),
    Redirect(String),
    File {
        name: String,
        mime: &'static str,
        bytes: Vec<u8>,
    },
    Status(StatusCode, String),
}

const SESSION_COOKIE: &str = "pipeline_session";
const LOGIN_COOKIE: &str = "pipeline_login";

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pairs(text: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(text).unwrap_or_default()
}

fn message(app: &App, req: &Req, status: StatusCode, title: &str, text: &str) -> Reply {
    let ctx = minijinja::context! {  title => title, text => text, ..req.base() };
    match app.render("message.html", ctx) {
        Ok(html) => Reply::Status(status, html),
        Err(e) => Reply::Status(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}")),
    }
}

/// Checks the session, the route's roles and the CSRF token, then runs the page.
fn handle(app: &App, mut req: Req) -> (Reply, Vec<String>) {
    let mut set_cookies = Vec::new();
    if let Some((_, mime, bytes)) = STATIC.iter().find(|(p, _, _)| *p == req.path) {
        return (
            Reply::File {
                name: String::new(),
                mime,
                bytes: bytes.to_vec(),
            },
            set_cookies,
        );
    }
    if req.path == "/favicon.ico" {
        return (
            Reply::Status(StatusCode::NOT_FOUND, String::new()),
            set_cookies,
        );
    }
    req.session = req.token.as_deref().and_then(|t| app.sessions.touch(t));
    if req.path == "/login" {
        return (login(app, &req, &mut set_cookies), set_cookies);
    }
    let Some(session) = req.session.clone() else {
        // Unknown or expired: back to sign-in, saying why when there was a session.
        let why = if req.token.is_some() {
            "?expired=1"
        } else {
            ""
        };
        return (Reply::Redirect(format!("/login{why}")), set_cookies);
    };
    if !allowed(&req.path, session.role) {
        let reply = message(
            app,
            &req,
            StatusCode::FORBIDDEN,
            "无权访问 (403 Forbidden)",
            &format!(
                "您的角色（{}）不能打开此页面。This page is not open to the role {}.",
                session.role.zh(),
                session.role.name()
            ),
        );
        let _ = app.log(&req.entry("refused").subject(&req.path));
        return (reply, set_cookies);
    }
    if req.method == Method::POST && !auth::same_token(&req.field("csrf"), &session.csrf) {
        let reply = message(
            app,
            &req,
            StatusCode::FORBIDDEN,
            "请求被拒绝 (CSRF)",
            "表单缺少有效的安全令牌，请从页面重新提交。The form did not carry this session's token; submit it again from the page.",
        );
        return (reply, set_cookies);
    }
    let result = route(app, &req, &mut set_cookies);
    // Idle time counts from the end of the last request, not its start (a slow page
    // is not idleness).
    if let Some(t) = &req.token {
        app.sessions.refresh(t);
    }
    let reply = match result {
        Ok(r) => r,
        Err(WebError::Input(text)) => {
            message(app, &req, StatusCode::BAD_REQUEST, "输入有误", &text)
        }
        Err(WebError::NotFound(what)) => {
            message(app, &req, StatusCode::NOT_FOUND, "未找到 (404)", &what)
        }
        Err(e) => message(
            app,
            &req,
            StatusCode::INTERNAL_SERVER_ERROR,
            "出错了 (500)",
            &format!("{e}"),
        ),
    };
    (reply, set_cookies)
}

fn route(app: &App, req: &Req, cookies: &mut Vec<String>) -> Result<Reply, WebError> {
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let post = req.method == Method::POST;
    match (post, segs.as_slice()) {
        (false, [""]) => Ok(Reply::Redirect(home(req.user().role).into())),
        (true, ["logout"]) => {
            if let Some(t) = &req.token {
                app.sessions.end(t);
            }
            app.log(&req.entry("sign_out"))?;
            cookies.push(format!(
                "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            ));
            Ok(Reply::Redirect("/login".into()))
        }
        (false, ["dashboard"]) => dashboard::page(app, req),
        (false, ["reports"]) => reports::page(app, req),
        (false, ["reports", "download"]) => reports::download(app, req),
        (false, ["findings"]) => findings::list(app, req),
        (false, ["findings", "export.xlsx"]) => findings::export(app, req),
        (true, ["findings", "assign"]) => findings::assign(app, req),
        (false, ["findings", id]) => findings::page(app, req, id),
        (true, ["findings", id, "status"]) => findings::set_status(app, req, id),
        (false, ["persons"]) => persons::search(app, req),
        (false, ["persons", no]) => persons::page(app, req, no),
        (false, ["admin", "users"]) => admin::users(app, req),
        (true, ["admin", "users"]) => admin::add_user(app, req),
        (false, ["admin", "log"]) => admin::log(app, req),
        _ => Err(WebError::NotFound(format!("没有此页面 {}", req.path))),
    }
}

/// GET shows the form (with a sign-in CSRF token in its own cookie); POST checks
/// the token, the name and the password, and starts a session.
fn login(app: &App, req: &Req, cookies: &mut Vec<String>) -> Reply {
    if req.method == Method::POST {
        let expected = req.cookies.get(LOGIN_COOKIE).cloned().unwrap_or_default();
        if expected.is_empty() || !auth::same_token(&req.field("csrf"), &expected) {
            return message(
                app,
                req,
                StatusCode::FORBIDDEN,
                "请求被拒绝 (CSRF)",
                "登录表单已失效，请刷新登录页后重试。The sign-in form has expired; reload the page.",
            );
        }
        let name = req.field("name");
        match auth::check_sign_in(&app.accounts, &name, &req.field("password")) {
            Ok(Some(user)) => {
                let token = match app.sessions.start(&user) {
                    Ok((token, _)) => token,
                    Err(e) => {
                        return Reply::Status(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}"))
                    }
                };
                let entry = oplog::Entry::new(&user.name, user.role.name(), "web", "sign_in")
                    .address(&req.address);
                if let Err(e) = app.log(&entry) {
                    app.sessions.end(&token);
                    return Reply::Status(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}"));
                }
                cookies.push(format!(
                    "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                ));
                cookies.push(format!(
                    "{LOGIN_COOKIE}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0"
                ));
                return Reply::Redirect(home(user.role).into());
            }
            Ok(None) => {
                let entry =
                    oplog::Entry::new(&name, "", "web", "sign_in_failed").address(&req.address);
                let _ = app.log(&entry);
            }
            Err(e) => return Reply::Status(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}")),
        }
        return login_form(
            app,
            req,
            cookies,
            Some("用户名或密码错误 (wrong name or password)"),
        );
    }
    let note = (req.q("expired") == "1")
        .then_some("登录已超时，请重新登录 (your session expired; sign in again)");
    login_form(app, req, cookies, note)
}

fn login_form(app: &App, req: &Req, cookies: &mut Vec<String>, note: Option<&str>) -> Reply {
    // Keep the browser's token when it has one: a second sign-in page (another tab,
    // a redirect) must not invalidate the form already shown.
    let csrf = match req.cookies.get(LOGIN_COOKIE) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t.clone(),
        _ => {
            let t = auth::token();
            cookies.push(format!(
                "{LOGIN_COOKIE}={t}; Path=/login; HttpOnly; SameSite=Strict"
            ));
            t
        }
    };
    let ctx = minijinja::context! { path => "/login", csrf => csrf, note => note };
    match app.render("login.html", ctx) {
        Ok(html) => Reply::Html(html),
        Err(e) => Reply::Status(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}")),
    }
}

fn response(reply: Reply, set_cookies: Vec<String>) -> Response {
    let mut b = Response::builder();
    let h = b.headers_mut().expect("builder");
    for c in set_cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    // Pages may carry personal data: never cached, never framed, nothing from elsewhere.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        ),
    );
    let html = "text/html; charset=utf-8";
    let built = match reply {
        Reply::Html(s) => b.header(header::CONTENT_TYPE, html).body(Body::from(s)),
        Reply::Status(code, s) => b
            .status(code)
            .header(header::CONTENT_TYPE, html)
            .body(Body::from(s)),
        Reply::Redirect(to) => b
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, to)
            .body(Body::empty()),
        Reply::File { name, mime, bytes } => {
            if !name.is_empty() {
                // RFC 6266: an ASCII fallback and the UTF-8 name (Chinese file names).
                let enc: String = name
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => {
                            (b as char).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                b = b.header(
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"download.xlsx\"; filename*=UTF-8''{enc}"),
                );
            }
            b.header(header::CONTENT_TYPE, mime).body(Body::from(bytes))
        }
    };
    built.unwrap_or_else(|_| Response::new(Body::from("response error")))
}

/// The axum entry point: reads the request whole, hands it to `handle` on a
/// blocking thread.
async fn entry(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(b) => b,
        Err(_) => {
            return response(
                Reply::Status(StatusCode::PAYLOAD_TOO_LARGE, "too large".into()),
                Vec::new(),
            )
        }
    };
    let cookies = cookies(&parts.headers);
    let req = Req {
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        query: pairs(parts.uri.query().unwrap_or("")).into_iter().collect(),
        form: if parts.method == Method::POST {
            pairs(&String::from_utf8_lossy(&bytes))
        } else {
            Vec::new()
        },
        session: None,
        token: cookies
            .get(SESSION_COOKIE)
            .filter(|t| !t.is_empty())
            .cloned(),
        address: peer.ip().to_string(),
        cookies,
    };
    match tokio::task::spawn_blocking(move || handle(&app, req)).await {
        Ok((reply, set)) => response(reply, set),
        Err(_) => response(
            Reply::Status(StatusCode::INTERNAL_SERVER_ERROR, "the page failed".into()),
            Vec::new(),
        ),
    }
}

/// Serves until the process is stopped.
pub fn run(app: App, opts: &Options) -> Result<(), WebError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(16)
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen).await?;
        let router = axum::Router::new()
            .fallback(entry)
            .with_state(Arc::new(app));
        eprintln!(
            "pipeline serve: http://{} (stop with Ctrl-C)",
            listener.local_addr()?
        );
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await?;
        Ok(())
    })
}
