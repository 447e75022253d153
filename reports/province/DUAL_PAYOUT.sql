-- 跨地区重复领取: one ID number paid a pension by two counties for the same month
-- (发放年月, successful payments). The amount to recover is what the county whose
-- benefits started later paid for those months (the second claim; on the same
-- start month, the county with the higher code); it names the other county.
WITH paid AS (
    SELECT county, person_no, id_number, month, sum(total_amount) AS total
    FROM payout WHERE status = 'ok'
    GROUP BY county, person_no, id_number, month
), started AS (
    SELECT county, person_no, min(start_month) AS start_month
    FROM benefit_approval GROUP BY county, person_no
), pairs AS (
    SELECT a.id_number, a.month,
           a.county AS county_a, a.person_no AS person_a, a.total AS total_a, sa.start_month AS start_a,
           b.county AS county_b, b.person_no AS person_b, b.total AS total_b, sb.start_month AS start_b
    FROM paid a
    JOIN paid b ON a.id_number = b.id_number AND a.month = b.month AND a.county < b.county
    LEFT JOIN started sa ON sa.county = a.county AND sa.person_no = a.person_no
    LEFT JOIN started sb ON sb.county = b.county AND sb.person_no = b.person_no
), judged AS (
    SELECT id_number, month, county_a, person_a, county_b, person_b,
           coalesce(start_a > start_b, false) AS a_later,
           CASE WHEN coalesce(start_a > start_b, false) THEN total_a ELSE total_b END AS undue
    FROM pairs
)
SELECT id_number,
       CASE WHEN a_later THEN county_a ELSE county_b END AS county,
       CASE WHEN a_later THEN person_a ELSE person_b END AS person_no,
       CASE WHEN a_later THEN county_b ELSE county_a END AS other_county,
       CASE WHEN a_later THEN person_b ELSE person_a END AS other_person_no,
       min(month) AS month_from, max(month) AS month_to,
       CAST(sum(undue) AS DECIMAL(18,2)) AS amount_at_risk,
       CAST(count(*) AS VARCHAR) || ' month(s) paid by both ' || county_a || ' (' || person_a || ') and '
           || county_b || ' (' || person_b || ') from ' || CAST(min(month) AS VARCHAR) || ' to '
           || CAST(max(month) AS VARCHAR) AS evidence
FROM judged
GROUP BY id_number, county_a, person_a, county_b, person_b, a_later
