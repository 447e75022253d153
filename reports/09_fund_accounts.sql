-- Fund accounts (基金账户) for the report month: opening balance + income −
-- expenditure = closing balance, to the fen; and the year to date.
SELECT account_zh(account) AS account, opening, income, expenditure, closing,
       (SELECT sum(income) FROM r_fund_month y WHERE y.account = f.account AND y.month >= year_start())::DECIMAL(18,2) AS income_ytd,
       (SELECT sum(expenditure) FROM r_fund_month y WHERE y.account = f.account AND y.month >= year_start())::DECIMAL(18,2) AS expenditure_ytd
FROM r_fund_month f WHERE month = report_month()
ORDER BY account_order(account)
