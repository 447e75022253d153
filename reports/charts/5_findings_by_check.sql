-- Open audit findings by check code, with the amount at risk (largest first; a
-- books difference counts by its size, whichever side is short).
SELECT f.check_code || ' ' || coalesce(c.title_zh, '') AS category,
       coalesce(sum(abs(f.amount_at_risk)), 0)::DECIMAL(18,2) AS value,
       count(*) AS findings
FROM findings f LEFT JOIN audit_check c ON c.code = f.check_code
WHERE f.status IN ('open', 'confirmed')
GROUP BY f.check_code, c.title_zh
ORDER BY value DESC, f.check_code
