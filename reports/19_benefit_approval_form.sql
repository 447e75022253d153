-- 待遇核定表 (附表十二, 规程 第二十八条): the month's new benefit approvals (approval
-- date in the report month) with their calculation, sent to the finance bureau
-- with the payment approval (附表十三): the account balance at approval ÷ the
-- divisor (parameter account_divisor, 139) = the account pension, half-up to the
-- fen, exactly (account_pension_of, reports/_prelude.sql); the basic standard in
-- force in the start month; the monthly total. The approval record's own figures
-- are compared: a difference means the record was not computed by the rule (the
-- ledger's benefit_check says why). The form carries whole ID numbers (full_ids in
-- the TOML). docs/rules.md § The forms sent with the money.
WITH a AS (
    SELECT person_no, id_number, start_month, account_balance, basic_monthly, account_monthly, approve_date
    FROM benefit_approval WHERE approve_date BETWEEN report_month() AND report_end()
)
SELECT e.township, e.village, a.person_no, mask_id(coalesce(e.id_number, a.id_number)) AS id_number,
       e.name, ym(a.start_month) AS start_month, a.approve_date,
       a.account_balance::DECIMAL(18,2) AS account_balance,
       p_account_divisor() AS divisor,
       account_pension_of(a.account_balance)::DECIMAL(18,2) AS account_monthly,
       coalesce(b.standard, a.basic_monthly)::DECIMAL(18,2) AS basic_monthly,
       (account_pension_of(a.account_balance) + coalesce(b.standard, a.basic_monthly))::DECIMAL(18,2) AS monthly_total,
       (a.basic_monthly + a.account_monthly
        - account_pension_of(a.account_balance) - coalesce(b.standard, a.basic_monthly))::DECIMAL(18,2) AS record_difference
FROM a LEFT JOIN r_enrolled e USING (person_no)
LEFT JOIN r_basic_month b ON b.month = a.start_month
ORDER BY e.township, e.village, a.start_month, a.person_no
