-- Fund payment approval (城乡居民社会养老保险基金支付审批表, 附表十三, 规程 第二十八条)
-- for the report month: the benefits to pay, the basic pension split by funding
-- level (docs/rules.md § Basic pension by funding level), the individual-account
-- payments (death refunds, refunds on other cancellations, transfers out), the
-- total to pay and the transfer requested from the fiscal account; then how each
-- line reconciles with the payout file (附表十二之二), the expenditure account's
-- books and its bank statement. docs/rules.md § The forms sent with the money.
--
-- Columns: to_pay 本月应付 — pensions: the ledger's expected payment of every
-- payable beneficiary (pipeline ledger); account payments: the month's records.
-- payout_file / payout_ok: the payout rows of 发放年月 M (all, successful).
-- paid 实付: successful payouts paid in M (by paid date, as the account books
-- them), and the account payments. books: the expenditure account's ledger in M.
-- bank: the expenditure account's statement in M (empty without one).
WITH due AS (
    SELECT person_no, month, expected_basic AS basic, expected_account AS account
    FROM expected_payout WHERE month = report_month() AND payable
), file AS (
    SELECT person_no, month, status, paid_date, basic_amount AS basic, account_amount AS account
    FROM payout WHERE month = report_month()
), pension_src AS (
    SELECT 'to_pay' AS col, * FROM due
    UNION ALL SELECT 'payout_file', person_no, month, basic, account FROM file
    UNION ALL SELECT 'payout_ok', person_no, month, basic, account FROM file WHERE status = 'ok'
    UNION ALL SELECT 'paid', person_no, month, basic_amount, account_amount FROM payout
        WHERE status = 'ok' AND paid_date BETWEEN report_month() AND report_end()
), pension AS (
    SELECT col, count(DISTINCT person_no) AS persons,
           sum(least(s.basic, coalesce(b.central_min, 0)))::DECIMAL(18,2) AS central,
           -- the local part as one column: the Spark translation expands a macro's
           -- argument as written, so local_province(a - b) would lose its brackets
           (sum(s.basic) - sum(least(s.basic, coalesce(b.central_min, 0))))::DECIMAL(18,2) AS local,
           sum(s.basic)::DECIMAL(18,2) AS basic, sum(s.account)::DECIMAL(18,2) AS account
    FROM pension_src s LEFT JOIN r_basic_month b USING (month) GROUP BY col
), transfer_out AS (
    -- A transfer out is one payment: the transfer record is the money; a transfer-out
    -- cancellation counts only for a person with no transfer-out record.
    SELECT person_no, amount FROM transfer
    WHERE direction = 'out' AND date BETWEEN report_month() AND report_end()
    UNION ALL
    SELECT person_no, refund_amount FROM cancellation
    WHERE reason = 'transfer_out' AND refund_amount > 0 AND apply_date BETWEEN report_month() AND report_end()
      AND person_no NOT IN (SELECT person_no FROM transfer WHERE direction = 'out' AND person_no IS NOT NULL)
), account_payments AS (
    SELECT CASE WHEN reason = 'death' THEN 8 ELSE 9 END AS ord, count(*) AS n, sum(refund_amount) AS amount
    FROM cancellation
    WHERE reason <> 'transfer_out' AND refund_amount > 0 AND apply_date BETWEEN report_month() AND report_end()
    GROUP BY 1
    UNION ALL SELECT 10, count(*), sum(amount) FROM transfer_out
), books AS (
    SELECT category, direction, sum(amount) AS amount FROM fund_ledger
    WHERE account = 'expenditure' AND txn_date BETWEEN report_month() AND report_end()
    GROUP BY ALL
), statement AS (
    -- The expenditure account's bank lines of the month (bank_account says which
    -- account number is the expenditure account); credits from the fiscal account
    -- are those naming its account number, or 财政 in the summary when the bank
    -- gives no counterpart account.
    SELECT coalesce(s.income, 0) AS credit, coalesce(s.expense, 0) AS debit,
           f.account_no IS NOT NULL OR (s.counterpart_account IS NULL AND s.summary LIKE '%财政%') AS from_fiscal
    FROM bank_statement s
    JOIN (SELECT DISTINCT account_no FROM bank_account WHERE account = 'expenditure') e USING (account_no)
    LEFT JOIN (SELECT DISTINCT account_no FROM bank_account WHERE account = 'fiscal') f
           ON f.account_no = s.counterpart_account
    WHERE s.txn_date BETWEEN report_month() AND report_end()
), base AS (
    -- The lines read from the records; lines 7, 11, 12 are sums of these.
    SELECT p.col, l.ord, p.persons AS n,
           CASE l.ord WHEN 1 THEN p.central
                      WHEN 2 THEN local_province(p.local)
                      WHEN 3 THEN local_city(p.local)
                      WHEN 4 THEN local_county(p.local)
                      WHEN 5 THEN p.basic WHEN 6 THEN p.account END AS amount
    FROM pension p, (VALUES (1), (2), (3), (4), (5), (6)) l(ord)
    UNION ALL SELECT 'to_pay', ord, n, amount FROM account_payments
    UNION ALL SELECT 'paid', ord, NULL, amount FROM account_payments
    UNION ALL SELECT 'books', 5, NULL, amount FROM books WHERE category = 'basic_pension' AND direction = 'out'
    UNION ALL SELECT 'books', 6, NULL, amount FROM books WHERE category = 'account_pension' AND direction = 'out'
    UNION ALL SELECT 'books', 10, NULL, amount FROM books WHERE category = 'transfer_out' AND direction = 'out'
    -- The ledger books death and other refunds in one category (退保/丧葬支出): they
    -- meet the books on the subtotal (line 11).
    UNION ALL SELECT 'books', 11, NULL, amount FROM books WHERE category = 'refund' AND direction = 'out'
    UNION ALL SELECT 'bank', 12, NULL, sum(debit) FROM statement HAVING count(*) > 0
    UNION ALL SELECT 'books', 13, NULL, amount FROM books WHERE category = 'from_fiscal' AND direction = 'in'
    UNION ALL SELECT 'bank', 13, NULL, sum(credit) FILTER (WHERE from_fiscal) FROM statement HAVING count(*) > 0
), sub AS (
    -- 7 = 5 + 6 (待遇支付), 11 = 8 + 9 + 10 (个人账户资金支付; the books' refunds)
    SELECT CASE WHEN ord IN (5, 6) THEN 7 ELSE 11 END AS ord, col, sum(amount) AS amount
    FROM base WHERE ord IN (5, 6, 8, 9, 10, 11) GROUP BY ALL
), total AS (
    -- 12 = 7 + 11 (the payout file's columns have only pensions), with the bank's debits
    SELECT 12 AS ord, col, sum(amount) AS amount
    FROM (SELECT col, amount FROM sub UNION ALL SELECT col, amount FROM base WHERE ord = 12)
    GROUP BY col
), all_cells AS (
    SELECT ord, col, n, amount FROM base WHERE ord NOT IN (11, 12)
    UNION ALL SELECT ord, col, NULL, amount FROM sub
    UNION ALL SELECT ord, col, NULL, amount FROM total
    -- the transfer requested: the month's total to pay (the rules give no other formula)
    UNION ALL SELECT 13, 'to_pay', NULL, amount FROM total WHERE col = 'to_pay'
    UNION ALL SELECT 7, 'to_pay', persons, NULL FROM pension WHERE col = 'to_pay'
    UNION ALL SELECT 11, 'to_pay', sum(n), NULL FROM account_payments
), labels AS (
    SELECT * FROM (VALUES
        (1, '一、待遇支付：基础养老金-中央'), (2, '    基础养老金-省级'), (3, '    基础养老金-市级'),
        (4, '    基础养老金-县级'), (5, '    基础养老金小计'), (6, '    个人账户养老金'),
        (7, '    待遇支付小计'),
        (8, '二、个人账户资金支付：死亡退还'), (9, '    其他注销退还（出国定居、户籍变更等）'),
        (10, '    转移支出（跨县转出）'), (11, '    个人账户资金支付小计'),
        (12, '三、本月支付合计（一＋二）'),
        (13, '四、申请财政专户划拨支出户')) t(ord, item)
), wide AS (
    SELECT l.ord, l.item,
           max(c.n) FILTER (WHERE c.col = 'to_pay') AS persons,
           sum(c.amount) FILTER (WHERE c.col = 'to_pay') AS to_pay,
           sum(c.amount) FILTER (WHERE c.col = 'payout_file') AS payout_file,
           sum(c.amount) FILTER (WHERE c.col = 'payout_ok') AS payout_ok,
           sum(c.amount) FILTER (WHERE c.col = 'paid') AS paid,
           sum(c.amount) FILTER (WHERE c.col = 'books') AS books,
           sum(c.amount) FILTER (WHERE c.col = 'bank') AS bank
    FROM labels l LEFT JOIN all_cells c USING (ord) GROUP BY l.ord, l.item
), shown AS (
    -- Lines 1‥12 always show what is to pay (0 when nothing is); line 13 only asks.
    SELECT ord, item, payout_file, payout_ok, paid, books, bank,
           CASE WHEN ord <= 12 THEN coalesce(to_pay, 0) ELSE to_pay END AS to_pay,
           CASE WHEN ord BETWEEN 8 AND 11 THEN coalesce(persons, 0) ELSE persons END AS persons
    FROM wide
)
SELECT item, persons, to_pay::DECIMAL(18,2) AS to_pay,
       payout_file::DECIMAL(18,2) AS payout_file, payout_ok::DECIMAL(18,2) AS payout_ok,
       paid::DECIMAL(18,2) AS paid, books::DECIMAL(18,2) AS books, bank::DECIMAL(18,2) AS bank,
       (to_pay - payout_file)::DECIMAL(18,2) AS diff_file,
       (books - paid)::DECIMAL(18,2) AS diff_books,
       (books - bank)::DECIMAL(18,2) AS diff_bank
FROM shown ORDER BY ord
