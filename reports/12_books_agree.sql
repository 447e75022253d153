-- Books agree (账账相符) for the report period (a month, quarter or year): every
-- fund-ledger flow against the detail records behind it (the same comparison as
-- the audit check BOOKS_DISAGREE, from pipeline/audit/fund_flows.sql), summed over
-- the period's months. Difference = ledger − detail.
WITH l AS (SELECT account, category, direction, sum(amount) AS amount FROM fund_ledger_flow
           WHERE m BETWEEN period_start() AND period_end() GROUP BY ALL),
d AS (SELECT account, category, direction, sum(amount) AS amount FROM fund_detail_flow
      WHERE m BETWEEN period_start() AND period_end() GROUP BY ALL)
SELECT account_zh(coalesce(l.account, d.account)) AS account,
       CASE coalesce(l.direction, d.direction) WHEN 'in' THEN '收入' ELSE '支出' END AS direction,
       category_zh(coalesce(l.category, d.category)) AS category,
       coalesce(l.amount, 0)::DECIMAL(18,2) AS ledger_amount,
       coalesce(d.amount, 0)::DECIMAL(18,2) AS detail_amount,
       (coalesce(l.amount, 0) - coalesce(d.amount, 0))::DECIMAL(18,2) AS difference,
       CASE WHEN coalesce(l.amount, 0) = coalesce(d.amount, 0) THEN '相符' ELSE '不符' END AS agrees
FROM l FULL OUTER JOIN d USING (account, category, direction)
ORDER BY account_order(coalesce(l.account, d.account)), direction, category
