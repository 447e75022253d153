-- Coverage by age band and sex.
WITH b AS (
    SELECT CASE WHEN age < 30 THEN '16-29岁' WHEN age < 40 THEN '30-39岁' WHEN age < 50 THEN '40-49岁'
                WHEN age < 60 THEN '50-59岁' WHEN age < 70 THEN '60-69岁' WHEN age < 80 THEN '70-79岁'
                ELSE '80岁及以上' END AS age_band,
           sex, enrolled
    FROM r_eligible
)
SELECT age_band,
       count(*) FILTER (WHERE sex = 'M') AS eligible_m,
       count(*) FILTER (WHERE sex = 'M' AND enrolled) AS covered_m,
       ratio(count(*) FILTER (WHERE sex = 'M' AND enrolled), count(*) FILTER (WHERE sex = 'M')) AS rate_m,
       count(*) FILTER (WHERE sex = 'F') AS eligible_f,
       count(*) FILTER (WHERE sex = 'F' AND enrolled) AS covered_f,
       ratio(count(*) FILTER (WHERE sex = 'F' AND enrolled), count(*) FILTER (WHERE sex = 'F')) AS rate_f,
       count(*) AS eligible,
       count(*) FILTER (WHERE enrolled) AS covered,
       ratio(count(*) FILTER (WHERE enrolled), count(*)) AS coverage_rate
FROM b GROUP BY age_band ORDER BY age_band
