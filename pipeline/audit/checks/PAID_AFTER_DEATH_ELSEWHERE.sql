-- Paid here after a death another county recorded, or paid elsewhere after a death recorded here (异地死亡冒领), as the province found it
-- (reports/province/PAID_AFTER_DEATH_ELSEWHERE.sql) and sent it back (province_finding), from this
-- county's side (a_province, checks/prelude.sql).
SELECT subject, person_no, month_from, month_to, amount_at_risk, evidence
FROM a_province WHERE check_code = 'PAID_AFTER_DEATH_ELSEWHERE'
