//! Every data file of the synthetic county: which kind goes where, in which shape,
//! and the row layouts of the input kinds (`schemas/`, docs/rules.md § Input acceptance).

use super::books::{category_zh, receipt_text, LedgerRow, Receipts};
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

type Cols = &'static [(&'static str, &'static str)];

const ENROLLMENT: Cols = &[
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("hukou_type", "户籍性质"),
    ("township", "乡镇(街道)"),
    ("village", "村(居)"),
    ("enroll_date", "参保日期"),
    ("tier", "缴费档次"),
    ("bank_account", "银行账号"),
    ("agreement", "三方协议"),
    ("phone", "联系电话"),
    ("address", "居住地址"),
];
const CHANGE: Cols = &[
    ("person_no", "个人编号"),
    ("field", "变更项目"),
    ("old_value", "变更前"),
    ("new_value", "变更后"),
    ("change_date", "变更日期"),
    ("operator", "经办人"),
];
/// The cancellation file carries one column the contract does not know (备注).
const CANCELLATION: Cols = &[
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("reason", "注销原因"),
    ("event_date", "事件日期"),
    ("apply_date", "申请日期"),
    ("refund_amount", "退还金额"),
    ("payee", "领取人"),
    ("remark", "备注"),
];
const CONTRIBUTION: Cols = &[
    ("voucher_no", "流水号"),
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("year", "缴费年度"),
    ("amount", "缴费金额"),
    ("kind", "缴费类型"),
    ("channel", "缴费方式"),
    ("receipt_no", "收据号"),
    ("paid_date", "缴费日期"),
    ("status", "扣款状态"),
    ("fail_reason", "失败原因"),
];
const COLLECTIVE: Cols = &[
    ("voucher_no", "流水号"),
    ("person_no", "个人编号"),
    ("year", "补助年度"),
    ("amount", "补助金额"),
    ("payer", "补助单位"),
    ("paid_date", "到账日期"),
];
const GOV_SUBSIDY: Cols = &[
    ("voucher_no", "流水号"),
    ("person_no", "个人编号"),
    ("year", "补贴年度"),
    ("level", "补贴级别"),
    ("kind", "补贴类型"),
    ("amount", "补贴金额"),
    ("credited_date", "记账日期"),
];
const APPROVAL: Cols = &[
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("start_month", "待遇开始年月"),
    ("basic_monthly", "基础养老金月标准"),
    ("account_monthly", "个人账户养老金月标准"),
    ("account_balance", "核定时个人账户储存额"),
    ("approve_date", "核定日期"),
];
const PAYOUT: Cols = &[
    ("payout_no", "发放流水号"),
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("month", "发放年月"),
    ("basic_amount", "基础养老金"),
    ("account_amount", "个人账户养老金"),
    ("total_amount", "发放合计"),
    ("bank_account", "银行账号"),
    ("paid_date", "发放日期"),
    ("status", "发放状态"),
];
const CERTIFICATION: Cols = &[
    ("person_no", "个人编号"),
    ("year", "认证年度"),
    ("cert_date", "认证日期"),
    ("method", "认证方式"),
    ("result", "认证结果"),
];
const SUSPENSION: Cols = &[
    ("person_no", "个人编号"),
    ("reason", "暂停原因"),
    ("start_month", "暂停年月"),
    ("end_month", "恢复年月"),
];
const TRANSFER_ZH: &[&str] = &[
    "个人编号",
    "公民身份号码",
    "方向",
    "对方地区",
    "转移金额",
    "到账日期",
];
const RECEIPT_BOOK: Cols = &[
    ("book_no", "收据本号"),
    ("first_no", "起始号码"),
    ("last_no", "终止号码"),
    ("holder", "领用人"),
    ("township", "乡镇(街道)"),
    ("issue_date", "领用日期"),
    ("settle_date", "核销日期"),
    ("amount_collected", "收款合计"),
    ("amount_deposited", "存入银行合计"),
    ("voided", "作废号码"),
];
const FUND_LEDGER: Cols = &[
    ("account", "账户"),
    ("txn_date", "日期"),
    ("voucher_no", "凭证号"),
    ("direction", "收支"),
    ("amount", "金额"),
    ("category", "科目"),
    ("counterpart", "对方账户"),
];
const INTEREST_RATE: Cols = &[("year", "年度"), ("rate", "利率")];
const BASIC_STANDARD: Cols = &[("from_month", "起始年月"), ("amount", "月标准")];
const TIER_SUBSIDY: Cols = &[
    ("tier", "缴费档次"),
    ("subsidy", "补贴金额"),
    ("central", "中央"),
    ("province", "省级"),
    ("city", "市级"),
    ("county", "县级"),
];
const ID_REGISTRY: Cols = &[
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("township", "乡镇(街道)"),
    ("village", "村(居)"),
    ("hukou_type", "户籍性质"),
    ("in_school", "在校学生"),
    ("status", "户籍状态"),
    ("status_date", "状态日期"),
];
const DEATH_RECORD: Cols = &[
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("death_date", "死亡日期"),
    ("source", "信息来源"),
    ("record_date", "登记日期"),
];
const EMPLOYEE: Cols = &[
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("status", "参保状态"),
    ("start_date", "开始日期"),
    ("end_date", "结束日期"),
    ("employer", "单位"),
];
const INMATE: Cols = &[
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("start_date", "入监日期"),
    ("end_date", "释放日期"),
];

const METHODS: [(&str, &str); 4] = [
    ("本人", "in_person"),
    ("上门", "home_visit"),
    ("照相", "photo"),
    ("人脸识别", "face"),
];

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

    /// The public-security register, death records, employee pension and prison files.
    pub fn registries(&mut self, persons: &[Person], geo: &Geo) -> Result<(), SynthError> {
        let out = self.out.clone();
        let t_end = self.ctx.t_end;
        let mut reg = Table::create(
            &out,
            "registry/id_registry.csv",
            "id_registry",
            ID_REGISTRY,
            Style::zh(Enc::Utf8Bom, D::Compact, Mn::Dash, Mo::Plain),
        )?;
        let mut cremation = Table::create(
            &out,
            "registry/death_record_cremation.csv",
            "death_record",
            DEATH_RECORD,
            Style::zh(Enc::Gb18030, D::Chinese, Mn::Dash, Mo::Plain),
        )?;
        let mut medical = Table::create(
            &out,
            "registry/death_record_medical.csv",
            "death_record",
            DEATH_RECORD,
            Style::zh(Enc::Utf8Bom, D::Slash, Mn::Dash, Mo::Plain),
        )?;
        let mut police = Table::create(
            &out,
            "registry/death_record_police.csv",
            "death_record",
            DEATH_RECORD,
            Style::en(Enc::Utf8, D::Compact, Mn::Dash, Mo::Plain),
        )?;
        let mut employee = Table::create(
            &out,
            "registry/employee_pension.csv",
            "employee_pension",
            EMPLOYEE,
            Style::en(Enc::Utf8, D::Iso, Mn::Dash, Mo::Plain),
        )?;
        let mut inmate = Table::create(
            &out,
            "registry/inmate.csv",
            "inmate",
            INMATE,
            Style::zh(Enc::Gb18030, D::Slash, Mn::Dash, Mo::Plain),
        )?;
        for (i, p) in persons.iter().enumerate().filter(|(_, p)| p.in_register) {
            let (sz, se) = sex(p.male);
            let (status, status_date) = p.status();
            let (stz, ste) = match status {
                RegStatus::Normal => ("正常", "normal"),
                RegStatus::Dead => ("死亡", "dead"),
                RegStatus::MovedOut => ("迁出", "moved_out"),
                RegStatus::Emigrated => ("出国(境)定居", "emigrated"),
                RegStatus::Cancelled => ("注销", "cancelled"),
            };
            let school = if p.in_school {
                "是"
            } else if age_on(p.birth, t_end) <= 25 {
                "否"
            } else {
                ""
            };
            reg.s(&p.id)
                .s(&p.name)
                .e(sz, se)
                .date(p.birth)
                .s(geo.township_of(p.village).name)
                .s(&geo.villages[p.village].name);
            reg.e(p.hukou.zh(), p.hukou.en())
                .s(school)
                .e(stz, ste)
                .opt_date(status_date)
                .end()?;
            if let Some(d) = p.death {
                let lag = |k: usize| (d + days(1 + ((i * 7 + k * 13) % 29) as i64)).min(t_end);
                for (bit, t, zh, en, k) in [
                    (SRC_CREMATION, &mut cremation, "民政火化", "cremation", 1),
                    (SRC_MEDICAL, &mut medical, "医学死亡证明", "medical", 2),
                    (SRC_POLICE, &mut police, "公安户籍注销", "police", 3),
                ] {
                    if p.death_src & bit != 0 {
                        t.s(&p.id).s(&p.name).date(d).e(zh, en).date(lag(k)).end()?;
                    }
                }
            }
            if let Some(s) = p.employee {
                let (z, en) = match s.status {
                    EmpStatus::Contributing => ("参保缴费", "contributing"),
                    EmpStatus::Receiving => ("领取待遇", "receiving"),
                    EmpStatus::Ended => ("终止", "ended"),
                };
                employee
                    .s(&p.id)
                    .s(&p.name)
                    .e(z, en)
                    .date(s.start)
                    .opt_date(s.end)
                    .s(super::geo::EMPLOYERS[s.employer])
                    .end()?;
            }
            if let Some((a, rel)) = p.prison {
                inmate.s(&p.id).s(&p.name).date(a).opt_date(rel).end()?;
            }
        }
        for t in [reg, cremation, medical, police, employee, inmate] {
            self.files.push(t.finish()?);
        }
        Ok(())
    }

    /// interest_rate, basic_pension_standard and tier_subsidy.
    pub fn reference(&mut self) -> Result<(), SynthError> {
        let out = self.out.clone();
        let mut rate = Table::create(
            &out,
            "reference/interest_rate.csv",
            "interest_rate",
            INTEREST_RATE,
            Style::zh(Enc::Gb18030, D::Iso, Mn::Dash, Mo::Plain),
        )?;
        for &(y, r) in RATES {
            rate.int(y as i64).money(Decimal::new(r, 2)).end()?;
        }
        let mut std_t = Table::create(
            &out,
            "reference/basic_pension_standard.csv",
            "basic_pension_standard",
            BASIC_STANDARD,
            Style::zh(Enc::Utf8, D::Iso, Mn::Chinese, Mo::Plain),
        )?;
        for &(y, m, fen) in STANDARDS {
            std_t.month(ym(y, m)).money(Decimal::new(fen, 2)).end()?;
        }
        let mut tier = Table::create(
            &out,
            "reference/tier_subsidy.csv",
            "tier_subsidy",
            TIER_SUBSIDY,
            Style {
                shuffle: false,
                ..Style::en(Enc::Utf8Bom, D::Iso, Mn::Dash, Mo::Plain)
            },
        )?;
        for &(t, _) in TIERS {
            tier.int(t as i64).money(tier_subsidy(t));
            for x in tier_split(t) {
                tier.money(x);
            }
            tier.end()?;
        }
        for t in [rate, std_t, tier] {
            self.files.push(t.finish()?);
        }
        Ok(())
    }

    pub fn receipt_books(&mut self, geo: &Geo, receipts: &Receipts) -> Result<(), SynthError> {
        let mut t = Table::create(
            &self.out,
            "operational/receipt_book.csv",
            "receipt_book",
            RECEIPT_BOOK,
            Style::zh(Enc::Utf8Bom, D::Iso, Mn::Dash, Mo::Comma),
        )?;
        for b in receipts.books.iter().filter(|b| b.issue.is_some()) {
            let town = &geo.townships[b.township];
            let voided: Vec<String> = b.voided().into_iter().map(receipt_text).collect();
            t.s(&b.no)
                .s(&receipt_text(b.first))
                .s(&receipt_text(b.last()))
                .s(&town.clerks[b.holder])
                .s(town.name);
            t.opt_date(b.issue)
                .opt_date(b.settle)
                .money(b.collected)
                .money(b.deposited)
                .s(&voided.join(";"))
                .end()?;
        }
        self.files.push(t.finish()?);
        Ok(())
    }

    pub fn fund_ledger(&mut self, rows: &[LedgerRow]) -> Result<(), SynthError> {
        let mut t = Table::create(
            &self.out,
            "fund/fund_ledger.csv",
            "fund_ledger",
            FUND_LEDGER,
            Style::en(Enc::Utf8, D::Iso, Mn::Dash, Mo::Comma),
        )?;
        for r in rows {
            let cp = r.counterpart.map(|c| (c.zh(), c.en())).unwrap_or(("", ""));
            t.e(r.account.zh(), r.account.en())
                .date(r.date)
                .s(&r.voucher)
                .e(
                    if r.inflow { "收" } else { "支" },
                    if r.inflow { "in" } else { "out" },
                );
            t.money(r.amount)
                .e(category_zh(r.category), r.category)
                .e(cp.0, cp.1)
                .end()?;
        }
        self.files.push(t.finish()?);
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
