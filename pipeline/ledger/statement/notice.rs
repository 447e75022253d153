//! The pension-age notice (待遇领取通知表, 附表十一).

use super::*;

/// Persons reaching pension age in the month after `month` (first day of the
/// notice month), whose benefits start the month after that (到龄次月):
/// enrolled, not cancelled, not approved, not registered dead, with their account
/// balance at the end of `month`, the interest accrued to then and not yet posted
/// (what a settlement would post), and the projected account pension
/// ((balance + accrued) ÷ divisor, half-up to the fen).
pub fn notice(
    conn: &Connection,
    month: NaiveDate,
    opts: &StageOptions,
) -> Result<Document, StageError> {
    let end = month_end(month);
    let age = opts.rules.pension_age as i32;
    let born_from = month_of_index(month_index(month) + 1 - 12 * age);
    let born_to = month_end(born_from);
    let start = month_of_index(month_index(month) + 2);
    let d = |x: NaiveDate| format!("DATE '{}'", x.format("%Y-%m-%d"));
    let sql = format!(
        "WITH lc AS (SELECT person_no, field, new_value FROM change WHERE change_date <= {end} \
           QUALIFY row_number() OVER (PARTITION BY person_no, field ORDER BY change_date DESC, _file_seq DESC, _line DESC) = 1), \
         e AS (SELECT * FROM enrollment \
           QUALIFY row_number() OVER (PARTITION BY person_no ORDER BY _file_seq, _line) = 1) \
         SELECT e.person_no, e.id_number, \
           coalesce((SELECT new_value FROM lc WHERE lc.person_no = e.person_no AND field = 'name'), e.name), \
           e.sex, e.birth_date, \
           coalesce((SELECT new_value FROM lc WHERE lc.person_no = e.person_no AND field = 'township'), e.township), \
           coalesce((SELECT new_value FROM lc WHERE lc.person_no = e.person_no AND field = 'village'), e.village), \
           coalesce((SELECT new_value FROM lc WHERE lc.person_no = e.person_no AND field = 'phone'), e.phone) \
         FROM e WHERE e.birth_date BETWEEN {bf} AND {bt} AND e.birth_date > {old} AND e.enroll_date <= {end} \
           AND NOT EXISTS (SELECT 1 FROM cancellation c WHERE c.person_no = e.person_no AND c.apply_date <= {end}) \
           AND NOT EXISTS (SELECT 1 FROM benefit_approval a WHERE a.person_no = e.person_no AND a.approve_date <= {end}) \
           AND NOT EXISTS (SELECT 1 FROM death_record r WHERE r.id_number = e.id_number AND r.death_date <= {end}) \
         ORDER BY 6, 7, 1",
        end = d(end),
        bf = d(born_from),
        bt = d(born_to),
        old = d(opts.rules.old_cohort_born_by),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok([
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            r.get::<_, Option<NaiveDate>>(4)?
                .map(|d| d.to_string())
                .unwrap_or_default(),
            r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            r.get::<_, Option<String>>(7)?.unwrap_or_default(),
        ])
    })?;
    let mut people = Vec::new();
    for r in rows {
        people.push(r?);
    }
    let mut o = opts.clone();
    o.through = end;
    let persons: Vec<String> = people.iter().map(|p| p[0].clone()).collect();
    let (outs, refs, _) = replay_persons(conn, &persons, &o)?;
    let by_person: BTreeMap<&str, &crate::ledger::stage::PersonOut> = outs
        .iter()
        .map(|(_, out)| (out.person_no.as_str(), out))
        .collect();
    let basic = refs.standard(start);
    let mut rows = Vec::new();
    let mut errors = 0;
    for p in &people {
        let out = by_person.get(p[0].as_str());
        let (balance, accrued) = out
            .and_then(|o| o.replay.as_ref())
            .map(|r| {
                let y = end.year();
                r.years
                    .iter()
                    .filter(|a| a.year == y)
                    .fold((Decimal::ZERO, Decimal::ZERO), |(b, i), a| {
                        (b + a.closing, i + a.accrued_unposted)
                    })
            })
            .unwrap_or_default();
        if out.is_some_and(|o| o.error.is_some()) {
            errors += 1;
        }
        let projected = balance + accrued;
        let pension = round_fen(projected / o.params.divisor);
        rows.push(vec![
            t(&p[0]),
            t(&p[2]),
            t(&p[3]),
            t(&p[1]),
            t(&p[4]),
            t(&p[5]),
            t(&p[6]),
            t(&p[7]),
            Cell::Month(start),
            Cell::Money(balance),
            Cell::Money(accrued),
            Cell::Money(projected),
            Cell::Money(pension),
            opt_money(basic),
            opt_money(basic.map(|b| b + pension)),
        ]);
    }
    let mut facts = vec![
        ("通知月份 month".to_string(), Cell::Month(month)),
        ("待遇开始 benefits from".to_string(), Cell::Month(start)),
        ("人数 persons".to_string(), Cell::Int(rows.len() as i64)),
        (
            "计发月数 divisor".to_string(),
            t(o.params.divisor.to_string()),
        ),
    ];
    if errors > 0 {
        facts.push(("记账错误 ledger errors".to_string(), Cell::Int(errors)));
    }
    Ok(Document {
        title: "待遇领取通知表 (附表十一) persons reaching pension age next month".into(),
        facts,
        tables: vec![Table {
            title: "名单 list".into(),
            headers: [
                "个人编号 person_no",
                "姓名 name",
                "性别 sex",
                "公民身份号码 id_number",
                "出生日期 birth_date",
                "乡镇 township",
                "村(居) village",
                "联系电话 phone",
                "待遇开始 start",
                "月末余额 balance",
                "应计利息 accrued",
                "预计储存额 projected",
                "预计个人账户养老金 account pension",
                "基础养老金 basic",
                "预计月养老金 monthly",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        }],
    })
}
