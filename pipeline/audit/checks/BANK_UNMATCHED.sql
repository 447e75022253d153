-- A book or bank line still unmatched (an outstanding item, 未达账项) when the
-- matching window and one more month have passed since its date: no longer timing.
-- One finding per line of bank_line (the bank reconciliation, pipeline/reconcile/);
-- amount at risk = the line. docs/rules.md § Bank reconciliation.
SELECT side || ' ' || account || ' ' || ref AS subject, NULL AS person_no,
       date_trunc('month', date)::DATE AS month_from, as_of_month() AS month_to,
       amount AS amount_at_risk,
       CASE side WHEN 'book' THEN 'book line 账簿 (fund_ledger)' ELSE 'bank line 银行对账单' END ||
       ' of the ' || account || ' account (' || account_no || ') ' || strftime(date, '%Y-%m-%d') || ' ' ||
       direction || ' ' || amount::VARCHAR || ' ' || CASE WHEN label = '' THEN '' ELSE '“' || label || '” ' END ||
       '(' || ref || ', ' || file || ' line ' || line::VARCHAR || '): ' ||
       CASE side || ' ' || direction
           WHEN 'book in' THEN '企业已收银行未收'
           WHEN 'book out' THEN '企业已付银行未付'
           WHEN 'bank in' THEN '银行已收企业未收'
           ELSE '银行已付企业未付' END ||
       ', unmatched at ' || strftime(as_of_end(), '%Y-%m-%d') || ', more than ' || p_bank_window_days()::VARCHAR ||
       ' days plus one month after its date' AS evidence,
       -- the facts alone (no file, line or audit date): a dismissed finding stays
       -- dismissed when the same line comes again in another file
       side || ' ' || account || ' ' || ref || ' ' || strftime(date, '%Y-%m-%d') || ' ' || direction || ' ' ||
       amount::VARCHAR AS evidence_key
FROM bank_line
WHERE date <= as_of_end()
  AND (match_id IS NULL OR matched_on > as_of_end())
  AND date + INTERVAL (p_bank_window_days()) DAY + INTERVAL 1 MONTH <= as_of_end()
