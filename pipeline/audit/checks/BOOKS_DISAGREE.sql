-- Books agree (账账相符): every fund-ledger flow, per month, account, category and
-- direction, equals the detail records behind it. Amount: ledger − detail.
WITH detail AS (
    SELECT date_trunc('month', paid_date)::DATE AS m, 'income' AS account, 'contribution' AS category, 'in' AS direction, amount
        FROM contribution WHERE status = 'ok' AND kind <> 'prepay'
    UNION ALL SELECT date_trunc('month', paid_date), 'prepaid', 'contribution', 'in', amount
        FROM contribution WHERE status = 'ok' AND kind = 'prepay'
    UNION ALL SELECT make_date(year, p_prepaid_carry_month(), 1), 'prepaid', 'prepaid_carry', 'out', amount
        FROM contribution WHERE status = 'ok' AND kind = 'prepay'
    UNION ALL SELECT date_trunc('month', paid_date), 'income', 'collective', 'in', amount FROM collective_subsidy
    UNION ALL SELECT date_trunc('month', credited_date), 'income', 'subsidy_' || level, 'in', amount FROM government_subsidy
    UNION ALL SELECT date_trunc('month', date), 'income', 'transfer_in', 'in', amount FROM transfer WHERE direction = 'in'
    UNION ALL SELECT date_trunc('month', date), 'expenditure', 'transfer_out', 'out', amount FROM transfer WHERE direction = 'out'
    UNION ALL SELECT date_trunc('month', apply_date), 'expenditure', 'refund', 'out', refund_amount
        FROM cancellation WHERE refund_amount > 0
    UNION ALL SELECT date_trunc('month', paid_date), 'expenditure', 'basic_pension', 'out', basic_amount
        FROM payout WHERE status = 'ok'
    UNION ALL SELECT date_trunc('month', paid_date), 'expenditure', 'account_pension', 'out', account_amount
        FROM payout WHERE status = 'ok'
), d AS (
    SELECT m, account, category, direction, sum(amount) AS amount FROM detail
    WHERE m <= as_of_month() GROUP BY ALL
), l AS (
    SELECT date_trunc('month', txn_date)::DATE AS m, account, category, direction, sum(amount) AS amount
    FROM fund_ledger
    WHERE txn_date <= as_of_end()
      AND ((account = 'income' AND category IN ('contribution', 'collective', 'subsidy_central', 'subsidy_province',
                                                 'subsidy_city', 'subsidy_county', 'transfer_in'))
           OR (account = 'prepaid' AND category IN ('contribution', 'prepaid_carry'))
           OR (account = 'expenditure' AND category IN ('transfer_out', 'refund', 'basic_pension', 'account_pension')))
    GROUP BY ALL
), span AS (SELECT min(date_trunc('month', txn_date))::DATE AS first_m FROM fund_ledger)
SELECT coalesce(l.account, d.account) || ' ' || coalesce(l.category, d.category) || ' ' ||
           coalesce(l.direction, d.direction) || ' ' || ym(coalesce(l.m, d.m)) AS subject,
       NULL AS person_no, coalesce(l.m, d.m) AS month_from, coalesce(l.m, d.m) AS month_to,
       coalesce(l.amount, 0) - coalesce(d.amount, 0) AS amount_at_risk,
       coalesce(l.account, d.account) || ' ' || ym(coalesce(l.m, d.m)) || ' ' || coalesce(l.category, d.category) ||
       ' (' || coalesce(l.direction, d.direction) || '): fund_ledger ' || coalesce(l.amount, 0)::VARCHAR ||
       ' but detail records ' || coalesce(d.amount, 0)::VARCHAR AS evidence
FROM l FULL OUTER JOIN d ON l.m = d.m AND l.account = d.account AND l.category = d.category AND l.direction = d.direction
WHERE coalesce(l.amount, 0) <> coalesce(d.amount, 0)
  AND coalesce(l.m, d.m) >= (SELECT first_m FROM span)
