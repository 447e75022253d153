-- The assumptions the plan rests on, with the figures they were taken from, so the
-- finance bureau can check them (docs/rules.md § Fund plan).
SELECT * FROM (VALUES
    (1, '计划年度', plan_year()::VARCHAR, '自然年度 1月1日至12月31日'),
    (2, '测算基准日', strftime(report_end(), '%Y-%m-%d'),
        '以此日在册参保、领取及户籍数据为基础（上年末；数据不足时为最后一个有发放数据的月末）'),
    (3, '计划缴费人数', (SELECT count(*) FROM plan_contributors)::VARCHAR,
        '基准年度(' || base_year() || ')有成功的正常或预缴缴费、基准日仍在册未领取待遇、计划年度年满16至60周岁者，按基准年度所缴档次继续缴费；补缴不享受补贴，不列入计划；新参保人员不预计'),
    (4, '缴费补贴标准', (SELECT count(*) FROM plan_tiers)::VARCHAR || ' 个档次',
        '缴费档次补贴标准表的现行标准；未分级的部分计入县级'),
    (5, '现有领取人员', (SELECT count(*) FROM plan_beneficiaries WHERE who = 'current')::VARCHAR,
        '基准月发放成功、在册且无死亡记录者，全年每月领取'),
    (6, '死亡率', strftime(report_end(), '%Y') || '年测算：' ||
        (SELECT died FROM plan_mortality)::VARCHAR || ' / ' || (SELECT paid_a_year_before FROM plan_mortality)::VARCHAR ||
        ' = ' || round((SELECT rate FROM plan_mortality) * 100, 2)::VARCHAR || '%',
        '上年同月领取人员中至基准日死亡的比例；计划年度按同一比例、全年均匀死亡减少发放人月'),
    (7, '新增到龄人员', (SELECT count(*) FROM plan_beneficiaries WHERE who = 'new')::VARCHAR,
        '户籍正常、计划年度年满60周岁、已参保在册者，从60周岁次月起领取；未参保者单列不计'),
    (8, '基础养老金标准', (SELECT string_agg(DISTINCT standard::VARCHAR, ' / ') FROM plan_months),
        '各月执行的基础养老金标准（已发布的新标准按其起始月）'),
    (9, '资金分级', '中央最低标准 ' || (SELECT string_agg(DISTINCT least(standard, central_part)::VARCHAR, ' / ') FROM plan_months)
        || ' 元；地方部分省级 ' || p_province_percent() || '%、市级 ' || p_city_percent() || '%、县级其余',
        '参数 basic_pension_central、basic_pension_province_percent、basic_pension_city_percent'),
    (10, '个人账户养老金', '不列入', '由个人账户支付，不属于财政补贴计划')
) t(ord, item, value, note)
ORDER BY ord
