-- The period's key figures (季度工作总结, 年度决算): positions at its end, flows over
-- it, beside the same period a year earlier where a flow has one.
WITH cov AS (
    SELECT count(*) AS eligible, count(*) FILTER (WHERE enrolled) AS covered FROM r_eligible
), enr AS (
    SELECT count(*) FILTER (WHERE active) AS enrolled,
           count(*) FILTER (WHERE enroll_date BETWEEN period_start() AND period_end()) AS new_enrolled,
           count(*) FILTER (WHERE cancel_apply BETWEEN period_start() AND period_end()) AS cancelled
    FROM r_enrolled
), pay AS (
    SELECT count(DISTINCT person_no) FILTER (WHERE status = 'ok' AND month = report_month()) AS beneficiaries,
           count(DISTINCT person_no) FILTER (WHERE status = 'ok' AND month = (report_month() - INTERVAL 1 YEAR)::DATE) AS beneficiaries_ly,
           count(*) FILTER (WHERE month BETWEEN period_start() AND period_end()) AS payout_rows,
           count(*) FILTER (WHERE month BETWEEN period_start() AND period_end() AND status = 'ok') AS payout_ok
    FROM r_paid
), fl AS (
    SELECT sum(now) FILTER (WHERE ord BETWEEN 11 AND 13) AS contributions,
           sum(ly) FILTER (WHERE ord BETWEEN 11 AND 13) AS contributions_ly,
           sum(now) FILTER (WHERE ord BETWEEN 31 AND 44) AS subsidies,
           sum(ly) FILTER (WHERE ord BETWEEN 31 AND 44) AS subsidies_ly,
           sum(now) FILTER (WHERE ord IN (61, 62)) AS paid,
           sum(ly) FILTER (WHERE ord IN (61, 62)) AS paid_ly
    FROM r_flows
), fund AS (
    SELECT sum(closing) AS fund_balance FROM r_fund_month WHERE month = report_month()
), f AS (
    SELECT count(*) AS open_findings, coalesce(sum(abs(amount_at_risk)), 0) AS amount_at_risk
    FROM findings WHERE status IN ('open', 'confirmed')
)
SELECT period_label() AS period, ym(period_start()) AS first_month, ym(period_end()) AS last_month,
       cov.eligible, enr.enrolled, cov.covered, ratio(cov.covered, cov.eligible) AS coverage_rate,
       enr.new_enrolled, enr.cancelled,
       pay.beneficiaries, pay.beneficiaries_ly, ratio(pay.beneficiaries - pay.beneficiaries_ly, pay.beneficiaries_ly) AS beneficiaries_yoy_rate,
       fl.contributions::DECIMAL(18,2) AS contributions, fl.contributions_ly::DECIMAL(18,2) AS contributions_ly,
       fl.subsidies::DECIMAL(18,2) AS subsidies, fl.subsidies_ly::DECIMAL(18,2) AS subsidies_ly,
       fl.paid::DECIMAL(18,2) AS paid, fl.paid_ly::DECIMAL(18,2) AS paid_ly,
       ratio(pay.payout_ok, pay.payout_rows) AS payout_rate,
       coalesce(fund.fund_balance, 0)::DECIMAL(18,2) AS fund_balance,
       f.open_findings, f.amount_at_risk::DECIMAL(18,2) AS amount_at_risk
FROM cov, enr, pay, fl, fund, f
