-- More than one successful payment for the same person and month; the repeats are
-- the amount at risk.
WITH m AS (
    SELECT person_no, month, list(payout_no || ' ' || paid_date::VARCHAR ORDER BY k) AS pays
    FROM a_dupk a
    WHERE EXISTS (SELECT 1 FROM a_dupk d WHERE d.k > 1 AND d.person_no = a.person_no AND d.month = a.month)
    GROUP BY person_no, month
)
SELECT v.person_no AS subject, v.person_no, min(v.month) AS month_from, max(v.month) AS month_to,
       sum(v.total) AS amount_at_risk,
       string_agg(DISTINCT ym(v.month) || ' paid ' || len(m.pays) || ' times (' || array_to_string(m.pays, ', ') || ')', '; ') ||
       '; repeats total ' || sum(v.total)::VARCHAR AS evidence
FROM a_payeval v JOIN m ON m.person_no = v.person_no AND m.month = v.month
WHERE v.f_dup
GROUP BY v.person_no
