-- Resident pension paid in months covered by the employee pension (contributing or
-- receiving).
WITH spells AS (
    SELECT id_number,
           array_to_string(list_sort(list(
               'employee_pension ' || CASE status WHEN 'contributing' THEN '参保缴费' WHEN 'receiving' THEN '领取待遇' ELSE '终止' END ||
               ' from ' || start_date::VARCHAR || coalesce(' to ' || end_date::VARCHAR, '') ||
               coalesce(' (' || employer || ')', ''))), '; ') AS spell
    FROM a_emp GROUP BY id_number
)
SELECT person_no AS subject, person_no, min(month) AS month_from, max(month) AS month_to,
       sum(total) AS amount_at_risk,
       any_value(s.spell) || '; ' || count(*) || ' resident payment(s) for ' || ym(min(month)) || '..' ||
       ym(max(month)) || ' totalling ' || sum(total)::VARCHAR AS evidence
FROM a_payeval v LEFT JOIN spells s USING (id_number)
WHERE f_dual
GROUP BY person_no
