-- The finance bureau and the centre agree month by month and by level (按月对账,
-- 第四十条; docs/rules.md § Finance bureau): per level and month, the subsidies the
-- bureau's notices sent (fiscal_notice, every purpose, by the notice's month) against
-- the fiscal-subsidy income booked in the fiscal special account (fund_ledger account
-- fiscal, category subsidy_<level>, in). A book line matched to a notice (fiscal_pair
-- in fund_flows.sql) counts in the notice's month, so a booking across a month end is
-- no disagreement; an unmatched one counts in its own month. A notice not yet booked
-- whose booking time (p_fiscal_booking_working_days() working days) has not run out
-- by the audit month's end is not counted yet. Months from the first notice's on
-- (notices loaded from some month: earlier months are not compared; no notices at
-- all: nothing). Amount: booked − notified.
WITH span AS MATERIALIZED (
    SELECT min(date_trunc('month', date))::DATE AS first_m FROM fiscal_notice WHERE date <= as_of_end()
),
p AS (
    SELECT * REPLACE (CASE WHEN match_date <= as_of_end() THEN match_date END AS match_date,
                      CASE WHEN match_date <= as_of_end() THEN match_ref END AS match_ref)
    FROM fiscal_pair WHERE date <= as_of_end()
),
n AS (
    SELECT level, date_trunc('month', date)::DATE AS m, amount, ref, file, line, match_ref
    FROM p
    WHERE side = 'notice'
      AND (match_date IS NOT NULL OR working_days_after(date, as_of_end()) > p_fiscal_booking_working_days())
),
b AS (
    SELECT level, date_trunc('month', coalesce(match_date, date))::DATE AS m, amount, ref, file, line, match_ref
    FROM p WHERE side = 'book'
),
months AS (
    SELECT level, m,
           sum(amount) FILTER (WHERE side = 'notice') AS notified,
           sum(amount) FILTER (WHERE side = 'book') AS booked,
           count(*) FILTER (WHERE side = 'notice') AS notices,
           count(*) FILTER (WHERE side = 'book') AS lines,
           string_agg(CASE WHEN match_ref IS NULL THEN
                          CASE side WHEN 'notice' THEN 'notice ' ELSE 'book line ' END || ref || ' ' ||
                          amount::VARCHAR || ' (' || file || ':' || line || ')' END, '; ' ORDER BY side DESC, ref) AS unmatched
    FROM (SELECT 'notice' AS side, * FROM n UNION ALL SELECT 'book', * FROM b), span
    WHERE m >= span.first_m
    GROUP BY ALL
)
SELECT 'fiscal subsidy_' || level || ' ' || ym(m) AS subject, NULL AS person_no, m AS month_from, m AS month_to,
       coalesce(booked, 0) - coalesce(notified, 0) AS amount_at_risk,
       'fiscal special account 财政专户 ' || ym(m) || ', level ' || level || ': the finance bureau notified ' ||
       coalesce(notified, 0)::VARCHAR || ' (' || notices || ' notices) but ' || coalesce(booked, 0)::VARCHAR ||
       ' was booked (' || lines || ' lines)' || coalesce('; unmatched: ' || unmatched, '') AS evidence,
       -- the facts alone, without the files and lines of the unmatched items
       level || ' ' || ym(m) || ' notified ' || coalesce(notified, 0)::VARCHAR || ' booked ' ||
       coalesce(booked, 0)::VARCHAR AS evidence_key
FROM months
WHERE coalesce(booked, 0) <> coalesce(notified, 0)
