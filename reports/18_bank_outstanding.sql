-- The outstanding items (未达账项) behind the reconciliation statement at the end of
-- the report month: every book or bank line dated on or before it that is not
-- matched by then, with its kind, its age in days at the month end and where it
-- came from (file and line). From the table bank_line; docs/rules.md § Bank
-- reconciliation.
SELECT account_zh(account) AS account,
       CASE side || ' ' || direction
           WHEN 'book in' THEN '企业已收银行未收'
           WHEN 'book out' THEN '企业已付银行未付'
           WHEN 'bank in' THEN '银行已收企业未收'
           ELSE '银行已付企业未付' END AS kind,
       date, amount, (report_end() - date)::BIGINT AS age_days, ref,
       CASE WHEN side = 'book' THEN category_zh(label) ELSE label END AS label, file, line
FROM bank_line
WHERE date <= report_end() AND (match_id IS NULL OR matched_on > report_end())
ORDER BY account_order(account), side, direction, date, file, line
