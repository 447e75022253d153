-- Coverage rate by township (register townships), lowest first so the laggards stand out.
SELECT township AS category, coverage_rate AS value
FROM (SELECT township, ratio(count(*) FILTER (WHERE enrolled), count(*)) AS coverage_rate
      FROM r_eligible GROUP BY township)
ORDER BY coverage_rate, township
