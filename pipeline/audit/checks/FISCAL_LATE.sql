-- A fiscal transfer is booked as income within p_fiscal_booking_working_days() working
-- days (Monday–Friday) of its arrival (第四十条; docs/rules.md § Finance bureau): a
-- notice whose matched book line (fiscal_pair in fund_flows.sql) is dated later is a
-- late booking. Both dated by the audit month's end; the finding is in the notice's
-- month. Amount: the notice's amount.
SELECT 'fiscal notice ' || ref AS subject, NULL AS person_no,
       date_trunc('month', date)::DATE AS month_from, date_trunc('month', date)::DATE AS month_to,
       amount AS amount_at_risk,
       'notice ' || ref || ' (' || file || ':' || line || '), level ' || level || ', purpose ' || purpose ||
       ', ' || amount::VARCHAR || ' sent ' || strftime(date, '%Y-%m-%d') || ' (' || dayname(date) || ')' ||
       ', booked ' || strftime(match_date, '%Y-%m-%d') || ' (' || dayname(match_date) || ') as ' || match_ref ||
       ' (' || match_file || ':' || match_line || '): ' || working_days_after(date, match_date) ||
       ' working days, more than ' || p_fiscal_booking_working_days() AS evidence,
       -- the facts alone, without the files and lines
       ref || ' ' || strftime(date, '%Y-%m-%d') || ' ' || amount::VARCHAR || ' booked ' ||
       strftime(match_date, '%Y-%m-%d') || ' as ' || match_ref AS evidence_key
FROM fiscal_pair
WHERE side = 'notice' AND match_date <= as_of_end()
  AND working_days_after(date, match_date) > p_fiscal_booking_working_days()
