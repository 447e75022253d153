-- Village public notice, part 2: beneficiaries whose payment stops, with the reason:
-- a cancellation applied for in the notice month (death, emigration, …), a
-- suspension starting in it (imprisonment, not certified, other), or a death
-- recorded in it (civil affairs, medical certificate, police) for a beneficiary not
-- yet cancelled. Masked as part 1; one line per person (the first reason).
WITH b AS (
    SELECT * FROM r_enrolled WHERE benefit_start IS NOT NULL AND benefit_start <= report_month()
), stops AS (
    SELECT c.person_no, 1 AS ord, '注销：' || CASE c.reason WHEN 'death' THEN '死亡' WHEN 'emigration' THEN '出国(境)定居'
               WHEN 'hukou_change' THEN '户籍性质变更' WHEN 'transfer_out' THEN '跨县转出'
               WHEN 'employee_pension' THEN '参加职工养老保险' ELSE '其他' END AS reason,
           c.event_date AS event_date,
           CASE WHEN c.reason = 'death' THEN (date_trunc('month', c.event_date) + INTERVAL 1 MONTH)::DATE
                ELSE date_trunc('month', c.apply_date)::DATE END AS stop_month
    FROM cancellation c WHERE c.apply_date BETWEEN report_month() AND report_end()
    UNION ALL
    SELECT s.person_no, 2, '暂停：' || CASE s.reason WHEN 'prison' THEN '服刑' WHEN 'uncertified' THEN '未认证' ELSE '其他' END,
           s.start_month, s.start_month
    FROM suspension s WHERE s.start_month = report_month()
    UNION ALL
    SELECT b.person_no, 3, '死亡（' || CASE d.source WHEN 'cremation' THEN '民政火化' WHEN 'medical' THEN '医学死亡证明'
               ELSE '公安户籍注销' END || '）', d.death_date,
           (date_trunc('month', d.death_date) + INTERVAL 1 MONTH)::DATE
    FROM death_record d JOIN b ON b.id_number = d.id_number
    WHERE d.record_date BETWEEN report_month() AND report_end() AND b.active
)
SELECT b.township, b.village, b.name, sex_zh(b.sex) AS sex, masked_id(b.id_number) AS id_masked,
       arg_min(s.reason, s.ord) AS reason, arg_min(s.event_date, s.ord) AS event_date,
       ym(arg_min(s.stop_month, s.ord)) AS stop_month
FROM stops s JOIN b USING (person_no)
GROUP BY b.person_no, b.township, b.village, b.name, b.sex, b.id_number
ORDER BY b.township, b.village, b.name
