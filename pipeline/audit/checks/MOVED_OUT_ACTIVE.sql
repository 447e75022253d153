-- Register says emigrated, or moved out of the county before benefits started (a
-- beneficiary who moves keeps the relationship here), and the enrollment is active.
SELECT person_no AS subject, person_no,
       date_trunc('month', reg_status_date)::DATE AS month_from,
       date_trunc('month', reg_status_date)::DATE AS month_to,
       NULL::DECIMAL(18,2) AS amount_at_risk,
       'id_registry 户籍状态=' || CASE reg_status WHEN 'emigrated' THEN '出国(境)定居' ELSE '迁出' END ||
       ' ' || coalesce(reg_status_date::VARCHAR, '(no date)') ||
       CASE WHEN appr_start IS NULL THEN '; not receiving benefits'
            ELSE '; receiving since ' || ym(appr_start) END ||
       '; enrollment ' || person_no || ' still active' AS evidence
FROM a_person
WHERE registered AND cancel_apply IS NULL AND death_date IS NULL
  AND (reg_status_date IS NULL OR reg_status_date <= as_of_end())
  AND (reg_status = 'emigrated'
       OR (reg_status = 'moved_out' AND (appr_start IS NULL OR appr_start > reg_status_date)))
