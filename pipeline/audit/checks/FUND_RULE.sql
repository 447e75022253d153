-- Fund accounts: the income account (收入户) must be zero at each month end; the
-- expenditure account (支出户) must keep one to two months of benefit payments.
WITH months AS (
    SELECT unnest(generate_series(min(date_trunc('month', txn_date)), as_of_month()::TIMESTAMP, INTERVAL 1 MONTH))::DATE AS m
    FROM fund_ledger
), flows AS (
    SELECT account, date_trunc('month', txn_date)::DATE AS m,
           sum(CASE WHEN direction = 'in' THEN amount ELSE -amount END) AS net,
           sum(amount) FILTER (WHERE direction = 'out' AND category IN ('basic_pension', 'account_pension')) AS payouts
    FROM fund_ledger WHERE txn_date <= as_of_end()
    GROUP BY ALL
), bal AS (
    SELECT a.account, months.m,
           sum(coalesce(f.net, 0)) OVER (PARTITION BY a.account ORDER BY months.m) AS closing,
           coalesce(f.payouts, 0) AS payouts
    FROM months CROSS JOIN (SELECT DISTINCT account FROM fund_ledger) a
    LEFT JOIN flows f ON f.account = a.account AND f.m = months.m
)
SELECT 'income ' || ym(m) AS subject, NULL AS person_no, m AS month_from, m AS month_to,
       closing AS amount_at_risk,
       'income account 收入户 ' || ym(m) || ': balance ' || closing::VARCHAR || ' left at month end (must be zero)' AS evidence
FROM bal WHERE account = 'income' AND closing <> 0
UNION ALL
SELECT 'expenditure ' || ym(m), NULL, m, m, NULL::DECIMAL(18,2),
       'expenditure account 支出户 ' || ym(m) || ': closing balance ' || closing::VARCHAR || ' is ' ||
       CASE WHEN payouts > 0 THEN round(closing / payouts, 2)::VARCHAR ELSE '∞' END ||
       ' months of the month''s payouts ' || payouts::VARCHAR ||
       ' (must be ' || p_working_min_months() || '–' || p_working_max_months() || ')'
FROM bal
WHERE account = 'expenditure'
  AND (closing < payouts * p_working_min_months() OR closing > payouts * p_working_max_months())
