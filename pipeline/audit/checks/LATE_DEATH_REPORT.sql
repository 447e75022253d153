-- Death cancellation applied for more than p_death_report_days() days after death.
SELECT person_no AS subject, person_no,
       date_trunc('month', cancel_event)::DATE AS month_from, date_trunc('month', cancel_event)::DATE AS month_to,
       NULL::DECIMAL(18,2) AS amount_at_risk,
       'cancellation 死亡: died ' || cancel_event::VARCHAR || ', applied ' || cancel_apply::VARCHAR || ', ' ||
       datediff('day', cancel_event, cancel_apply) || ' days later (limit ' || p_death_report_days() || ')' AS evidence
FROM a_person
WHERE cancel_reason = 'death' AND datediff('day', cancel_event, cancel_apply) > p_death_report_days()
