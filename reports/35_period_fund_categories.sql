-- Fund-account income and expenditure by category (科目; the transfers between the
-- centre's accounts as 划入 / 划出, not income and expenditure) over the period, and the
-- same period a year earlier.
SELECT account_zh(account) AS account,
       CASE WHEN internal_transfer(category) THEN CASE direction WHEN 'in' THEN '划入' ELSE '划出' END
            WHEN direction = 'in' THEN '收入' ELSE '支出' END AS direction,
       category_zh(category) AS category,
       coalesce(sum(amount) FILTER (WHERE txn_date BETWEEN period_start() AND period_end()), 0)::DECIMAL(18,2) AS amount,
       coalesce(sum(amount) FILTER (WHERE txn_date BETWEEN ly_start() AND ly_end()), 0)::DECIMAL(18,2) AS amount_ly
FROM fund_ledger
WHERE txn_date BETWEEN period_start() AND period_end() OR txn_date BETWEEN ly_start() AND ly_end()
GROUP BY account, direction, category
ORDER BY account_order(account), direction, category
