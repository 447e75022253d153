-- 异地死亡冒领: paid by one county for months after a death that another county
-- recorded (its death records — cremation, medical certificate, police — or its
-- register's dead status), when the paying county records no death of its own (that
-- case is its own audit's PAID_AFTER_DEATH). Amount: the payments for those months.
WITH death AS (
    SELECT county, id_number, death_date FROM death_record
    UNION ALL
    SELECT county, id_number, status_date AS death_date FROM id_registry
    WHERE status = 'dead' AND status_date IS NOT NULL
), first_death AS (
    SELECT county, id_number, min(death_date) AS death_date
    FROM death WHERE death_date <= report_end() AND id_number IS NOT NULL
    GROUP BY county, id_number
), enrolled AS (
    SELECT county, id_number, max(person_no) AS person_no FROM enrollment GROUP BY county, id_number
)
SELECT p.id_number, p.county, p.person_no, d.county AS other_county,
       max(o.person_no) AS other_person_no,
       min(p.month) AS month_from, max(p.month) AS month_to,
       CAST(sum(p.total_amount) AS DECIMAL(18,2)) AS amount_at_risk,
       'died ' || CAST(d.death_date AS VARCHAR) || ' as recorded in ' || d.county || '; '
           || CAST(count(*) AS VARCHAR) || ' payment(s) by ' || p.county || ' for '
           || CAST(min(p.month) AS VARCHAR) || ' to ' || CAST(max(p.month) AS VARCHAR) AS evidence
FROM payout p
JOIN first_death d ON d.id_number = p.id_number AND d.county <> p.county
LEFT JOIN enrolled o ON o.county = d.county AND o.id_number = p.id_number
WHERE p.status = 'ok' AND p.month > d.death_date
  AND NOT EXISTS (SELECT 1 FROM first_death s WHERE s.county = p.county AND s.id_number = p.id_number)
GROUP BY p.id_number, p.county, p.person_no, d.county, d.death_date
