-- Contributions over the period (by paid date) by tier (缴费档次) and kind, the bank
-- deduction success rate, and the same period a year earlier.
WITH c AS (
    SELECT c.person_no, c.kind, c.channel, c.status, c.amount, c.paid_date, coalesce(e.tier, 0) AS tier
    FROM contribution c LEFT JOIN r_enrolled e USING (person_no)
    WHERE c.paid_date BETWEEN period_start() AND period_end() OR c.paid_date BETWEEN ly_start() AND ly_end()
), now AS (SELECT * FROM c WHERE paid_date BETWEEN period_start() AND period_end()),
tiers AS (SELECT DISTINCT tier FROM c)
SELECT t.tier,
       count(DISTINCT n.person_no) FILTER (WHERE n.status = 'ok') AS contributors,
       coalesce(sum(n.amount) FILTER (WHERE n.status = 'ok' AND n.kind = 'normal'), 0)::DECIMAL(18,2) AS normal_amount,
       coalesce(sum(n.amount) FILTER (WHERE n.status = 'ok' AND n.kind = 'backpay'), 0)::DECIMAL(18,2) AS backpay_amount,
       coalesce(sum(n.amount) FILTER (WHERE n.status = 'ok' AND n.kind = 'prepay'), 0)::DECIMAL(18,2) AS prepay_amount,
       coalesce(sum(n.amount) FILTER (WHERE n.status = 'ok'), 0)::DECIMAL(18,2) AS total_amount,
       count(n.person_no) FILTER (WHERE n.channel = 'bank') AS bank_attempts,
       count(n.person_no) FILTER (WHERE n.channel = 'bank' AND n.status = 'ok') AS bank_ok,
       ratio(count(n.person_no) FILTER (WHERE n.channel = 'bank' AND n.status = 'ok'),
             count(n.person_no) FILTER (WHERE n.channel = 'bank')) AS bank_success_rate,
       (SELECT coalesce(sum(amount), 0) FROM c l WHERE l.tier = t.tier AND l.status = 'ok'
          AND l.paid_date BETWEEN ly_start() AND ly_end())::DECIMAL(18,2) AS total_amount_ly
FROM tiers t LEFT JOIN now n USING (tier)
GROUP BY t.tier ORDER BY t.tier
