//! Administration: accounts and the operator log.

use minijinja::context;

use super::auth::{self, ROLES};
use super::db::rows;
use super::{App, Reply, Req, WebError};

pub fn users(app: &App, req: &Req) -> Result<Reply, WebError> {
    let list: Vec<_> = auth::load_users_from(&app.accounts)?
        .into_iter()
        .map(|u| {
            context! { name => u.name, role => u.role.name(), role_zh => u.role.zh(),
            created_at => u.created_at, created_by => u.created_by }
        })
        .collect();
    let roles: Vec<_> = ROLES.iter().map(|r| (r.name(), r.zh())).collect();
    let ctx = context! {  users => list, roles => roles, ..req.base() };
    Ok(Reply::Html(app.render("users.html", ctx)?))
}

pub fn add_user(app: &App, req: &Req) -> Result<Reply, WebError> {
    let name = req.field("name");
    let role = auth::Role::parse(&req.field("role")).map_err(|e| WebError::Input(e.to_string()))?;
    let by = req.user().user.clone();
    let existed = auth::add_user_to(&app.accounts, &name, role, &req.field("password"), &by)
        .map_err(|e| match e {
            auth::AuthError::Usage(m) => WebError::Input(m),
            other => other.into(),
        })?;
    app.log(&req.entry("user_add").subject(&name).detail(&format!(
        "role {}{}",
        role.name(),
        if existed {
            " (password and role replaced)"
        } else {
            ""
        }
    )))?;
    Ok(Reply::Redirect("/admin/users".into()))
}

/// The latest entries, filtered by who and action.
pub fn log(app: &App, req: &Req) -> Result<Reply, WebError> {
    let conn = app.db.conn()?;
    let r = rows(
        &conn,
        "SELECT logged_at, who, role, channel, action, subject, detail, address FROM operator_log
         WHERE (? = '' OR who = ?) AND (? = '' OR action = ?) AND (? = '' OR subject = ?)
         ORDER BY logged_at DESC LIMIT 500",
        &[
            req.q("who"),
            req.q("who"),
            req.q("action"),
            req.q("action"),
            req.q("subject"),
            req.q("subject"),
        ],
    )?;
    let ctx = context! {  entries => r.rows, who => req.q("who"), action => req.q("action"), subject => req.q("subject"), ..req.base() };
    Ok(Reply::Html(app.render("log.html", ctx)?))
}
