-- Successful payouts (发放年月) and beneficiaries over the 24 months to the report month.
WITH months AS (
    SELECT unnest(generate_series((report_month() - INTERVAL 23 MONTH)::TIMESTAMP,
                                  report_month()::TIMESTAMP, INTERVAL 1 MONTH))::DATE AS month
)
SELECT ym(m.month) AS month,
       (coalesce(sum(p.total_amount), 0) / 10000)::DECIMAL(18,4) AS paid_wan,
       count(DISTINCT p.person_no) AS beneficiaries
FROM months m LEFT JOIN r_paid p ON p.month = m.month AND p.status = 'ok'
GROUP BY m.month ORDER BY m.month
