-- Interest credited to the individual accounts over the period (年度利息结算), by
-- sub-balance: the settlements at approval, cancellation or transfer out (in their
-- month) and the year-end posting of 31 December (docs/rules.md § Individual
-- account), from the ledger's postings (pipeline ledger), with the year's rate.
WITH subs AS (
    SELECT * FROM (VALUES (1, 'individual', '个人缴费'), (2, 'collective', '集体补助'),
                          (3, 'government', '政府补贴'), (4, 'transfer', '转入'),
                          (5, 'prepaid', '预缴(预收户)')) t(ord, holding, holding_zh)
), i AS (
    SELECT holding, kind, person_no, amount FROM account_event
    WHERE kind IN ('interest', 'settlement_interest') AND date BETWEEN period_start() AND period_end()
)
SELECT s.holding_zh AS sub_balance,
       (SELECT max(rate) FROM interest_rate WHERE year = year(period_end())) AS rate,
       count(DISTINCT i.person_no) AS persons,
       coalesce(sum(i.amount) FILTER (WHERE i.kind = 'settlement_interest'), 0)::DECIMAL(18,2) AS settlement_interest,
       coalesce(sum(i.amount) FILTER (WHERE i.kind = 'interest'), 0)::DECIMAL(18,2) AS year_end_interest,
       coalesce(sum(i.amount), 0)::DECIMAL(18,2) AS interest
FROM subs s LEFT JOIN i USING (holding)
GROUP BY s.ord, s.holding_zh ORDER BY s.ord
