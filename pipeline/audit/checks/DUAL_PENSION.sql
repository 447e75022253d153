-- Resident pension paid in months covered by the employee pension (contributing or
-- receiving). A spell marked ended (终止) without an end date covered months nobody
-- recorded: its payments from the spell's start month on are listed for review,
-- with no amount (docs/rules.md § DUAL_PENSION).
WITH spells AS (
    SELECT id_number,
           array_to_string(list_sort(list(
               'employee_pension ' || CASE status WHEN 'contributing' THEN '参保缴费' WHEN 'receiving' THEN '领取待遇' ELSE '终止' END ||
               ' from ' || start_date::VARCHAR ||
               CASE WHEN end_unknown THEN ' (no end date)' ELSE coalesce(' to ' || end_date::VARCHAR, '') END ||
               coalesce(' (' || employer || ')', ''))), '; ') AS spell
    FROM a_emp GROUP BY id_number
)
SELECT person_no AS subject, person_no, min(month) AS month_from, max(month) AS month_to,
       sum(total) FILTER (WHERE f_dual) AS amount_at_risk,
       any_value(s.spell) ||
       CASE WHEN bool_or(f_dual)
            THEN '; ' || count(*) FILTER (WHERE f_dual) || ' resident payment(s) for ' ||
                 ym(min(month) FILTER (WHERE f_dual)) || '..' || ym(max(month) FILTER (WHERE f_dual)) ||
                 ' totalling ' || sum(total) FILTER (WHERE f_dual)::VARCHAR
            ELSE '' END ||
       CASE WHEN bool_or(f_dual_review)
            THEN '; for review: ' || count(*) FILTER (WHERE f_dual_review) || ' resident payment(s) for ' ||
                 ym(min(month) FILTER (WHERE f_dual_review)) || '..' || ym(max(month) FILTER (WHERE f_dual_review)) ||
                 ' since an employee-pension spell marked ended (终止) began; it has no end date, so which were covered is unknown (no amount)'
            ELSE '' END AS evidence
FROM a_payeval v LEFT JOIN spells s USING (id_number)
WHERE f_dual OR f_dual_review
GROUP BY person_no
