-- Dead per the register or a death record (or a death cancellation of the same ID
-- under another person number: death.sql), but the enrollment is not cancelled.
SELECT person_no AS subject, person_no,
       date_trunc('month', death_date)::DATE AS month_from, date_trunc('month', death_date)::DATE AS month_to,
       NULL::DECIMAL(18,2) AS amount_at_risk,
       death_evidence || '; enrollment ' || person_no || ' not cancelled' ||
       CASE WHEN appr_start IS NOT NULL THEN ' (receiving since ' || ym(appr_start) || ')' ELSE '' END AS evidence
FROM a_person
WHERE death_date IS NOT NULL AND cancel_apply IS NULL
