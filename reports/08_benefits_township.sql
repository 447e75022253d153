-- Benefits for the report month (发放年月) by township of the enrollment:
-- beneficiaries paid, new and stopped against last month, amounts by part, the
-- payout success rate (发放率 = successful payout rows ÷ payout rows) and the same
-- month last year (同比).
WITH months AS (
    SELECT report_month() AS now, (report_month() - INTERVAL 1 MONTH)::DATE AS prev,
           (report_month() - INTERVAL 1 YEAR)::DATE AS ly
), m AS (
    SELECT r.*, r.status = 'ok' AS ok FROM r_paid r, months WHERE r.month IN (now, prev, ly)
), persons AS (
    SELECT township,
           count(*) FILTER (WHERE paid_now) AS beneficiaries,
           count(*) FILTER (WHERE paid_now AND NOT paid_prev) AS new_this_month,
           count(*) FILTER (WHERE paid_prev AND NOT paid_now) AS stopped_this_month,
           count(*) FILTER (WHERE paid_ly) AS beneficiaries_ly
    FROM (SELECT township, person_no,
                 bool_or(ok AND month = now) AS paid_now, bool_or(ok AND month = prev) AS paid_prev,
                 bool_or(ok AND month = ly) AS paid_ly
          FROM m, months GROUP BY township, person_no)
    GROUP BY township
), amounts AS (
    SELECT township,
           coalesce(sum(basic_amount) FILTER (WHERE ok AND month = now), 0)::DECIMAL(18,2) AS basic_paid,
           coalesce(sum(account_amount) FILTER (WHERE ok AND month = now), 0)::DECIMAL(18,2) AS account_paid,
           coalesce(sum(total_amount) FILTER (WHERE ok AND month = now), 0)::DECIMAL(18,2) AS total_paid,
           count(*) FILTER (WHERE month = now) AS payout_rows,
           count(*) FILTER (WHERE ok AND month = now) AS payout_ok,
           coalesce(sum(total_amount) FILTER (WHERE ok AND month = ly), 0)::DECIMAL(18,2) AS total_paid_ly
    FROM m, months GROUP BY township
), pooled AS (
    -- the part of the account pension charged to the pooled fund (account exhausted)
    SELECT coalesce(e.township, '(未登记 not enrolled)') AS township, sum(a.amount) AS pooled_part
    FROM account_event a LEFT JOIN r_enrolled e USING (person_no)
    WHERE a.kind = 'pooled' AND date_trunc('month', a.date) = report_month() GROUP BY 1
)
SELECT township, p.beneficiaries, p.new_this_month, p.stopped_this_month,
       a.basic_paid, a.account_paid, coalesce(pooled.pooled_part, 0)::DECIMAL(18,2) AS pooled_part,
       a.total_paid, a.payout_rows, a.payout_ok, ratio(a.payout_ok, a.payout_rows) AS payout_rate,
       p.beneficiaries_ly, p.beneficiaries - p.beneficiaries_ly AS beneficiaries_yoy,
       ratio(p.beneficiaries - p.beneficiaries_ly, p.beneficiaries_ly) AS beneficiaries_yoy_rate,
       a.total_paid_ly
FROM persons p JOIN amounts a USING (township) LEFT JOIN pooled USING (township)
ORDER BY township
