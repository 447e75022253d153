-- The bank reconciliation statement (银行存款余额调节表) of each fund account with a
-- bank account, at the end of the report month (a period package: its last month),
-- laid out as the form: the bank's balance adjusted by the items the bank has not yet
-- recorded, beside the books' balance adjusted by the items the books have not yet
-- recorded; equal adjusted balances mean the difference is timing. From the table
-- bank_reconciliation (`pipeline reconcile --month`, run by `pipeline audit`);
-- docs/rules.md § Bank reconciliation.
WITH r AS (SELECT * FROM bank_reconciliation WHERE month = report_month()),
rows AS (
    SELECT account, account_no, 1 AS k, '银行对账单余额' AS bank_item, bank_balance AS bank_amount,
           '企业银行存款日记账余额' AS book_item, book_balance AS book_amount FROM r
    UNION ALL
    SELECT account, account_no, 2, '加：企业已收银行未收', book_in_not_bank,
           '加：银行已收企业未收', bank_in_not_book FROM r
    UNION ALL
    SELECT account, account_no, 3, '减：企业已付银行未付', book_out_not_bank,
           '减：银行已付企业未付', bank_out_not_book FROM r
    UNION ALL
    SELECT account, account_no, 4, '调节后的存款余额', bank_side, '调节后的存款余额', book_side FROM r
    UNION ALL
    SELECT account, account_no, 5,
           CASE WHEN difference = 0 THEN '差额（相符）' ELSE '差额（不符：银行 − 企业）' END, difference,
           CASE WHEN has_statement THEN '' ELSE '本月无银行对账单' END, NULL FROM r
)
SELECT account_zh(account) AS account, account_no, bank_item, bank_amount::DECIMAL(18,2) AS bank_amount,
       book_item, book_amount::DECIMAL(18,2) AS book_amount
FROM rows
ORDER BY account_order(account), k
