-- Open audit findings (稽核疑点) from the latest audit run, largest amount first.
SELECT f.finding_id, f.check_code, c.title_zh AS check_title, f.township, f.village, f.person_no,
       mask_id(f.id_number) AS id_number, f.name, ym(f.month_from) AS month_from, ym(f.month_to) AS month_to,
       f.amount_at_risk, mask_text(f.evidence) AS evidence, f.status
FROM findings f LEFT JOIN audit_check c ON c.code = f.check_code
WHERE f.status IN ('open', 'confirmed')
ORDER BY f.amount_at_risk DESC NULLS LAST, f.check_code, f.finding_id
