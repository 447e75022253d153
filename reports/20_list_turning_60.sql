-- 待遇领取通知表: active enrollees whose 60th birthday falls in the next month, so the
-- township office can notify them to apply (pension from the month after).
SELECT e.township, e.village, e.person_no, mask_id(e.id_number) AS id_number, e.name,
       sex_zh(e.sex) AS sex, e.birth_date, e.phone, e.tier,
       (SELECT count(DISTINCT year) FROM contribution c
         WHERE c.person_no = e.person_no AND c.status = 'ok') AS years_paid
FROM r_enrolled e
WHERE e.active AND e.benefit_start IS NULL
  AND date_trunc('month', e.birth_date + to_years(p_pension_age())::INTERVAL)::DATE = (report_month() + INTERVAL 1 MONTH)::DATE
  AND e.id_number NOT IN (SELECT id_number FROM r_dead)
ORDER BY e.township, e.village, e.birth_date, e.person_no
