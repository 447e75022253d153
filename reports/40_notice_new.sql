-- Village public notice (村级公示, rules 第五十六条), part 1: the persons newly found
-- eligible for the pension — benefit approvals (待遇核定) dated in the notice month —
-- with the village of the enrollment. The notice is posted where anyone can read
-- it: the name is shown so villagers can recognise the person; the ID number is
-- always masked (the birth date hidden, whatever --unmasked says elsewhere); no
-- bank account, phone or address.
WITH a AS (
    -- The latest approval; of two approved the same day, the later start month.
    SELECT person_no, arg_max(start_month, struct_pack(d := approve_date, m := start_month)) AS start_month,
           arg_max(basic_monthly + account_monthly, struct_pack(d := approve_date, m := start_month)) AS monthly
    FROM benefit_approval
    WHERE approve_date BETWEEN report_month() AND report_end()
    GROUP BY person_no
)
SELECT e.township, e.village, e.name, sex_zh(e.sex) AS sex, masked_id(e.id_number) AS id_masked,
       age_at(e.birth_date, a.start_month) AS age, ym(a.start_month) AS start_month,
       a.monthly::DECIMAL(18,2) AS monthly
FROM a JOIN r_enrolled e USING (person_no)
ORDER BY e.township, e.village, a.start_month, e.name
