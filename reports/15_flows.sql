-- The period's income and expenditure from the detail records (收支情况), beside
-- the same period a year earlier (同比): contributions by kind, collective and
-- government subsidies by level, pensions paid by part, refunds and transfers
-- (the prelude's r_flows says which date each is counted by). A month's, quarter's
-- or year's package: every flow of a year is the sum of its twelve months.
SELECT side, item, now AS amount, ly AS amount_ly, (now - ly)::DECIMAL(18,2) AS change,
       ratio(now - ly, ly) AS change_rate
FROM r_flows ORDER BY ord
