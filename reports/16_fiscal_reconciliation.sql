-- Reconciliation with the finance bureau (与财政按月对账, 第四十条; docs/rules.md
-- § Finance bureau), per level, for the period (the report month in the monthly
-- package) and the year to date: what the bureau's notices sent (fiscal_notice, by
-- purpose, by the notice's date), what was booked as fiscal-subsidy income in the
-- fiscal special account (a book line matched to a notice counts in the notice's
-- month, as in the audit check FISCAL_DISAGREE: fiscal_pair in
-- pipeline/audit/fund_flows.sql), the difference booked − notified, the part of it
-- still within the booking time (notices not yet booked, less than
-- p_fiscal_booking_working_days() working days old at the report's end), and the
-- notices booked late (FISCAL_LATE). Both sides as known at the report's end.
WITH levels AS (
    SELECT * FROM (VALUES (1, 'central', '中央'), (2, 'province', '省级'), (3, 'city', '市级'), (4, 'county', '县级')) t(ord, level, level_zh)
), p AS (
    SELECT * REPLACE (CASE WHEN match_date <= report_end() THEN match_date END AS match_date)
    FROM fiscal_pair WHERE date <= report_end()
), ev AS (
    SELECT level, side, purpose, amount,
           CASE side WHEN 'notice' THEN date ELSE coalesce(match_date, date) END AS d,
           side = 'notice' AND match_date IS NOT NULL
               AND working_days_after(date, match_date) > p_fiscal_booking_working_days() AS late,
           side = 'notice' AND match_date IS NULL
               AND working_days_after(date, report_end()) <= p_fiscal_booking_working_days() AS pending
    FROM p
), r AS (
    SELECT *, in_period(d) AS now, d >= least(year_start(), period_start()) AS ytd FROM ev
)
SELECT l.level_zh AS level,
       coalesce(sum(amount) FILTER (WHERE now AND side = 'notice' AND purpose = 'contribution'), 0)::DECIMAL(18,2) AS contribution,
       coalesce(sum(amount) FILTER (WHERE now AND side = 'notice' AND purpose = 'basic_pension'), 0)::DECIMAL(18,2) AS basic_pension,
       coalesce(sum(amount) FILTER (WHERE now AND side = 'notice' AND purpose = 'other'), 0)::DECIMAL(18,2) AS other,
       coalesce(sum(amount) FILTER (WHERE now AND side = 'notice'), 0)::DECIMAL(18,2) AS notified,
       coalesce(sum(amount) FILTER (WHERE now AND side = 'book'), 0)::DECIMAL(18,2) AS booked,
       (coalesce(sum(amount) FILTER (WHERE now AND side = 'book'), 0)
        - coalesce(sum(amount) FILTER (WHERE now AND side = 'notice'), 0))::DECIMAL(18,2) AS difference,
       coalesce(sum(amount) FILTER (WHERE now AND pending), 0)::DECIMAL(18,2) AS pending,
       count(*) FILTER (WHERE now AND late) AS late,
       coalesce(sum(amount) FILTER (WHERE ytd AND side = 'notice'), 0)::DECIMAL(18,2) AS notified_ytd,
       coalesce(sum(amount) FILTER (WHERE ytd AND side = 'book'), 0)::DECIMAL(18,2) AS booked_ytd,
       (coalesce(sum(amount) FILTER (WHERE ytd AND side = 'book'), 0)
        - coalesce(sum(amount) FILTER (WHERE ytd AND side = 'notice'), 0))::DECIMAL(18,2) AS difference_ytd,
       count(*) FILTER (WHERE ytd AND late) AS late_ytd
FROM levels l LEFT JOIN r USING (level)
GROUP BY l.ord, l.level_zh ORDER BY l.ord
