-- Fund plan (附表十四) by funding level: the contribution subsidies and the basic
-- pension the plan year needs, and — once the year has data — what was actually
-- credited and paid, for the year-end reckoning with the finance bureau (核算).
-- Actual basic pension = the year's successful payouts, split by funding level as
-- the plan is; 基础养老金补助到账 = the basic-pension subsidies credited for the year.
WITH levels AS (
    SELECT * FROM (VALUES (1, 'central', '中央'), (2, 'province', '省级'), (3, 'city', '市级'), (4, 'county', '县级')) t(ord, level, level_zh)
), cplan AS (
    SELECT sum(t.central) AS central, sum(t.province) AS province, sum(t.city) AS city, sum(t.county) AS county
    FROM plan_contributors c JOIN plan_tiers t USING (tier)
), bplan AS (
    SELECT sum(central) AS central, sum(basic) - sum(central) AS local FROM plan_basic
), cact AS (
    SELECT level, sum(amount) AS amount FROM government_subsidy
    WHERE kind = 'contribution' AND year = plan_year() GROUP BY level
), bcredited AS (
    SELECT level, sum(amount) AS amount FROM government_subsidy
    WHERE kind = 'basic_pension' AND year = plan_year() GROUP BY level
), bpaid AS (
    SELECT sum(least(p.basic_amount, coalesce(b.central_min, 0))) AS central,
           sum(p.basic_amount) - sum(least(p.basic_amount, coalesce(b.central_min, 0))) AS local,
           count(*) AS n
    FROM payout p LEFT JOIN r_basic_month b USING (month)
    WHERE p.status = 'ok' AND year(p.month) = plan_year()
), has_actual AS (
    SELECT (SELECT n FROM bpaid) > 0 OR EXISTS (SELECT 1 FROM cact) AS yes
), rows AS (
    SELECT l.ord, l.level_zh,
           CASE l.level WHEN 'central' THEN cplan.central WHEN 'province' THEN cplan.province
                        WHEN 'city' THEN cplan.city ELSE cplan.county END AS contribution_plan,
           CASE l.level WHEN 'central' THEN bplan.central WHEN 'province' THEN local_province(bplan.local)
                        WHEN 'city' THEN local_city(bplan.local) ELSE local_county(bplan.local) END AS basic_plan,
           CASE WHEN has_actual.yes THEN coalesce(cact.amount, 0) END AS contribution_actual,
           CASE WHEN has_actual.yes THEN CASE l.level WHEN 'central' THEN bpaid.central
                        WHEN 'province' THEN local_province(bpaid.local) WHEN 'city' THEN local_city(bpaid.local)
                        ELSE local_county(bpaid.local) END END AS basic_actual,
           CASE WHEN has_actual.yes THEN coalesce(bcredited.amount, 0) END AS basic_credited
    FROM levels l CROSS JOIN cplan CROSS JOIN bplan CROSS JOIN bpaid CROSS JOIN has_actual
    LEFT JOIN cact USING (level) LEFT JOIN bcredited USING (level)
)
SELECT level_zh AS level,
       coalesce(contribution_plan, 0)::DECIMAL(18,2) AS contribution_plan,
       coalesce(basic_plan, 0)::DECIMAL(18,2) AS basic_plan,
       (coalesce(contribution_plan, 0) + coalesce(basic_plan, 0))::DECIMAL(18,2) AS total_plan,
       contribution_actual::DECIMAL(18,2) AS contribution_actual,
       basic_actual::DECIMAL(18,2) AS basic_actual,
       (contribution_actual + basic_actual)::DECIMAL(18,2) AS total_actual,
       (contribution_actual + basic_actual - coalesce(contribution_plan, 0) - coalesce(basic_plan, 0))::DECIMAL(18,2) AS difference,
       ratio(contribution_actual + basic_actual, coalesce(contribution_plan, 0) + coalesce(basic_plan, 0)) AS execution_rate,
       basic_credited::DECIMAL(18,2) AS basic_credited
FROM rows ORDER BY ord
