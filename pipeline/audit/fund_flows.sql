-- The two sides of "books agree" (账账相符), per month, account, category and
-- direction: what the fund ledger records, and what the detail records behind it
-- add up to. Shared by the audit check BOOKS_DISAGREE and the monthly report
-- (reports/12_books_agree.sql). Needs the macro p_prepaid_carry_month().
CREATE OR REPLACE TEMP VIEW fund_detail_flow AS
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
)
SELECT m, account, category, direction, sum(amount) AS amount FROM detail GROUP BY ALL;

CREATE OR REPLACE TEMP VIEW fund_ledger_flow AS
SELECT date_trunc('month', txn_date)::DATE AS m, account, category, direction, sum(amount) AS amount
FROM fund_ledger
WHERE (account = 'income' AND category IN ('contribution', 'collective', 'subsidy_central', 'subsidy_province',
                                           'subsidy_city', 'subsidy_county', 'transfer_in'))
   OR (account = 'prepaid' AND category IN ('contribution', 'prepaid_carry'))
   OR (account = 'expenditure' AND category IN ('transfer_out', 'refund', 'basic_pension', 'account_pension'))
GROUP BY ALL;
