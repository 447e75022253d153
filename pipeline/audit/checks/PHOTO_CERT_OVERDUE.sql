-- Rules 第三十四条: a beneficiary is certified by photo (照相认证) at least once in
-- p_photo_cert_years() years. A beneficiary paid in the audit month whose last passed
-- photo certification — or, without one, the start of benefits, whose application
-- carries two recent photos (第二十六条) — is older than that at the month's end
-- (docs/rules.md § PHOTO_CERT_OVERDUE). 认证方式 is a required column of the
-- certification file, so every accepted certification says whether it was a photo.
WITH paid AS (
    SELECT DISTINCT person_no FROM a_payout_src
    WHERE status = 'ok' AND month = as_of_month()
), photo AS (
    SELECT person_no, max(cert_date) AS last_photo, count(*) AS photos
    FROM certification
    WHERE method = 'photo' AND result = 'pass' AND cert_date <= as_of_end()
    GROUP BY person_no
), other AS (
    SELECT person_no, max(cert_date) AS last_cert,
           string_agg(DISTINCT method, '/' ORDER BY method) AS methods
    FROM certification
    WHERE result = 'pass' AND cert_date <= as_of_end()
    GROUP BY person_no
), due AS (
    SELECT p.person_no, p.appr_start, ph.last_photo, o.last_cert, o.methods,
           greatest(coalesce(ph.last_photo, p.appr_start), p.appr_start) AS basis
    FROM a_person p
    JOIN paid USING (person_no)
    LEFT JOIN photo ph USING (person_no)
    LEFT JOIN other o USING (person_no)
    WHERE p.appr_start IS NOT NULL
)
SELECT person_no AS subject, person_no,
       date_trunc('month', basis + to_years(p_photo_cert_years()))::DATE AS month_from,
       as_of_month() AS month_to,
       NULL::DECIMAL(18,2) AS amount_at_risk,
       'benefits since ' || ym(appr_start) || '; ' ||
       CASE WHEN last_photo IS NULL OR last_photo < appr_start
            THEN 'no photo certification since the application'
            ELSE 'last photo certification ' || last_photo::VARCHAR END ||
       '; due by ' || (basis + to_years(p_photo_cert_years()))::DATE::VARCHAR ||
       ' (every ' || p_photo_cert_years() || ' years)' ||
       CASE WHEN last_cert IS NULL THEN '; no certification recorded'
            ELSE '; last certified ' || last_cert::VARCHAR || ' (' || coalesce(methods, 'method not given') || ')' END ||
       '; paid ' || ym(as_of_month()) AS evidence
FROM due
WHERE basis < as_of_end() - to_years(p_photo_cert_years())
