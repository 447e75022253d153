-- Fund accounts (基金账户) over the period: opening balance (at the start of its
-- first month) + income − expenditure + transfers in − transfers out = closing
-- balance (at the end of its last month), per account, to the fen; `unbalanced` is
-- what fails that identity (0 when the books close), and the same period a year
-- earlier. Income and expenditure are the fund's own; the transfers between the
-- centre's accounts (划转) are their own columns (reports/_prelude.sql r_fund_month).
WITH p AS (
    SELECT account,
           arg_min(opening, month) FILTER (WHERE month BETWEEN period_start() AND period_end()) AS opening,
           sum(income) FILTER (WHERE month BETWEEN period_start() AND period_end()) AS income,
           sum(expenditure) FILTER (WHERE month BETWEEN period_start() AND period_end()) AS expenditure,
           sum(transfer_in) FILTER (WHERE month BETWEEN period_start() AND period_end()) AS transfer_in,
           sum(transfer_out) FILTER (WHERE month BETWEEN period_start() AND period_end()) AS transfer_out,
           arg_max(closing, month) FILTER (WHERE month BETWEEN period_start() AND period_end()) AS closing,
           sum(income) FILTER (WHERE month BETWEEN ly_start() AND ly_end()) AS income_ly,
           sum(expenditure) FILTER (WHERE month BETWEEN ly_start() AND ly_end()) AS expenditure_ly
    FROM r_fund_month GROUP BY account
)
SELECT account_zh(account) AS account,
       coalesce(opening, 0)::DECIMAL(18,2) AS opening, coalesce(income, 0)::DECIMAL(18,2) AS income,
       coalesce(expenditure, 0)::DECIMAL(18,2) AS expenditure,
       coalesce(transfer_in, 0)::DECIMAL(18,2) AS transfer_in, coalesce(transfer_out, 0)::DECIMAL(18,2) AS transfer_out,
       coalesce(closing, 0)::DECIMAL(18,2) AS closing,
       (coalesce(opening, 0) + coalesce(income, 0) - coalesce(expenditure, 0)
        + coalesce(transfer_in, 0) - coalesce(transfer_out, 0) - coalesce(closing, 0))::DECIMAL(18,2) AS unbalanced,
       coalesce(income_ly, 0)::DECIMAL(18,2) AS income_ly, coalesce(expenditure_ly, 0)::DECIMAL(18,2) AS expenditure_ly
FROM p ORDER BY account_order(account)
