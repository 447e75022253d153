//! The files that are not one enrollment's records: the registries (public-security
//! register, death records, employee pension, prison), the reference tables, the
//! receipt books and the fund ledger.

use super::layouts::*;
use super::*;

impl Outputs {
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
                    .s(super::super::geo::EMPLOYERS[s.employer])
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

    /// The finance bureau's notices (财政补贴拨付通知), in date order.
    pub fn fiscal_notices(&mut self, notices: &[Notice]) -> Result<(), SynthError> {
        let mut t = Table::create(
            &self.out,
            "fund/财政补贴拨付通知.csv",
            "fiscal_notice",
            FISCAL_NOTICE,
            Style::zh(Enc::Utf8Bom, D::Iso, Mn::Dash, Mo::Plain),
        )?;
        let mut sorted: Vec<&Notice> = notices.iter().collect();
        sorted.sort_by_key(|n| n.date);
        for n in sorted {
            let (lz, le) = LEVELS[n.level];
            t.s(&n.no).date(n.date).e(lz, le);
            t.e(
                if n.basic {
                    "基础养老金"
                } else {
                    "缴费补贴"
                },
                if n.basic {
                    "basic_pension"
                } else {
                    "contribution"
                },
            )
            .money(n.amount)
            .end()?;
        }
        self.files.push(t.finish()?);
        Ok(())
    }
}
