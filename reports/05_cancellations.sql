-- Cancellations (注销) by reason, this month and this year, with refunds paid.
WITH c AS (
    SELECT reason, apply_date, coalesce(refund_amount, 0) AS refund_amount
    FROM cancellation WHERE apply_date BETWEEN year_start() AND report_end()
), reasons AS (
    SELECT * FROM (VALUES (1, 'death', '死亡'), (2, 'emigration', '出国(境)定居'),
                          (3, 'hukou_change', '户籍性质变更'), (4, 'transfer_out', '跨县转出'),
                          (5, 'employee_pension', '参加职工养老保险'), (6, 'other', '其他')) t(ord, reason, reason_zh)
)
SELECT r.reason_zh AS reason,
       count(c.reason) FILTER (WHERE c.apply_date >= report_month()) AS count_month,
       coalesce(sum(c.refund_amount) FILTER (WHERE c.apply_date >= report_month()), 0)::DECIMAL(18,2) AS refund_month,
       count(c.reason) AS count_ytd,
       coalesce(sum(c.refund_amount), 0)::DECIMAL(18,2) AS refund_ytd
FROM reasons r LEFT JOIN c USING (reason)
GROUP BY r.ord, r.reason_zh ORDER BY r.ord
