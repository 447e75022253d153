//! The monthly report package (统计月报) for download: the workbook of
//! `pipeline report`, run by the reports module's own function
//! (`reports::compute_month`). A statistician's lists for action come masked (as the
//! package always masks them); a leader's package has no lists at all (aggregates
//! only).

use minijinja::context;

use super::auth::Role;
use super::{month_of, App, Reply, Req, WebError};
use crate::reports::{self, ReportOptions};
use crate::warehouse::Warehouse;

pub fn page(app: &App, req: &Req) -> Result<Reply, WebError> {
    let conn = app.db.conn()?;
    let latest = super::db::scalar(
        &conn,
        "SELECT strftime(max(month), '%Y-%m') FROM payout",
        &[],
    )?;
    let ctx = context! {  latest => latest, lists => req.user().role == Role::Statistician, ..req.base() };
    Ok(Reply::Html(app.render("reports.html", ctx)?))
}

pub fn download(app: &App, req: &Req) -> Result<Reply, WebError> {
    let month = month_of(&req.q("month"))?;
    let lists = req.user().role == Role::Statistician;
    let wh = Warehouse::open_read(&app.wh)?;
    // Masked lists, the official forms (附表十二, 十二之二) included.
    let opts = ReportOptions {
        whole_ids_in_forms: false,
        ..ReportOptions::monthly(month.first_day(), false, lists)
    };
    let run = reports::compute_month(&wh, app.db.catalog(), &opts)?;
    let dir = std::env::temp_dir().join(format!("pipeline-report-{}", super::auth::token()));
    let written = reports::write_package(&run, &dir);
    let bytes = written
        .map_err(WebError::from)
        .and_then(|files| Ok(std::fs::read(&files[0])?));
    let _ = std::fs::remove_dir_all(&dir);
    let bytes = bytes?;
    app.log(&req.entry("export").subject("report").detail(&format!(
        "月报 {month}, lists {}",
        if lists { "masked" } else { "left out" }
    )))?;
    Ok(Reply::File {
        name: format!("月报_{month}.xlsx"),
        mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    })
}
