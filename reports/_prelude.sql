-- Shared tables for the monthly reports, built once per run before any report.
-- The engine defines these macros first:
--   report_month()  the 1st of the report month        report_end()  its last day
--   year_start()    1 January of the report year        ym(d)         'YYYY-MM'
--   age_at(b, d)    full years from birth date b to date d
--   contribution_year()  the latest year whose deadline (31 October) has passed by report_end()
--   p_pension_age() 60, p_min_age() 16, p_deadline_month() 10, p_deadline_day() 31
--   (parameters: docs/rules.md § Rule parameters)
-- Files in reports/ whose names start with "_" are not reports: this one runs first.

-- The public-security register, newest snapshot, one row per ID.
CREATE OR REPLACE TEMP TABLE r_reg AS
SELECT id_number, name, sex, birth_date, township, village, hukou_type,
       coalesce(in_school, false) AS in_school, status, status_date
FROM id_registry
QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY _line DESC) = 1;

-- Dead by the report date according to any death record.
-- A death known only from a cancellation for death (注销登记: 死亡) counts too, as in
-- the audit's one definition of death (docs/rules.md § Death).
CREATE OR REPLACE TEMP TABLE r_dead AS
SELECT DISTINCT id_number FROM death_record WHERE death_date <= report_end()
UNION
SELECT id_number FROM cancellation
WHERE reason = 'death' AND event_date <= report_end() AND apply_date <= report_end()
  AND id_number IS NOT NULL;

-- Contributing to or receiving the urban employee pension on the report date.
CREATE OR REPLACE TEMP TABLE r_employee AS
SELECT DISTINCT id_number FROM employee_pension
WHERE status IN ('contributing', 'receiving') AND start_date <= report_end()
  AND (end_date IS NULL OR end_date > report_end());

-- Every enrollment as of the report date: the newest enrollment row, the village and
-- tier after change records, cancellation (by its application date) and approval.
CREATE OR REPLACE TEMP TABLE r_enrolled AS
WITH e AS (
    SELECT * FROM enrollment
    WHERE enroll_date IS NULL OR enroll_date <= report_end()
    QUALIFY row_number() OVER (PARTITION BY person_no ORDER BY _file_seq DESC, _line DESC) = 1
), ch AS (
    -- The last change of each field; of two on one day the later recorded (file,
    -- line), as the audit reads them (checks/prelude.sql a_person).
    SELECT person_no,
           arg_max(new_value, struct_pack(d := change_date, s := _file_seq, l := _line)) FILTER (WHERE field = 'village') AS village,
           arg_max(new_value, struct_pack(d := change_date, s := _file_seq, l := _line)) FILTER (WHERE field = 'tier') AS tier,
           arg_max(new_value, struct_pack(d := change_date, s := _file_seq, l := _line)) FILTER (WHERE field = 'phone') AS phone
    FROM change WHERE change_date <= report_end() GROUP BY person_no
), c AS (
    SELECT person_no, arg_min(reason, apply_date) AS cancel_reason, min(apply_date) AS cancel_apply
    FROM cancellation WHERE apply_date <= report_end() GROUP BY person_no
), a AS (
    SELECT person_no, min(start_month) AS start_month FROM benefit_approval
    WHERE start_month <= report_month() GROUP BY person_no
), paid_by AS (
    -- How a person pays: the channel of the latest contribution (bank when none yet);
    -- of two paid the same day, the higher voucher number. Without that tie-break
    -- each engine picks its own (at 1M persons DuckDB and Spark differed by 2).
    SELECT person_no, arg_max(channel, struct_pack(d := paid_date, v := voucher_no)) AS channel FROM contribution
    WHERE paid_date <= report_end() GROUP BY person_no
)
SELECT e.person_no, e.id_number, e.name, e.sex, e.birth_date, e.township,
       coalesce(ch.village, e.village) AS village,
       coalesce(try_cast(ch.tier AS BIGINT), e.tier) AS tier,
       coalesce(ch.phone, e.phone) AS phone,
       e.enroll_date, e.agreement, coalesce(paid_by.channel, 'bank') AS channel,
       c.cancel_reason, c.cancel_apply, c.person_no IS NULL AS active,
       a.start_month AS benefit_start
FROM e
LEFT JOIN ch USING (person_no)
LEFT JOIN c USING (person_no)
LEFT JOIN a USING (person_no)
LEFT JOIN paid_by USING (person_no);

-- Eligible residents (docs/rules.md § Eligible residents): in the register with status
-- normal and no death record, aged 16 or over on the report date, not a full-time
-- student, not in the employee pension; `enrolled` when an active enrollment has
-- the same ID. Townships and villages are the register's.
CREATE OR REPLACE TEMP TABLE r_eligible AS
SELECT r.id_number, r.name, r.sex, r.birth_date, age_at(r.birth_date, report_end()) AS age,
       r.township, r.village,
       EXISTS (SELECT 1 FROM r_enrolled e WHERE e.active AND e.id_number = r.id_number) AS enrolled
FROM r_reg r
WHERE r.status = 'normal'
  AND r.id_number NOT IN (SELECT id_number FROM r_dead)
  AND r.id_number NOT IN (SELECT id_number FROM r_employee)
  AND NOT r.in_school
  AND age_at(r.birth_date, report_end()) >= p_min_age();

-- Payments by 发放年月 (payout.month) over the 24 months to the report month (what
-- any report compares: this month, last month, the same month last year, the year
-- to date, the 24-month chart), with the payee's township.
CREATE OR REPLACE TEMP TABLE r_paid AS
SELECT p.person_no, p.month, p.status, p.basic_amount, p.account_amount, p.total_amount,
       coalesce(e.township, '(未登记 not enrolled)') AS township
FROM payout p LEFT JOIN r_enrolled e USING (person_no)
WHERE p.month BETWEEN (report_month() - INTERVAL 23 MONTH)::DATE AND report_month();

-- Transfers between the centre's own accounts (划转: income → fiscal, fiscal →
-- expenditure, prepaid → fiscal): booked on both accounts, they move money inside
-- the fund and are neither its income nor its expenditure (docs/rules.md § Fund
-- tables: internal transfers).
CREATE OR REPLACE TEMP MACRO internal_transfer(category) AS
    category IN ('to_fiscal', 'from_fiscal', 'prepaid_carry');

-- Fund-account flows per month, with the running month-end balance: income and
-- expenditure are the fund's own (internal transfers left out), transfer_in and
-- transfer_out the 划转 received from and sent to the other accounts, so that
-- opening + income − expenditure + transfer_in − transfer_out = closing.
CREATE OR REPLACE TEMP TABLE r_fund_month AS
WITH flows AS (
    SELECT account, date_trunc('month', txn_date)::DATE AS month,
           sum(amount) FILTER (WHERE direction = 'in' AND NOT internal_transfer(category)) AS income,
           sum(amount) FILTER (WHERE direction = 'out' AND NOT internal_transfer(category)) AS expenditure,
           sum(amount) FILTER (WHERE direction = 'in' AND internal_transfer(category)) AS transfer_in,
           sum(amount) FILTER (WHERE direction = 'out' AND internal_transfer(category)) AS transfer_out
    FROM fund_ledger WHERE txn_date <= report_end() GROUP BY ALL
), accounts AS (SELECT DISTINCT account FROM fund_ledger),
months AS (
    SELECT unnest(generate_series((SELECT min(month) FROM flows)::TIMESTAMP,
                                  report_month()::TIMESTAMP, INTERVAL 1 MONTH))::DATE AS month
), grid AS (
    SELECT a.account, m.month, coalesce(f.income, 0)::DECIMAL(18,2) AS income,
           coalesce(f.expenditure, 0)::DECIMAL(18,2) AS expenditure,
           coalesce(f.transfer_in, 0)::DECIMAL(18,2) AS transfer_in,
           coalesce(f.transfer_out, 0)::DECIMAL(18,2) AS transfer_out,
           (coalesce(f.income, 0) - coalesce(f.expenditure, 0)
            + coalesce(f.transfer_in, 0) - coalesce(f.transfer_out, 0)) AS net
    FROM accounts a CROSS JOIN months m LEFT JOIN flows f USING (account, month)
)
SELECT account, month,
       (coalesce(sum(net) OVER w_before, 0))::DECIMAL(18,2) AS opening,
       income, expenditure, transfer_in, transfer_out,
       (sum(net) OVER w_to)::DECIMAL(18,2) AS closing
FROM grid
WINDOW w_before AS (PARTITION BY account ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
       w_to AS (PARTITION BY account ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

-- Chinese names for stored codes.
CREATE OR REPLACE TEMP MACRO account_zh(a) AS CASE a
    WHEN 'income' THEN '收入户' WHEN 'expenditure' THEN '支出户'
    WHEN 'fiscal' THEN '财政专户' WHEN 'prepaid' THEN '预收户' ELSE a END;
CREATE OR REPLACE TEMP MACRO account_order(a) AS CASE a
    WHEN 'income' THEN 1 WHEN 'fiscal' THEN 2 WHEN 'expenditure' THEN 3 WHEN 'prepaid' THEN 4 ELSE 5 END;
CREATE OR REPLACE TEMP MACRO category_zh(c) AS CASE c
    WHEN 'contribution' THEN '个人缴费' WHEN 'collective' THEN '集体补助'
    WHEN 'subsidy_central' THEN '财政补贴-中央' WHEN 'subsidy_province' THEN '财政补贴-省级'
    WHEN 'subsidy_city' THEN '财政补贴-市级' WHEN 'subsidy_county' THEN '财政补贴-县级'
    WHEN 'interest' THEN '利息收入' WHEN 'transfer_in' THEN '转移收入'
    WHEN 'to_fiscal' THEN '划转财政专户' WHEN 'from_fiscal' THEN '财政专户拨入'
    WHEN 'basic_pension' THEN '基础养老金支出' WHEN 'account_pension' THEN '个人账户养老金支出'
    WHEN 'refund' THEN '退保/丧葬支出' WHEN 'transfer_out' THEN '转移支出'
    WHEN 'prepaid_carry' THEN '预收结转' ELSE c END;
CREATE OR REPLACE TEMP MACRO sex_zh(s) AS CASE s WHEN 'M' THEN '男' WHEN 'F' THEN '女' ELSE s END;
CREATE OR REPLACE TEMP MACRO ratio(n, d) AS
    CASE WHEN d = 0 OR d IS NULL THEN NULL ELSE round(n::DECIMAL(38,10) / d, 6)::DECIMAL(18,6) END;
-- ID numbers in lists for action, masked unless the run is --unmasked: masked_id
-- (pipeline/mask.sql, the one definition) hides the birth date — an 18-character
-- number keeps its first 6 and last 4, a legacy 15-digit one its first 6 and last 3.
CREATE OR REPLACE TEMP MACRO mask_id(s) AS
    CASE WHEN p_unmasked() THEN s ELSE masked_id(s) END;

-- The account pension of an approval (docs/rules.md § Benefits): the balance ÷ the
-- divisor (parameter account_divisor, p_account_divisor()), half-up to the fen,
-- exactly: DuckDB divides decimals as doubles, so the quotient is taken in whole
-- fen over the divisor scaled to an integer (4 decimals), rounding half away from zero.
CREATE OR REPLACE TEMP MACRO account_pension_of(balance) AS
    (sign(balance) * ((abs(balance * 100)::HUGEINT * 20000 + (p_account_divisor() * 10000)::HUGEINT)
                      // (2 * (p_account_divisor() * 10000)::HUGEINT))::DECIMAL(18,0) * 0.01)::DECIMAL(18,2);

-- Who had to contribute for contribution_year() (enrolled by its 31 October, active,
-- not yet receiving, aged 16 to 60 in that year — the year of the 60th birthday
-- still requires a contribution) and whether a successful contribution for that
-- year was paid by the deadline; the others are interrupted (中断缴费).
CREATE OR REPLACE TEMP TABLE r_contrib_duty AS
WITH deadline AS (SELECT make_date(contribution_year(), p_deadline_month(), p_deadline_day()) AS d),
paid AS (
    SELECT person_no, bool_or(year = contribution_year() AND paid_date <= (SELECT d FROM deadline)) AS paid_year,
           max(year) AS last_paid_year
    FROM contribution WHERE status = 'ok' AND paid_date <= report_end() GROUP BY person_no
)
SELECT e.person_no, e.id_number, e.name, e.sex, e.birth_date, e.township, e.village, e.phone, e.tier,
       contribution_year() AS year, coalesce(p.paid_year, false) AS paid, p.last_paid_year
FROM r_enrolled e LEFT JOIN paid p USING (person_no)
WHERE e.active AND e.enroll_date <= (SELECT d FROM deadline)
  AND (e.benefit_start IS NULL OR e.benefit_start > (SELECT d FROM deadline))
  AND contribution_year() - year(e.birth_date) BETWEEN p_min_age() AND p_pension_age();
-- The same inside free text (a finding's evidence): ID numbers of 15 or 18 digits,
-- malformed ones as the checks quote them, and bank accounts (masked_text,
-- pipeline/mask.sql).
CREATE OR REPLACE TEMP MACRO mask_text(s) AS
    CASE WHEN p_unmasked() THEN s ELSE masked_text(s) END;

-- The basic pension standard in force each month, and the part of it the central
-- budget funds (docs/rules.md § Basic pension by funding level): the central
-- minimum (parameter basic_pension_central, table p_basic_central) up to the
-- county's standard; the rest is local, shared by province and city by the
-- parameters' percentages (p_province_percent(), p_city_percent()) and the county
-- taking what is left, so the parts always add up to the fen. Months from the
-- scheme's start to two years past the report month (a plan looks a year ahead).
CREATE OR REPLACE TEMP TABLE r_basic_month AS
WITH months AS (
    SELECT unnest(generate_series(DATE '2011-07-01'::TIMESTAMP,
                                  (report_month() + INTERVAL 24 MONTH)::TIMESTAMP, INTERVAL 1 MONTH))::DATE AS month
), std AS (
    SELECT m.month, arg_max(s.amount, s.from_month) AS standard
    FROM months m JOIN basic_pension_standard s ON s.from_month <= m.month GROUP BY m.month
), central AS (
    SELECT m.month, arg_max(c.amount, c.from_month) AS central_min
    FROM months m JOIN p_basic_central c ON c.from_month <= m.month GROUP BY m.month
)
SELECT month, standard, coalesce(central_min, 0)::DECIMAL(18,2) AS central_min
FROM std LEFT JOIN central USING (month);

-- An amount of basic pension (one month's, or a period's total for one month's
-- standard) split by funding level: the central part of each month's payments is
-- at most the central minimum per payment; the local part is split by percent,
-- rounded half-up to the fen, the county taking the remainder.
CREATE OR REPLACE TEMP MACRO local_province(local) AS round(local * p_province_percent() / 100, 2)::DECIMAL(18,2);
CREATE OR REPLACE TEMP MACRO local_city(local) AS round(local * p_city_percent() / 100, 2)::DECIMAL(18,2);
CREATE OR REPLACE TEMP MACRO local_county(local) AS
    (local - round(local * p_province_percent() / 100, 2) - round(local * p_city_percent() / 100, 2))::DECIMAL(18,2);

-- Flows of a period (period_start() … period_end()) and of the same period a year
-- earlier (ly_start() … ly_end()), one row per item, for the flows table and the
-- fund-plan comparison: contributions by kind (paid date), collective subsidies
-- (paid date), government subsidies by kind and level (credited date), pensions
-- paid by part (发放年月), refunds (cancellations, by application date) and
-- transfers (by date). `ord` orders the items; `now`/`ly` are the two periods' sums.
CREATE OR REPLACE TEMP MACRO in_period(d) AS d BETWEEN period_start() AND period_end();
CREATE OR REPLACE TEMP MACRO in_ly(d) AS d BETWEEN ly_start() AND ly_end();
CREATE OR REPLACE TEMP TABLE r_flows AS
WITH labels AS (
    SELECT * FROM (VALUES
        (11, '收入', '个人缴费-正常缴费'), (12, '收入', '个人缴费-补缴'), (13, '收入', '个人缴费-预缴'),
        (20, '收入', '集体补助'),
        (31, '收入', '政府缴费补贴-中央'), (32, '收入', '政府缴费补贴-省级'),
        (33, '收入', '政府缴费补贴-市级'), (34, '收入', '政府缴费补贴-县级'),
        (41, '收入', '政府基础养老金补助-中央'), (42, '收入', '政府基础养老金补助-省级'),
        (43, '收入', '政府基础养老金补助-市级'), (44, '收入', '政府基础养老金补助-县级'),
        (50, '收入', '转移收入(转入)'),
        (61, '支出', '基础养老金发放'), (62, '支出', '个人账户养老金发放'),
        (70, '支出', '退保/丧葬退还'), (80, '支出', '转移支出(转出)')) t(ord, side, item)
), level_ord AS (
    SELECT * FROM (VALUES ('central', 1), ('province', 2), ('city', 3), ('county', 4)) t(level, n)
), raw AS (
    SELECT CASE kind WHEN 'normal' THEN 11 WHEN 'backpay' THEN 12 ELSE 13 END AS ord, paid_date AS d, amount
        FROM contribution WHERE status = 'ok'
    UNION ALL SELECT 20, paid_date, amount FROM collective_subsidy
    UNION ALL SELECT CASE g.kind WHEN 'contribution' THEN 30 ELSE 40 END + l.n, g.credited_date, g.amount
        FROM government_subsidy g JOIN level_ord l USING (level)
    UNION ALL SELECT CASE direction WHEN 'in' THEN 50 ELSE 80 END, date, amount FROM transfer
    UNION ALL SELECT 61, month, basic_amount FROM payout WHERE status = 'ok'
    UNION ALL SELECT 62, month, account_amount FROM payout WHERE status = 'ok'
    UNION ALL SELECT 70, apply_date, refund_amount FROM cancellation WHERE refund_amount > 0
), items AS (SELECT * FROM raw WHERE in_period(d) OR in_ly(d))
SELECT l.ord, l.side, l.item,
       coalesce(sum(i.amount) FILTER (WHERE in_period(i.d)), 0)::DECIMAL(18,2) AS now,
       coalesce(sum(i.amount) FILTER (WHERE in_ly(i.d)), 0)::DECIMAL(18,2) AS ly
FROM labels l LEFT JOIN items i USING (ord)
GROUP BY l.ord, l.side, l.item;
