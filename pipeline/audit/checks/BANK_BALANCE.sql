-- The bank reconciliation statement (银行存款余额调节表) does not balance, found in
-- the month the error entered: per account and month end whose difference (bank
-- side − book side) is not the previous month's (0 before the first). Amount =
-- difference − previous difference. docs/rules.md § Bank reconciliation.
WITH r AS (
    SELECT *, coalesce(lag(difference) OVER (PARTITION BY account ORDER BY month), 0) AS prev_difference
    FROM bank_reconciliation
    WHERE month <= as_of_month()
)
SELECT account || ' ' || ym(month) AS subject, NULL AS person_no, month AS month_from, month AS month_to,
       (difference - prev_difference)::DECIMAL(18,2) AS amount_at_risk,
       'reconciliation of the ' || account || ' account (' || account_no || ') at ' ||
       strftime(last_day(month), '%Y-%m-%d') || ': bank side ' || bank_side::VARCHAR ||
       ' = bank balance ' || bank_balance::VARCHAR || ' + 企业已收银行未收 ' || book_in_not_bank::VARCHAR ||
       ' − 企业已付银行未付 ' || book_out_not_bank::VARCHAR || '; book side ' || book_side::VARCHAR ||
       ' = book balance ' || book_balance::VARCHAR || ' + 银行已收企业未收 ' || bank_in_not_book::VARCHAR ||
       ' − 银行已付企业未付 ' || bank_out_not_book::VARCHAR || '; difference ' || difference::VARCHAR ||
       ' (previous month ' || prev_difference::VARCHAR || ')' AS evidence
FROM r
WHERE difference <> prev_difference
