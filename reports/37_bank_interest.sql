-- The year's interest (年度利息结算): per fund account, the interest the banks
-- credited (statement lines of its bank accounts whose summary says 利息 or 结息,
-- income) against the interest booked (fund_ledger category interest, income) over
-- the report period. Difference = bank − booked. docs/rules.md § Bank reconciliation.
WITH bank AS (
    SELECT ba.account, string_agg(DISTINCT s.account_no, ', ') AS account_no, count(*) AS bank_lines,
           sum(coalesce(s.income, 0) - coalesce(s.expense, 0)) AS bank_interest
    FROM bank_statement s JOIN bank_account ba USING (account_no)
    WHERE s.txn_date BETWEEN period_start() AND period_end()
      AND (s.summary LIKE '%利息%' OR s.summary LIKE '%结息%')
    GROUP BY ba.account
), booked AS (
    SELECT account, sum(amount) AS booked_interest
    FROM fund_ledger
    WHERE category = 'interest' AND direction = 'in' AND txn_date BETWEEN period_start() AND period_end()
    GROUP BY account
), accounts AS (
    SELECT account, string_agg(account_no, ', ' ORDER BY account_no) AS account_no FROM bank_account GROUP BY account
)
SELECT account_zh(coalesce(b.account, k.account)) AS account,
       coalesce(a.account_no, b.account_no, '') AS account_no,
       coalesce(b.bank_lines, 0) AS bank_lines,
       coalesce(b.bank_interest, 0)::DECIMAL(18,2) AS bank_interest,
       coalesce(k.booked_interest, 0)::DECIMAL(18,2) AS booked_interest,
       (coalesce(b.bank_interest, 0) - coalesce(k.booked_interest, 0))::DECIMAL(18,2) AS difference,
       CASE WHEN coalesce(b.bank_interest, 0) = coalesce(k.booked_interest, 0) THEN '相符' ELSE '不符' END AS agrees
FROM bank b FULL OUTER JOIN booked k USING (account)
LEFT JOIN accounts a ON a.account = coalesce(b.account, k.account)
ORDER BY account_order(coalesce(b.account, k.account))
