-- Books agree (账账相符): every fund-ledger flow, per month, account, category and
-- direction, equals the detail records behind it (both sides: fund_flows.sql).
-- Amount: ledger − detail.
WITH d AS (SELECT * FROM fund_detail_flow WHERE m <= as_of_month()),
l AS (SELECT * FROM fund_ledger_flow WHERE m <= as_of_month()),
span AS (SELECT min(date_trunc('month', txn_date))::DATE AS first_m FROM fund_ledger)
SELECT coalesce(l.account, d.account) || ' ' || coalesce(l.category, d.category) || ' ' ||
           coalesce(l.direction, d.direction) || ' ' || ym(coalesce(l.m, d.m)) AS subject,
       NULL AS person_no, coalesce(l.m, d.m) AS month_from, coalesce(l.m, d.m) AS month_to,
       coalesce(l.amount, 0) - coalesce(d.amount, 0) AS amount_at_risk,
       coalesce(l.account, d.account) || ' ' || ym(coalesce(l.m, d.m)) || ' ' || coalesce(l.category, d.category) ||
       ' (' || coalesce(l.direction, d.direction) || '): fund_ledger ' || coalesce(l.amount, 0)::VARCHAR ||
       ' but detail records ' || coalesce(d.amount, 0)::VARCHAR AS evidence
FROM l FULL OUTER JOIN d ON l.m = d.m AND l.account = d.account AND l.category = d.category AND l.direction = d.direction
WHERE coalesce(l.amount, 0) <> coalesce(d.amount, 0)
  AND coalesce(l.m, d.m) >= (SELECT first_m FROM span)
