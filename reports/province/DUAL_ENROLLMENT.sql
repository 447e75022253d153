-- 跨地区重复参保: one ID number with an active enrollment in two counties at the end
-- of the report month (enrolled by then, no cancellation applied for by then).
-- When both counties also paid the person for the same month, DUAL_PAYOUT names the
-- pair instead (with the amount to recover), so it is not listed twice.
-- Every table carries `county`; SQL kept to what DuckDB and Spark both read.
WITH active AS (
    SELECT e.county, e.person_no, e.id_number, e.name, e.enroll_date
    FROM enrollment e
    WHERE (e.enroll_date IS NULL OR e.enroll_date <= report_end())
      AND NOT EXISTS (
          SELECT 1 FROM cancellation c
          WHERE c.county = e.county AND c.person_no = e.person_no AND c.apply_date <= report_end())
), paid AS (
    SELECT DISTINCT county, id_number, month FROM payout WHERE status = 'ok'
)
SELECT a.id_number, a.county, a.person_no, b.county AS other_county, b.person_no AS other_person_no,
       CAST(date_trunc('month', greatest(a.enroll_date, b.enroll_date)) AS DATE) AS month_from,
       CAST(NULL AS DATE) AS month_to,
       CAST(NULL AS DECIMAL(18,2)) AS amount_at_risk,
       'enrolled in ' || a.county || ' as ' || a.person_no || ' since ' || CAST(a.enroll_date AS VARCHAR)
           || ' and in ' || b.county || ' as ' || b.person_no || ' since ' || CAST(b.enroll_date AS VARCHAR)
           || ', both active on ' || CAST(report_end() AS VARCHAR) AS evidence
FROM active a
JOIN active b ON a.id_number = b.id_number AND a.county < b.county
WHERE NOT EXISTS (
    SELECT 1 FROM paid p JOIN paid q ON p.id_number = q.id_number AND p.month = q.month
    WHERE p.id_number = a.id_number AND p.county = a.county AND q.county = b.county)
