-- Month-end balance of each fund account over the 24 months to the report month (万元).
SELECT ym(month) AS month,
       (sum(closing) FILTER (WHERE account = 'income') / 10000)::DECIMAL(18,4) AS income,
       (sum(closing) FILTER (WHERE account = 'fiscal') / 10000)::DECIMAL(18,4) AS fiscal,
       (sum(closing) FILTER (WHERE account = 'expenditure') / 10000)::DECIMAL(18,4) AS expenditure,
       (sum(closing) FILTER (WHERE account = 'prepaid') / 10000)::DECIMAL(18,4) AS prepaid
FROM r_fund_month
WHERE month > (report_month() - INTERVAL 24 MONTH)
GROUP BY month ORDER BY month
