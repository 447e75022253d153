-- Basic pension planned for the plan year: today's beneficiaries (every month, times
-- the share expected alive) and the enrolled residents reaching 60 in the year (from
-- the month after their birthday), times each month's standard, with the central
-- part; and, for a year with data, what was paid.
WITH groups AS (
    SELECT * FROM (VALUES (1, 'current', '现有领取人员'), (2, 'new', '当年新增到龄人员')) t(ord, who, label)
), persons AS (
    SELECT who, count(*) AS persons FROM plan_beneficiaries GROUP BY who
), reaching AS (
    -- Everyone in the register reaching 60 in the plan year, enrolled or not.
    SELECT count(*) AS n FROM r_reg
    WHERE status = 'normal' AND year(birth_date) + p_pension_age() = plan_year()
      AND id_number NOT IN (SELECT id_number FROM r_dead)
      AND id_number NOT IN (SELECT id_number FROM r_employee)
), paid AS (
    SELECT count(DISTINCT person_no) AS persons, count(*) AS months, sum(basic_amount) AS basic
    FROM payout WHERE status = 'ok' AND year(month) = plan_year()
)
SELECT g.label AS item, coalesce(p.persons, 0) AS persons,
       CASE g.who WHEN 'new' THEN (SELECT n FROM reaching) END AS register_reaching_60,
       coalesce(b.person_months, 0)::DECIMAL(18,2) AS person_months,
       coalesce(b.central, 0)::DECIMAL(18,2) AS central,
       (coalesce(b.basic, 0) - coalesce(b.central, 0))::DECIMAL(18,2) AS local,
       coalesce(b.basic, 0)::DECIMAL(18,2) AS basic
FROM groups g LEFT JOIN persons p USING (who) LEFT JOIN plan_basic b USING (who)
UNION ALL
SELECT '实际发放（当年已有数据时）', persons, NULL, months::DECIMAL(18,2), NULL, NULL, basic::DECIMAL(18,2)
FROM paid WHERE months > 0
