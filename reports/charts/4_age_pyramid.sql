-- Active enrollees by five-year age band (on the report date) and sex.
WITH a AS (
    SELECT sex, least(age_at(birth_date, report_end()) // 5 * 5, 85) AS band_start
    FROM r_enrolled WHERE active AND birth_date IS NOT NULL
)
SELECT CASE WHEN band_start >= 85 THEN '85+' ELSE band_start::VARCHAR || '-' || (band_start + 4)::VARCHAR END AS band,
       count(*) FILTER (WHERE sex = 'M') AS male,
       count(*) FILTER (WHERE sex = 'F') AS female
FROM a GROUP BY band_start ORDER BY band_start
