-- Fund accounts (基金账户) for the report month: opening balance + income −
-- expenditure + transfers in − transfers out = closing balance, to the fen; and the
-- year to date. Income and expenditure are the fund's own: the transfers between
-- the centre's accounts (划转: to_fiscal, from_fiscal, prepaid_carry) have their own
-- columns, so the county total's income and expenditure are the fund's real ones
-- and its transfers in equal its transfers out when both sides are booked.
SELECT account_zh(account) AS account, opening, income, expenditure, transfer_in, transfer_out, closing,
       (SELECT sum(income) FROM r_fund_month y WHERE y.account = f.account AND y.month >= year_start())::DECIMAL(18,2) AS income_ytd,
       (SELECT sum(expenditure) FROM r_fund_month y WHERE y.account = f.account AND y.month >= year_start())::DECIMAL(18,2) AS expenditure_ytd
FROM r_fund_month f WHERE month = report_month()
ORDER BY account_order(account)
