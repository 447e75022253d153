-- 中断缴费人员名单 for the latest year whose deadline has passed.
SELECT township, village, person_no, mask_id(id_number) AS id_number, name, sex_zh(sex) AS sex,
       phone, tier, year, last_paid_year
FROM r_contrib_duty WHERE NOT paid
ORDER BY township, village, person_no
