-- Interrupted contributors (中断缴费) for the latest year whose deadline has passed.
SELECT township, any_value(year) AS year,
       count(*) AS required,
       count(*) FILTER (WHERE paid) AS paid,
       count(*) FILTER (WHERE NOT paid) AS interrupted,
       ratio(count(*) FILTER (WHERE NOT paid), count(*)) AS interruption_rate
FROM r_contrib_duty GROUP BY township ORDER BY township
