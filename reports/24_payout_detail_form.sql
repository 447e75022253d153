-- 待遇发放明细表 (附表十二之二, 规程 第二十八条): every payout row of the report month
-- (发放年月) as the bank's file has it, with the totals the payment approval
-- (附表十三) ties to. The form carries whole ID numbers and bank accounts (full_ids
-- in the TOML): it goes to the finance bureau and the bank. At a million persons
-- it is the package's largest sheet (~250,000 rows): one scan of the month's
-- payout partition, no join. docs/rules.md § The forms sent with the money.
SELECT payout_no, person_no, mask_id(id_number) AS id_number, name, bank_account,
       basic_amount, account_amount, total_amount,
       CASE status WHEN 'ok' THEN '成功' WHEN 'failed' THEN '失败' ELSE status END AS status,
       paid_date
FROM payout WHERE month = report_month()
ORDER BY payout_no
