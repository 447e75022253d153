-- Contributions this year to date (by paid date) by tier (缴费档次) and kind, with
-- the bank deduction success rate (a failed deduction credits nothing).
WITH c AS (
    SELECT c.person_no, c.kind, c.channel, c.status, c.amount, coalesce(e.tier, 0) AS tier
    FROM contribution c LEFT JOIN r_enrolled e USING (person_no)
    WHERE c.paid_date BETWEEN year_start() AND report_end()
)
SELECT tier,
       count(DISTINCT person_no) FILTER (WHERE status = 'ok') AS contributors,
       coalesce(sum(amount) FILTER (WHERE status = 'ok' AND kind = 'normal'), 0)::DECIMAL(18,2) AS normal_amount,
       coalesce(sum(amount) FILTER (WHERE status = 'ok' AND kind = 'backpay'), 0)::DECIMAL(18,2) AS backpay_amount,
       coalesce(sum(amount) FILTER (WHERE status = 'ok' AND kind = 'prepay'), 0)::DECIMAL(18,2) AS prepay_amount,
       coalesce(sum(amount) FILTER (WHERE status = 'ok'), 0)::DECIMAL(18,2) AS total_amount,
       count(*) FILTER (WHERE channel = 'bank') AS bank_attempts,
       count(*) FILTER (WHERE channel = 'bank' AND status = 'ok') AS bank_ok,
       ratio(count(*) FILTER (WHERE channel = 'bank' AND status = 'ok'),
             count(*) FILTER (WHERE channel = 'bank')) AS bank_success_rate
FROM c GROUP BY tier ORDER BY tier
