-- One ID number paid a pension here and by another county for the same month (跨地区重复领取), as the province found it
-- (reports/province/DUAL_PAYOUT.sql) and sent it back (province_finding), from this
-- county's side (a_province, checks/prelude.sql).
SELECT subject, person_no, month_from, month_to, amount_at_risk, evidence
FROM a_province WHERE check_code = 'DUAL_PAYOUT'
