-- Contribution subsidies planned by tier: the expected contributors (plan_contributors)
-- times the tier's standard by level; beside them, for a year with data, those who
-- did contribute at that tier (a successful normal or prepaid contribution for the
-- plan year) and the subsidies credited to them.
WITH planned AS (
    SELECT tier, count(*) AS contributors FROM plan_contributors GROUP BY tier
), actual AS (
    SELECT tier, count(*) AS contributors FROM (
        SELECT person_no, arg_min(amount, struct_pack(d := paid_date, v := voucher_no))::BIGINT AS tier FROM contribution
        WHERE status = 'ok' AND kind <> 'backpay' AND year = plan_year() GROUP BY person_no)
    GROUP BY tier
), tiers AS (SELECT tier FROM planned UNION SELECT tier FROM actual)
SELECT t.tier, coalesce(s.subsidy, 0)::DECIMAL(18,2) AS subsidy,
       coalesce(p.contributors, 0) AS contributors,
       (coalesce(p.contributors, 0) * coalesce(s.central, 0))::DECIMAL(18,2) AS central,
       (coalesce(p.contributors, 0) * coalesce(s.province, 0))::DECIMAL(18,2) AS province,
       (coalesce(p.contributors, 0) * coalesce(s.city, 0))::DECIMAL(18,2) AS city,
       (coalesce(p.contributors, 0) * coalesce(s.county, 0))::DECIMAL(18,2) AS county,
       (coalesce(p.contributors, 0) * coalesce(s.subsidy, 0))::DECIMAL(18,2) AS total,
       a.contributors AS contributors_actual
FROM tiers t LEFT JOIN planned p USING (tier) LEFT JOIN actual a USING (tier) LEFT JOIN plan_tiers s USING (tier)
ORDER BY t.tier
