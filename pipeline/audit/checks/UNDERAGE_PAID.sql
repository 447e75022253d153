-- Pension paid before the month after the 60th birthday.
SELECT person_no AS subject, person_no, min(month) AS month_from, max(month) AS month_to,
       sum(total) AS amount_at_risk,
       'born ' || any_value(birth)::VARCHAR || ', pension due from ' ||
       ym(any_value(make_date(year(birth) + p_pension_age(), month(birth), 1)) + INTERVAL 1 MONTH) ||
       '; ' || count(*) || ' payment(s) for ' || ym(min(month)) || '..' || ym(max(month)) ||
       ' totalling ' || sum(total)::VARCHAR AS evidence
FROM a_payeval
WHERE f_underage
GROUP BY person_no
