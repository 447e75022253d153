-- Death cancellation applied more than p_death_report_days() days after death, the
-- death being the earliest date any source gives (death.sql: the register, each death
-- record, the cancellation's own event date), not the cancellation's date alone
-- (docs/rules.md § LATE_DEATH_REPORT).
SELECT person_no AS subject, person_no,
       date_trunc('month', death_date)::DATE AS month_from, date_trunc('month', death_date)::DATE AS month_to,
       NULL::DECIMAL(18,2) AS amount_at_risk,
       'cancellation 死亡 applied ' || cancel_apply::VARCHAR || ', ' ||
       datediff('day', death_date, cancel_apply) || ' days after death (limit ' || p_death_report_days() || ')' ||
       CASE WHEN cancel_event IS DISTINCT FROM death_date
            THEN '; the cancellation gives ' || coalesce(cancel_event::VARCHAR, 'no date') || ' but an earlier source is known'
            ELSE '' END || '; ' || death_evidence AS evidence
FROM a_person
WHERE cancel_reason = 'death' AND death_date IS NOT NULL
  AND datediff('day', death_date, cancel_apply) > p_death_report_days()
