-- Paid ≠ basic standard in force for the month + approved account pension.
-- Amount at risk: paid − due (negative when underpaid).
SELECT person_no AS subject, person_no, min(month) AS month_from, max(month) AS month_to,
       sum(total - coalesce(due, 0)) AS amount_at_risk,
       CASE WHEN bool_or(due IS NULL) THEN 'no benefit approval (or no basic standard) for ' ||
                 count(*) FILTER (WHERE due IS NULL) || ' payment(s); ' ELSE '' END ||
       array_to_string(list(ym(month) || ' paid ' || total::VARCHAR || ' but due ' ||
                            coalesce(std_amount::VARCHAR, '?') || ' + ' || coalesce(appr_account::VARCHAR, '?') ||
                            ' = ' || coalesce(due::VARCHAR, '?') ORDER BY month)[1:6], '; ') ||
       CASE WHEN count(*) > 6 THEN '; … ' || count(*) || ' months' ELSE '' END AS evidence
FROM a_payeval
WHERE f_amount
GROUP BY person_no
