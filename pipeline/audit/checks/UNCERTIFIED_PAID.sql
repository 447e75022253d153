-- A payment for May or later of a year (from the second year of benefits on) made
-- before that year's passed certification, with no suspension recorded.
SELECT person_no AS subject, person_no, min(month) AS month_from, max(month) AS month_to,
       sum(total) AS amount_at_risk,
       'benefits since ' || ym(any_value(appr_start)) || '; ' ||
       string_agg(DISTINCT year(month)::VARCHAR || CASE WHEN first_pass IS NULL THEN ' never certified'
                                           ELSE ' certified only on ' || first_pass::VARCHAR END, '; ') ||
       '; no suspension; ' || count(*) || ' payment(s) for ' || ym(min(month)) || '..' || ym(max(month)) ||
       ' totalling ' || sum(total)::VARCHAR AS evidence
FROM a_payeval
WHERE f_uncertified
GROUP BY person_no
