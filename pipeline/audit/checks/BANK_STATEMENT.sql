-- A bank account's statements do not join: a line's balance is not the previous
-- line's balance + income − expense. Inside one file that is refused at ingest, so
-- what is left is a gap between statements (a missing statement, a line left out).
-- Lines in order: date, then file (its period, then its name), then line. Amount =
-- the jump (balance − expected). docs/rules.md § Bank reconciliation.
WITH s AS (
    SELECT coalesce(ba.account, 'unlisted') AS account, s.account_no, s.txn_date, s.bank_ref,
           s.balance, coalesce(s.income, 0) AS income, coalesce(s.expense, 0) AS expense,
           s._file, s._line,
           lag(s.balance) OVER w AS prev_balance,
           lag(s.txn_date) OVER w AS prev_date,
           lag(s._file) OVER w AS prev_file,
           lag(s._line) OVER w AS prev_line
    FROM bank_statement s LEFT JOIN bank_account ba USING (account_no)
    WHERE s.txn_date <= as_of_end()
    WINDOW w AS (PARTITION BY s.account_no
                 ORDER BY s.txn_date, s.period_from NULLS FIRST, s._file, s._line)
)
SELECT account || ' ' || account_no || ' ' || bank_ref AS subject, NULL AS person_no,
       date_trunc('month', txn_date)::DATE AS month_from, date_trunc('month', txn_date)::DATE AS month_to,
       (balance - (prev_balance + income - expense))::DECIMAL(18,2) AS amount_at_risk,
       'statement of the ' || account || ' account (' || account_no || ') does not join: ' ||
       prev_file || ' line ' || prev_line::VARCHAR || ' (' || strftime(prev_date, '%Y-%m-%d') ||
       ') leaves balance ' || prev_balance::VARCHAR || ', so ' || _file || ' line ' || _line::VARCHAR ||
       ' (' || strftime(txn_date, '%Y-%m-%d') || ', ' || bank_ref || ', income ' || income::VARCHAR ||
       ', expense ' || expense::VARCHAR || ') should show ' || (prev_balance + income - expense)::VARCHAR ||
       ' but shows ' || balance::VARCHAR AS evidence,
       -- the facts alone, without the files and lines (lineage, not substance)
       account_no || ' ' || bank_ref || ' ' || strftime(txn_date, '%Y-%m-%d') || ' should show ' ||
       (prev_balance + income - expense)::VARCHAR || ' shows ' || balance::VARCHAR AS evidence_key
FROM s
WHERE prev_balance IS NOT NULL AND prev_balance + income - expense <> balance
