-- The figures leadership asks for (one row; the workbook shows it as a list).
WITH cov AS (
    SELECT count(*) AS eligible, count(*) FILTER (WHERE enrolled) AS covered FROM r_eligible
), enr AS (
    SELECT count(*) FILTER (WHERE active) AS enrolled,
           count(*) FILTER (WHERE active AND channel = 'bank') AS bank_payers,
           count(*) FILTER (WHERE active AND channel = 'bank' AND agreement) AS agreements
    FROM r_enrolled
), pay AS (
    SELECT count(DISTINCT person_no) FILTER (WHERE status = 'ok' AND month = report_month()) AS beneficiaries,
           count(DISTINCT person_no) FILTER (WHERE status = 'ok' AND month = (report_month() - INTERVAL 1 YEAR)::DATE) AS beneficiaries_ly,
           coalesce(sum(total_amount) FILTER (WHERE status = 'ok' AND month = report_month()), 0) AS paid_month,
           coalesce(sum(total_amount) FILTER (WHERE status = 'ok' AND month BETWEEN year_start() AND report_month()), 0) AS paid_ytd,
           count(*) FILTER (WHERE month = report_month()) AS payout_rows,
           count(*) FILTER (WHERE month = report_month() AND status = 'ok') AS payout_ok
    FROM r_paid
), fund AS (
    SELECT sum(closing) AS fund_balance FROM r_fund_month WHERE month = report_month()
), f AS (
    -- amounts by their size: a books difference (BOOKS_DISAGREE) may be negative
    SELECT count(*) AS open_findings, coalesce(sum(abs(amount_at_risk)), 0) AS amount_at_risk
    FROM findings WHERE status IN ('open', 'confirmed')
)
SELECT ym(report_month()) AS report_month,
       cov.eligible, enr.enrolled, cov.covered, ratio(cov.covered, cov.eligible) AS coverage_rate,
       enr.agreements, ratio(enr.agreements, enr.bank_payers) AS agreement_rate,
       pay.beneficiaries, pay.beneficiaries - pay.beneficiaries_ly AS beneficiaries_yoy,
       ratio(pay.beneficiaries - pay.beneficiaries_ly, pay.beneficiaries_ly) AS beneficiaries_yoy_rate,
       pay.paid_month, pay.paid_ytd, ratio(pay.payout_ok, pay.payout_rows) AS payout_rate,
       coalesce(fund.fund_balance, 0)::DECIMAL(18,2) AS fund_balance,
       f.open_findings, f.amount_at_risk::DECIMAL(18,2) AS amount_at_risk
FROM cov, enr, pay, fund, f
