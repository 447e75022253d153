-- Coverage by village (of the register), for the township offices.
SELECT township, village,
       count(*) AS eligible,
       count(*) FILTER (WHERE enrolled) AS covered,
       count(*) FILTER (WHERE NOT enrolled) AS not_enrolled,
       ratio(count(*) FILTER (WHERE enrolled), count(*)) AS coverage_rate
FROM r_eligible
GROUP BY township, village
ORDER BY township, village
