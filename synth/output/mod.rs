//! Every data file of the synthetic county: which kind goes where, in which shape,
//! and the row layouts of the input kinds (`schemas/`, docs/rules.md § Input acceptance).

use super::books::{category_zh, receipt_text, LedgerRow, Notice, Receipts};
use super::calendar::{
    age_on, days, month_of, year_of, ym, DateStyle as D, MoneyStyle as Mo, MonthStyle as Mn, Ym,
};
use super::geo::Geo;
use super::history::{ContribKind, Field, Records, SuspReason};
use super::params::{tier_split, tier_subsidy, LEVELS, RATES, STANDARDS, TIERS};
use super::plan::{Channel, Ctx, Enrollment};
use super::population::{EmpStatus, Person, RegStatus, SRC_CREMATION, SRC_MEDICAL, SRC_POLICE};
use super::writer::{write_xlsx, Cell, Enc, Style, Table};
use super::{SynthError, WrittenFile};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

mod layouts;
mod registries;

use layouts::*;

/// Shape of the contribution file of the `i`-th year since 2011.
fn contribution_style(i: usize) -> Style {
    match i % 4 {
        0 => Style::zh(Enc::Utf8Bom, D::Iso, Mn::Dash, Mo::Plain),
        1 => Style::zh(Enc::Gb18030, D::Slash, Mn::Dash, Mo::Short),
        2 => Style::en(Enc::Utf8, D::Compact, Mn::Dash, Mo::Yen),
        _ => Style::zh(Enc::Utf8Bom, D::Chinese, Mn::Dash, Mo::Plain),
    }
}

/// Shape of the payout file of the `i`-th month since 2011-07.
fn payout_style(i: usize) -> Style {
    match i % 12 {
        2 => Style::zh(Enc::Utf8, D::Slash, Mn::Chinese, Mo::Yen),
        5 => Style::zh(Enc::Gb18030, D::Iso, Mn::Dash, Mo::Plain),
        9 => Style::en(Enc::Utf8, D::Compact, Mn::Compact, Mo::Plain),
        _ => Style::zh(Enc::Utf8, D::Iso, Mn::Dash, Mo::Plain),
    }
}

fn sex(male: bool) -> (&'static str, &'static str) {
    if male {
        ("男", "M")
    } else {
        ("女", "F")
    }
}

pub struct Outputs {
    out: PathBuf,
    ctx: Ctx,
    first_payout: Ym,
    enrollment: Table,
    change: Table,
    cancellation: Table,
    approval: Table,
    certification: Table,
    cert_town: usize,
    cert_xlsx: Vec<Vec<Cell>>,
    suspension: Table,
    transfers: Vec<Vec<Cell>>,
    contribution: Vec<Table>,
    contribution_seq: Vec<u64>,
    gov: Table,
    gov_seq: u64,
    collective: Table,
    collective_seq: u64,
    payouts: Vec<Table>,
    payout_seq: Vec<u64>,
    change_seq: u64,
    pub files: Vec<WrittenFile>,
}

impl Outputs {
    pub fn open(out: &Path, ctx: Ctx, geo: &Geo) -> Result<Outputs, SynthError> {
        let utf8 = |d, mo| Style::zh(Enc::Utf8, d, Mn::Dash, mo);
        let first_payout = ym(2011, 7);
        let mut contribution = Vec::new();
        for (i, y) in (2011..=year_of(ctx.t)).enumerate() {
            contribution.push(Table::create(
                out,
                &format!("contribution/contribution_{y}.csv"),
                "contribution",
                CONTRIBUTION,
                contribution_style(i),
            )?);
        }
        let mut payouts = Vec::new();
        for (i, m) in (first_payout..=ctx.t).enumerate() {
            let rel = format!("payout/payout_{:04}-{:02}.csv", year_of(m), month_of(m));
            payouts.push(Table::create(out, &rel, "payout", PAYOUT, payout_style(i))?);
        }
        Ok(Outputs {
            out: out.to_path_buf(),
            ctx,
            first_payout,
            enrollment: Table::create(
                out,
                "operational/enrollment.csv",
                "enrollment",
                ENROLLMENT,
                Style::zh(Enc::Utf8Bom, D::Iso, Mn::Dash, Mo::Plain),
            )?,
            change: Table::create(
                out,
                "operational/change.csv",
                "change",
                CHANGE,
                utf8(D::Slash, Mo::Plain),
            )?,
            cancellation: Table::create(
                out,
                "operational/cancellation.csv",
                "cancellation",
                CANCELLATION,
                Style::zh(Enc::Gb18030, D::Chinese, Mn::Dash, Mo::Yen),
            )?,
            approval: Table::create(
                out,
                "operational/benefit_approval.csv",
                "benefit_approval",
                APPROVAL,
                Style {
                    shuffle: false,
                    ..Style::en(Enc::Utf8, D::Compact, Mn::Compact, Mo::Short)
                },
            )?,
            certification: Table::create(
                out,
                "operational/certification.csv",
                "certification",
                CERTIFICATION,
                Style::zh(Enc::Utf8Bom, D::Iso, Mn::Dash, Mo::Plain),
            )?,
            cert_town: geo.townships.len() - 1,
            cert_xlsx: Vec::new(),
            suspension: Table::create(
                out,
                "operational/suspension.csv",
                "suspension",
                SUSPENSION,
                Style::en(Enc::Gb18030, D::Iso, Mn::Dash, Mo::Plain),
            )?,
            transfers: Vec::new(),
            contribution_seq: vec![0; contribution.len()],
            contribution,
            gov: Table::create(
                out,
                "subsidy/government_subsidy.csv",
                "government_subsidy",
                GOV_SUBSIDY,
                utf8(D::Iso, Mo::Plain),
            )?,
            gov_seq: 0,
            collective: Table::create(
                out,
                "subsidy/collective_subsidy.csv",
                "collective_subsidy",
                COLLECTIVE,
                Style::zh(Enc::Gb18030, D::Chinese, Mn::Dash, Mo::Plain),
            )?,
            collective_seq: 0,
            payout_seq: vec![0; payouts.len()],
            payouts,
            change_seq: 0,
            files: Vec::new(),
        })
    }

    /// Writes every record of one enrollment.
    pub fn enrollment_records(
        &mut self,
        geo: &Geo,
        e: &Enrollment,
        r: &Records,
    ) -> Result<(), SynthError> {
        self.enrollment_row(geo, e)?;
        self.contributions(e, r)?;
        self.subsidies(geo, e, r)?;
        self.benefit_rows(geo, e, r)?;
        self.change_rows(geo, e, r)?;
        if let Some(c) = &r.cancellation {
            let t = &mut self.cancellation;
            let remark = match c.reason {
                super::plan::CancelReason::Death if (c.apply - c.event).num_days() > 60 => {
                    "家属逾期申报"
                }
                super::plan::CancelReason::Death => "家属申请",
                _ => "",
            };
            t.s(&e.person_no)
                .s(&e.pay_id)
                .s(c.reason.zh())
                .date(c.event)
                .date(c.apply)
                .money(c.refund)
                .s(&c.payee)
                .s(remark)
                .end()?;
        }
        for tr in &r.transfers {
            let dir = if tr.out { "转出" } else { "转入" };
            self.transfers.push(vec![
                Cell::Text(e.person_no.clone()),
                Cell::Text(e.pay_id.clone()),
                Cell::Text(dir.into()),
                Cell::Text(tr.counterpart.into()),
                Cell::Money(tr.amount),
                Cell::Date(tr.date),
            ]);
        }
        Ok(())
    }

    fn enrollment_row(&mut self, geo: &Geo, e: &Enrollment) -> Result<(), SynthError> {
        let (sz, se) = sex(e.male_text);
        let t = &mut self.enrollment;
        t.s(&e.person_no)
            .s(&e.id_text)
            .s(&e.name_text)
            .e(sz, se)
            .date(e.birth_text)
            .e(e.hukou.zh(), e.hukou.en());
        t.s(geo.township_of(e.village).name)
            .s(&geo.villages[e.village].name)
            .date(e.enroll)
            .int(e.tier as i64)
            .s(&e.bank);
        t.e(
            if e.agreement { "是" } else { "否" },
            if e.agreement { "yes" } else { "no" },
        )
        .s(&e.phone)
        .s(&e.address)
        .end()
    }

    fn contributions(&mut self, e: &Enrollment, r: &Records) -> Result<(), SynthError> {
        for c in &r.contributions {
            let i = (year_of(super::calendar::ym_of(c.date)) - 2011)
                .clamp(0, self.contribution.len() as i32 - 1) as usize;
            self.contribution_seq[i] += 1;
            let t = &mut self.contribution[i];
            let (kz, ke) = match c.kind {
                ContribKind::Normal => ("正常缴费", "normal"),
                ContribKind::Backpay => ("补缴", "backpay"),
                ContribKind::Prepay => ("预缴", "prepay"),
            };
            let (cz, ce) = if c.channel == Channel::Bank {
                ("银行代扣", "bank")
            } else {
                ("收款收据", "receipt")
            };
            t.fmt(format_args!(
                "JF{}{:08}",
                2011 + i,
                self.contribution_seq[i]
            ))
            .s(&e.person_no)
            .s(&e.pay_id)
            .int(c.year as i64)
            .money(c.amount);
            t.e(kz, ke)
                .e(cz, ce)
                .s(c.receipt.as_deref().unwrap_or(""))
                .date(c.date);
            t.e(
                if c.ok { "成功" } else { "失败" },
                if c.ok { "ok" } else { "failed" },
            )
            .s(c.fail.unwrap_or(""))
            .end()?;
        }
        Ok(())
    }

    fn subsidies(&mut self, geo: &Geo, e: &Enrollment, r: &Records) -> Result<(), SynthError> {
        for s in &r.subsidies {
            self.gov_seq += 1;
            let (kz, ke) = if s.basic {
                ("基础养老金", "basic_pension")
            } else {
                ("缴费补贴", "contribution")
            };
            let t = &mut self.gov;
            t.fmt(format_args!("BT{:010}", self.gov_seq))
                .s(&e.person_no)
                .int(s.year as i64)
                .e(LEVELS[s.level].0, LEVELS[s.level].1)
                .e(kz, ke)
                .money(s.amount)
                .date(s.date)
                .end()?;
        }
        let vname = &geo.villages[e.village].name;
        let payer = if vname.ends_with('村') {
            format!("{vname}村民委员会")
        } else {
            format!("{vname}居民委员会")
        };
        for c in &r.collective {
            self.collective_seq += 1;
            let t = &mut self.collective;
            t.s(&format!("JT{:08}", self.collective_seq))
                .s(&e.person_no)
                .int(c.year as i64)
                .money(c.amount)
                .s(&payer)
                .date(c.date)
                .end()?;
        }
        Ok(())
    }

    fn benefit_rows(&mut self, geo: &Geo, e: &Enrollment, r: &Records) -> Result<(), SynthError> {
        if let Some(a) = &r.approval {
            self.approval
                .s(&e.person_no)
                .s(&e.pay_id)
                .month(a.start)
                .money(a.basic)
                .money(a.monthly)
                .money(a.balance)
                .date(a.date)
                .end()?;
        }
        let town = geo.villages[e.village].township;
        for c in &r.certs {
            let (mz, me) = METHODS[c.method as usize % 4];
            if town == self.cert_town {
                self.cert_xlsx.push(vec![
                    Cell::Text(e.person_no.clone()),
                    Cell::Int(c.year as i64),
                    Cell::Date(c.date),
                    Cell::Text(mz.into()),
                    Cell::Text((if c.pass { "通过" } else { "未通过" }).into()),
                ]);
            } else {
                let t = &mut self.certification;
                t.s(&e.person_no)
                    .int(c.year as i64)
                    .date(c.date)
                    .e(mz, me)
                    .e(
                        if c.pass { "通过" } else { "未通过" },
                        if c.pass { "pass" } else { "fail" },
                    )
                    .end()?;
            }
        }
        for s in &r.suspensions {
            let (z, en) = if s.reason == SuspReason::Prison {
                ("服刑", "prison")
            } else {
                ("未认证", "uncertified")
            };
            self.suspension
                .s(&e.person_no)
                .e(z, en)
                .month(s.start)
                .opt_month(s.end)
                .end()?;
        }
        for p in &r.payouts {
            let i = (super::calendar::ym_of(p.date) - self.first_payout)
                .clamp(0, self.payouts.len() as i32 - 1) as usize;
            self.payout_seq[i] += 1;
            let seq = self.payout_seq[i];
            let m = self.first_payout + i as i32;
            // A few rows carry the ID as the bank typed it: lowercase x, a stray space.
            let t = &mut self.payouts[i];
            t.fmt(format_args!(
                "FF{:04}{:02}{seq:07}",
                year_of(m),
                month_of(m)
            ))
            .s(&e.person_no);
            match seq % 97 {
                0 if e.pay_id.ends_with('X') => t.s(&e.pay_id.to_lowercase()),
                50 => t.fmt(format_args!("{} ", e.pay_id)),
                _ => t.s(&e.pay_id),
            };
            t.s(&e.name_text).month(p.month);
            t.money(p.basic)
                .money(p.account)
                .money(p.total())
                .s(&r.banks[p.bank as usize])
                .date(p.date);
            t.e(
                if p.ok { "成功" } else { "失败" },
                if p.ok { "ok" } else { "failed" },
            )
            .end()?;
        }
        Ok(())
    }

    fn change_rows(&mut self, geo: &Geo, e: &Enrollment, r: &Records) -> Result<(), SynthError> {
        let clerks = &geo.township_of(e.village).clerks;
        for c in &r.changes {
            self.change_seq += 1;
            let (zh, en) = match c.field {
                Field::Phone => ("联系电话", "phone"),
                Field::Address => ("居住地址", "address"),
                Field::Bank => ("银行账号", "bank_account"),
                Field::Tier => ("缴费档次", "tier"),
                Field::Village => ("村(居)", "village"),
            };
            // Most clerks pick the Chinese item name, some systems export the code.
            let field = if self.change_seq.is_multiple_of(5) {
                en
            } else {
                zh
            };
            let op = &clerks[(self.change_seq % 2) as usize];
            self.change
                .s(&e.person_no)
                .s(field)
                .s(&c.old)
                .s(&c.new)
                .date(c.date)
                .s(op)
                .end()?;
        }
        Ok(())
    }

    /// Closes every streaming file and writes the XLSX files.
    pub fn finish(mut self, geo: &Geo) -> Result<Vec<WrittenFile>, SynthError> {
        let mut files = std::mem::take(&mut self.files);
        for t in [
            self.enrollment,
            self.change,
            self.cancellation,
            self.approval,
            self.certification,
            self.suspension,
            self.gov,
            self.collective,
        ] {
            files.push(t.finish()?);
        }
        for t in self.contribution.into_iter().chain(self.payouts) {
            files.push(t.finish()?);
        }
        let cert_rel = format!(
            "operational/certification_{}.xlsx",
            geo.townships[self.cert_town].ascii
        );
        let cert_header: Vec<&str> = CERTIFICATION.iter().map(|c| c.1).collect();
        files.push(write_xlsx(
            &self.out,
            &cert_rel,
            "certification",
            "资格认证",
            &cert_header,
            &self.cert_xlsx,
        )?);
        files.push(write_xlsx(
            &self.out,
            "operational/transfer.xlsx",
            "transfer",
            "转移接续",
            TRANSFER_ZH,
            &self.transfers,
        )?);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}
