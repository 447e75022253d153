-- Coverage (参保率) by township of the register: eligible residents with an active
-- enrollment ÷ eligible residents (docs/rules.md § Coverage rate).
SELECT township,
       count(DISTINCT village) AS villages,
       count(*) AS eligible,
       count(*) FILTER (WHERE enrolled) AS covered,
       count(*) FILTER (WHERE NOT enrolled) AS not_enrolled,
       ratio(count(*) FILTER (WHERE enrolled), count(*)) AS coverage_rate
FROM r_eligible
GROUP BY township
ORDER BY township
