-- One ID number enrolled here and in another county at once (跨地区重复参保), as the province found it
-- (reports/province/DUAL_ENROLLMENT.sql) and sent it back (province_finding), from this
-- county's side (a_province, checks/prelude.sql).
SELECT subject, person_no, month_from, month_to, amount_at_risk, evidence
FROM a_province WHERE check_code = 'DUAL_ENROLLMENT'
