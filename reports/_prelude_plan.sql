-- The fund plan (基金支出计划表, 附表十四; rules 第四十条) for the plan year
-- year(period_start()), projected from the warehouse as of report_end() (the end of
-- the year before, or of the latest month with payouts when that is earlier).
-- Runs only for `pipeline plan`, after _prelude.sql (files _prelude_PACKAGE.sql run
-- for their package only). The assumptions are stated in
-- plan_assumptions (a sheet of the plan) and in docs/rules.md § Fund plan.
CREATE OR REPLACE TEMP MACRO plan_year() AS year(period_start());
CREATE OR REPLACE TEMP MACRO base_year() AS year(period_start()) - 1;

-- The tier standards (latest row per tier); a level without its column is county.
CREATE OR REPLACE TEMP TABLE plan_tiers AS
SELECT tier, subsidy,
       coalesce(central, 0)::DECIMAL(18,2) AS central, coalesce(province, 0)::DECIMAL(18,2) AS province,
       coalesce(city, 0)::DECIMAL(18,2) AS city,
       (subsidy - coalesce(central, 0) - coalesce(province, 0) - coalesce(city, 0))::DECIMAL(18,2) AS county
FROM (SELECT tier, arg_max(subsidy, _file_seq) AS subsidy, arg_max(central, _file_seq) AS central,
             arg_max(province, _file_seq) AS province, arg_max(city, _file_seq) AS city
      FROM tier_subsidy GROUP BY tier);

-- Who is expected to contribute in the plan year: enrolled and active at the base
-- date, not receiving benefits, with a successful subsidised (normal or prepaid)
-- contribution for the base year, and aged 16–60 in the plan year (the year of the
-- 60th birthday still requires a contribution); at the tier they paid for the base
-- year. Back payments get no subsidy and are not planned.
CREATE OR REPLACE TEMP TABLE plan_contributors AS
WITH paid AS (
    -- The first contribution of the year (of two paid the same day, the lower voucher).
    SELECT person_no, arg_min(amount, struct_pack(d := paid_date, v := voucher_no)) AS tier
    FROM contribution
    WHERE status = 'ok' AND kind <> 'backpay' AND year = base_year() AND paid_date <= report_end()
    GROUP BY person_no
)
SELECT e.person_no, e.township, p.tier::BIGINT AS tier
FROM r_enrolled e JOIN paid p USING (person_no)
WHERE e.active AND e.benefit_start IS NULL
  AND plan_year() - year(e.birth_date) BETWEEN p_min_age() AND p_pension_age()
  AND e.id_number NOT IN (SELECT id_number FROM r_dead);

-- The base year's death rate among beneficiaries: of those paid in the base month a
-- year before, the share dead by the base date (the plan assumes the same rate,
-- deaths spread evenly over the year).
CREATE OR REPLACE TEMP TABLE plan_mortality AS
WITH before AS (
    SELECT DISTINCT p.person_no, e.id_number FROM payout p JOIN r_enrolled e USING (person_no)
    WHERE p.status = 'ok' AND p.month = (report_month() - INTERVAL 1 YEAR)::DATE
)
SELECT count(*) AS paid_a_year_before,
       count(*) FILTER (WHERE id_number IN (SELECT id_number FROM r_dead)) AS died,
       coalesce(ratio(count(*) FILTER (WHERE id_number IN (SELECT id_number FROM r_dead)), count(*)), 0)::DECIMAL(18,6) AS rate
FROM before;

-- Each month of the plan year with its standard, the central minimum and the
-- expected share of today's beneficiaries still alive in it (1 − q·(k − ½)/12).
CREATE OR REPLACE TEMP TABLE plan_months AS
SELECT b.month, month(b.month) AS k, b.standard, least(b.standard, b.central_min)::DECIMAL(18,2) AS central_part,
       (1 - (SELECT rate FROM plan_mortality) * (month(b.month) - 0.5) / 12)::DECIMAL(18,6) AS alive
FROM r_basic_month b WHERE year(b.month) = plan_year();

-- Who will receive the basic pension in the plan year: the beneficiaries paid in
-- the base month (every month, times the share alive), and the residents of the
-- register who reach 60 in the plan year, from the month after their birthday,
-- counted when they are enrolled and active (those not enrolled are shown, not
-- planned: they cannot claim without enrolling).
CREATE OR REPLACE TEMP TABLE plan_beneficiaries AS
SELECT DISTINCT 'current' AS who, p.person_no, e.id_number, e.township, DATE '1900-01-01' AS start_month
FROM payout p JOIN r_enrolled e USING (person_no)
WHERE p.status = 'ok' AND p.month = report_month() AND e.active
  AND e.id_number NOT IN (SELECT id_number FROM r_dead)
UNION ALL
SELECT 'new', e.person_no, r.id_number, r.township,
       (date_trunc('month', r.birth_date) + INTERVAL (p_pension_age() * 12 + 1) MONTH)::DATE
FROM r_reg r JOIN r_enrolled e ON e.id_number = r.id_number AND e.active AND e.benefit_start IS NULL
WHERE r.status = 'normal' AND year(r.birth_date) + p_pension_age() = plan_year()
  AND r.id_number NOT IN (SELECT id_number FROM r_dead)
  AND r.id_number NOT IN (SELECT id_number FROM r_employee);

-- Person-months and amounts by level for each group.
CREATE OR REPLACE TEMP TABLE plan_basic AS
WITH m AS (
    SELECT b.who, count(*) FILTER (WHERE m.month >= b.start_month) AS persons_in_month,
           m.month, any_value(m.standard) AS standard, any_value(m.central_part) AS central_part,
           any_value(CASE WHEN b.who = 'current' THEN m.alive ELSE 1 END) AS alive
    FROM plan_beneficiaries b CROSS JOIN plan_months m GROUP BY b.who, m.month
)
SELECT who, (sum(persons_in_month * alive))::DECIMAL(18,2) AS person_months,
       round(sum(persons_in_month * alive * standard), 2)::DECIMAL(18,2) AS basic,
       round(sum(persons_in_month * alive * central_part), 2)::DECIMAL(18,2) AS central
FROM m GROUP BY who;
