-- 扩面名单: eligible residents of the register with no active enrollment.
SELECT township, village, mask_id(id_number) AS id_number, name, sex_zh(sex) AS sex, age
FROM r_eligible WHERE NOT enrolled
ORDER BY township, village, r_eligible.id_number
