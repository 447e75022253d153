-- The two sides of "books agree" (账账相符), per month, account, category and
-- direction: what the fund ledger records, and what the detail records behind it
-- add up to. Shared by the audit check BOOKS_DISAGREE and the monthly report
-- (reports/12_books_agree.sql). Needs the macro p_prepaid_carry_month().
CREATE OR REPLACE TEMP VIEW fund_detail_flow AS
-- Each big table is read once and summed per month before the union (payout gives
-- both pension categories, contribution its three flows): the same sums as adding
-- the rows themselves, without carrying tens of millions of rows into one grouping.
WITH contrib AS (
    SELECT date_trunc('month', paid_date)::DATE AS m, kind = 'prepay' AS prepay,
           CASE WHEN kind = 'prepay' THEN year END AS year, sum(amount) AS amount
    FROM contribution WHERE status = 'ok' AND kind IS NOT NULL GROUP BY ALL
), paid AS (
    SELECT date_trunc('month', paid_date)::DATE AS m, sum(basic_amount) AS basic, sum(account_amount) AS account
    FROM payout WHERE status = 'ok' GROUP BY ALL
), detail AS (
    SELECT m, 'income' AS account, 'contribution' AS category, 'in' AS direction, amount
        FROM contrib WHERE NOT prepay
    UNION ALL SELECT m, 'prepaid', 'contribution', 'in', amount FROM contrib WHERE prepay
    UNION ALL SELECT make_date(year, p_prepaid_carry_month(), 1), 'prepaid', 'prepaid_carry', 'out', amount
        FROM contrib WHERE prepay
    UNION ALL SELECT date_trunc('month', paid_date), 'income', 'collective', 'in', sum(amount)
        FROM collective_subsidy GROUP BY ALL
    UNION ALL SELECT date_trunc('month', credited_date), 'income', 'subsidy_' || level, 'in', sum(amount)
        FROM government_subsidy GROUP BY ALL
    UNION ALL SELECT date_trunc('month', date), 'income', 'transfer_in', 'in', amount FROM transfer WHERE direction = 'in'
    UNION ALL SELECT date_trunc('month', date), 'expenditure', 'transfer_out', 'out', amount FROM transfer WHERE direction = 'out'
    UNION ALL SELECT date_trunc('month', apply_date), 'expenditure', 'refund', 'out', refund_amount
        FROM cancellation WHERE refund_amount > 0
    UNION ALL SELECT m, 'expenditure', 'basic_pension', 'out', basic FROM paid
    UNION ALL SELECT m, 'expenditure', 'account_pension', 'out', account FROM paid
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
