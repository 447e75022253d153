-- Benefits over the period (发放年月) by township of the enrollment: beneficiaries
-- paid in its last month, new (first ever paid in the period) and stopped (paid in
-- the month before the period, not in its last month), amounts by part with the
-- pooled-fund part, the payout success rate, and the same period a year earlier.
WITH p AS (
    SELECT r.*, r.status = 'ok' AS ok,
           r.month BETWEEN period_start() AND period_end() AS now,
           r.month BETWEEN ly_start() AND ly_end() AS ly
    FROM r_paid r
), first_paid AS (
    SELECT person_no, min(month) AS first_month FROM payout WHERE status = 'ok' GROUP BY person_no
), persons AS (
    SELECT township,
           count(*) FILTER (WHERE paid_last) AS beneficiaries,
           count(*) FILTER (WHERE first_month BETWEEN period_start() AND period_end()) AS new_in_period,
           count(*) FILTER (WHERE paid_before AND NOT paid_last) AS stopped_in_period
    FROM (SELECT p.township, p.person_no, any_value(f.first_month) AS first_month,
                 bool_or(p.ok AND p.month = report_month()) AS paid_last,
                 bool_or(p.ok AND p.month = (period_start() - INTERVAL 1 MONTH)::DATE) AS paid_before
          FROM p LEFT JOIN first_paid f USING (person_no) GROUP BY p.township, p.person_no)
    GROUP BY township
), amounts AS (
    SELECT township,
           coalesce(sum(basic_amount) FILTER (WHERE ok AND now), 0)::DECIMAL(18,2) AS basic_paid,
           coalesce(sum(account_amount) FILTER (WHERE ok AND now), 0)::DECIMAL(18,2) AS account_paid,
           coalesce(sum(total_amount) FILTER (WHERE ok AND now), 0)::DECIMAL(18,2) AS total_paid,
           count(*) FILTER (WHERE now) AS payout_rows,
           count(*) FILTER (WHERE ok AND now) AS payout_ok,
           coalesce(sum(total_amount) FILTER (WHERE ok AND ly), 0)::DECIMAL(18,2) AS total_paid_ly
    FROM p GROUP BY township
), pooled AS (
    SELECT coalesce(e.township, '(未登记 not enrolled)') AS township, sum(a.amount) AS pooled_part
    FROM account_event a LEFT JOIN r_enrolled e USING (person_no)
    WHERE a.kind = 'pooled' AND a.date BETWEEN period_start() AND period_end() GROUP BY 1
)
SELECT township, p.beneficiaries, p.new_in_period, p.stopped_in_period,
       a.basic_paid, a.account_paid, coalesce(pooled.pooled_part, 0)::DECIMAL(18,2) AS pooled_part,
       a.total_paid, a.payout_rows, a.payout_ok, ratio(a.payout_ok, a.payout_rows) AS payout_rate,
       a.total_paid_ly, (a.total_paid - a.total_paid_ly)::DECIMAL(18,2) AS total_paid_change,
       ratio(a.total_paid - a.total_paid_ly, a.total_paid_ly) AS total_paid_change_rate
FROM persons p JOIN amounts a USING (township) LEFT JOIN pooled USING (township)
ORDER BY township
