-- Enrollment movements by township of the enrollment: in register now, new and
-- cancelled this month and this year, and the agreement rate (三方协议签订率 =
-- enrolled with a bank deduction agreement ÷ enrolled who pay by bank).
SELECT township,
       count(*) FILTER (WHERE active) AS enrolled,
       count(*) FILTER (WHERE enroll_date >= report_month()) AS new_month,
       count(*) FILTER (WHERE enroll_date >= year_start()) AS new_ytd,
       count(*) FILTER (WHERE cancel_apply >= report_month()) AS cancelled_month,
       count(*) FILTER (WHERE cancel_apply >= year_start()) AS cancelled_ytd,
       count(*) FILTER (WHERE active AND benefit_start IS NOT NULL) AS beneficiaries_enrolled,
       count(*) FILTER (WHERE active AND channel = 'bank') AS bank_payers,
       count(*) FILTER (WHERE active AND channel = 'bank' AND agreement) AS agreements,
       ratio(count(*) FILTER (WHERE active AND channel = 'bank' AND agreement),
             count(*) FILTER (WHERE active AND channel = 'bank')) AS agreement_rate
FROM r_enrolled
GROUP BY township ORDER BY township
