-- Fund payment approval (城乡居民社会养老保险基金支付审批表, 附表十三) for the report
-- month: what is to be paid, the basic pension split by funding level (docs/rules.md
-- § Basic pension by funding level) and the account pension, then how it
-- reconciles with the bank's payout file and the expenditure account (支出户).
-- 本月应付 is the ledger's expected payment of every payable beneficiary for the
-- month (pipeline ledger: the month's standard + the approved account pension);
-- the payout rows are counted by 发放年月, except the line compared with the
-- expenditure account, which counts them by paid date as the account books them.
WITH rows AS (
    SELECT 1 AS ord, '本月应付（待遇核定）' AS item, person_no, month, expected_basic AS basic, expected_account AS account
        FROM expected_payout WHERE month = report_month() AND payable
    UNION ALL SELECT 2, '发放明细：应发（银行发放文件）', person_no, month, basic_amount, account_amount
        FROM payout WHERE month = report_month()
    UNION ALL SELECT 3, '发放明细：其中发放成功', person_no, month, basic_amount, account_amount
        FROM payout WHERE month = report_month() AND status = 'ok'
    UNION ALL SELECT 4, '发放明细：其中发放失败', person_no, month, basic_amount, account_amount
        FROM payout WHERE month = report_month() AND status = 'failed'
    UNION ALL SELECT 5, '发放成功（按发放日期计入本月）', person_no, month, basic_amount, account_amount
        FROM payout WHERE date_trunc('month', paid_date) = report_month() AND status = 'ok'
), split AS (
    SELECT r.ord, any_value(r.item) AS item, count(DISTINCT r.person_no) AS persons,
           sum(least(r.basic, coalesce(b.central_min, 0)))::DECIMAL(18,2) AS central,
           (sum(r.basic) - sum(least(r.basic, coalesce(b.central_min, 0))))::DECIMAL(18,2) AS local,
           sum(r.basic)::DECIMAL(18,2) AS basic, sum(r.account)::DECIMAL(18,2) AS account
    FROM rows r LEFT JOIN r_basic_month b USING (month) GROUP BY r.ord
), labels AS (
    SELECT DISTINCT ord, item FROM (VALUES (1, '本月应付（待遇核定）'), (2, '发放明细：应发（银行发放文件）'),
        (3, '发放明细：其中发放成功'), (4, '发放明细：其中发放失败'), (5, '发放成功（按发放日期计入本月）')) t(ord, item)
), lines AS (
    SELECT l.ord, l.item, coalesce(s.persons, 0) AS persons,
           coalesce(s.central, 0)::DECIMAL(18,2) AS central,
           local_province(coalesce(s.local, 0)) AS province, local_city(coalesce(s.local, 0)) AS city,
           local_county(coalesce(s.local, 0)) AS county,
           coalesce(s.basic, 0)::DECIMAL(18,2) AS basic, coalesce(s.account, 0)::DECIMAL(18,2) AS account
    FROM labels l LEFT JOIN split s USING (ord)
), spent AS (
    SELECT 6 AS ord, '支出户：本月支付' AS item,
           coalesce(sum(amount) FILTER (WHERE category = 'basic_pension'), 0)::DECIMAL(18,2) AS basic,
           coalesce(sum(amount) FILTER (WHERE category = 'account_pension'), 0)::DECIMAL(18,2) AS account
    FROM fund_ledger
    WHERE account = 'expenditure' AND direction = 'out' AND category IN ('basic_pension', 'account_pension')
      AND date_trunc('month', txn_date) = report_month()
), out AS (
    SELECT ord, item, persons, central, province, city, county, basic, account FROM lines
    UNION ALL SELECT ord, item, NULL, NULL, NULL, NULL, NULL, basic, account FROM spent
    UNION ALL SELECT 7, '差额：本月应付 − 发放成功', a.persons - b.persons, a.central - b.central,
                     a.province - b.province, a.city - b.city, a.county - b.county,
                     a.basic - b.basic, a.account - b.account
        FROM lines a, lines b WHERE a.ord = 1 AND b.ord = 3
    UNION ALL SELECT 8, '差额：发放成功（按发放日期） − 支出户支付', NULL, NULL, NULL, NULL, NULL,
                     a.basic - s.basic, a.account - s.account
        FROM lines a, spent s WHERE a.ord = 5
)
SELECT item, persons, central AS basic_central, province AS basic_province, city AS basic_city,
       county AS basic_county, basic AS basic_total, account AS account_total,
       (basic + account)::DECIMAL(18,2) AS total
FROM out ORDER BY ord
