-- Pension paid for months after the death month (冒领): months and total overpaid.
-- Death from any source (death.sql), with its sources in the evidence.
SELECT person_no AS subject, person_no, min(month) AS month_from, max(month) AS month_to,
       sum(total) AS amount_at_risk,
       any_value(e.death_evidence) || '; ' || count(*) || ' payment(s) for ' || ym(min(month)) || '..' ||
       ym(max(month)) || ' totalling ' || sum(total)::VARCHAR AS evidence
FROM a_payeval JOIN a_person e USING (person_no)
WHERE f_after_death
GROUP BY person_no
