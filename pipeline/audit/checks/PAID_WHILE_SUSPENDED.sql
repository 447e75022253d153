-- Pension paid for a month of imprisonment (prison register or a 服刑 suspension;
-- never payable, even later), or paid while an uncertified or other suspension was
-- still in force (the back pay made after certification is correct).
WITH why AS (
    SELECT person_no,
           list('inmate ' || i.start_date::VARCHAR || '..' || coalesce(i.end_date::VARCHAR, 'serving')) AS w
    FROM a_person p JOIN a_inmate i ON p.id_valid AND i.id_number = p.id_number
    GROUP BY person_no
    UNION ALL
    SELECT person_no,
           list('suspension ' || CASE reason WHEN 'prison' THEN '服刑' WHEN 'uncertified' THEN '未认证' ELSE '其他' END ||
                ' ' || ym(start_month) || '..' || coalesce(ym(end_month), 'open'))
    FROM a_susp GROUP BY person_no
), w AS (
    SELECT person_no, array_to_string(list_sort(flatten(list(w))), '; ') AS why FROM why GROUP BY person_no
)
SELECT person_no AS subject, person_no, min(month) AS month_from, max(month) AS month_to,
       sum(total) AS amount_at_risk,
       coalesce(any_value(w.why), '') || '; ' || count(*) || ' payment(s) for ' ||
       array_to_string(list_sort(list(DISTINCT ym(month))), ', ') ||
       ' totalling ' || sum(total)::VARCHAR AS evidence
FROM a_payeval v LEFT JOIN w USING (person_no)
WHERE f_prison OR f_suspended
GROUP BY person_no
