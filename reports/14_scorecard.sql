-- Township scorecard (乡镇考核: 月督查、季考核、年考评) for the period: coverage at its
-- end, the contribution rate of those who had to pay for the latest year whose
-- deadline has passed, the bank deduction success rate over the period, the
-- certification completion of the period's year, audit findings still open and
-- those resolved in the period with the amount recovered; ranked by the score
-- 40 × coverage + 30 × contribution rate + 30 × certification completion (out of
-- 100; docs/rules.md § Township scorecard). Townships are the enrollment's (the
-- register's for coverage; the two use one list of townships).
WITH cov AS (
    SELECT township, count(*) AS eligible, count(*) FILTER (WHERE enrolled) AS covered
    FROM r_eligible GROUP BY township
), duty AS (
    SELECT township, count(*) AS contrib_required, count(*) FILTER (WHERE paid) AS contrib_paid
    FROM r_contrib_duty GROUP BY township
), deduct AS (
    SELECT e.township, count(*) AS bank_attempts, count(*) FILTER (WHERE c.status = 'ok') AS bank_ok
    FROM contribution c JOIN r_enrolled e USING (person_no)
    WHERE c.channel = 'bank' AND c.paid_date BETWEEN period_start() AND period_end()
    GROUP BY e.township
), cert_due AS (
    -- Beneficiaries from their second year of benefits on, alive and enrolled at the
    -- period's end, must be certified each year (docs/rules.md § Certification).
    SELECT e.township, e.person_no FROM r_enrolled e
    WHERE e.active AND e.benefit_start IS NOT NULL AND year(e.benefit_start) < year(period_end())
      AND e.id_number NOT IN (SELECT id_number FROM r_dead)
), cert AS (
    SELECT d.township, count(*) AS cert_required,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM certification c WHERE c.person_no = d.person_no AND c.result = 'pass'
                 AND c.year = year(period_end()) AND c.cert_date <= period_end())) AS cert_done
    FROM cert_due d GROUP BY d.township
), latest AS (
    -- Each finding's latest status change, with its date.
    SELECT finding_id, arg_max(status, seq) AS status, arg_max(try_cast(changed_at AS TIMESTAMP)::DATE, seq) AS changed_on
    FROM finding_history GROUP BY finding_id
), f AS (
    SELECT coalesce(f.township, '(未登记 not enrolled)') AS township,
           count(*) FILTER (WHERE f.status IN ('open', 'confirmed')) AS findings_open,
           count(*) FILTER (WHERE f.status IN ('dismissed', 'recovered', 'closed')
                              AND l.changed_on BETWEEN period_start() AND period_end()) AS findings_resolved,
           coalesce(sum(f.amount_at_risk) FILTER (WHERE f.status = 'recovered'
                              AND l.changed_on BETWEEN period_start() AND period_end()), 0)::DECIMAL(18,2) AS recovered
    FROM findings f LEFT JOIN latest l USING (finding_id)
    WHERE f.person_no IS NOT NULL
    GROUP BY 1
), towns AS (
    SELECT township FROM cov UNION SELECT township FROM duty UNION SELECT township FROM cert
), scored AS (
    SELECT t.township,
           coalesce(cov.eligible, 0) AS eligible, coalesce(cov.covered, 0) AS covered,
           ratio(cov.covered, cov.eligible) AS coverage_rate,
           coalesce(duty.contrib_required, 0) AS contrib_required, coalesce(duty.contrib_paid, 0) AS contrib_paid,
           ratio(duty.contrib_paid, duty.contrib_required) AS contribution_rate,
           coalesce(deduct.bank_attempts, 0) AS bank_attempts, coalesce(deduct.bank_ok, 0) AS bank_ok,
           ratio(deduct.bank_ok, deduct.bank_attempts) AS deduction_rate,
           coalesce(cert.cert_required, 0) AS cert_required, coalesce(cert.cert_done, 0) AS cert_done,
           ratio(cert.cert_done, cert.cert_required) AS cert_rate,
           coalesce(f.findings_open, 0) AS findings_open, coalesce(f.findings_resolved, 0) AS findings_resolved,
           coalesce(f.recovered, 0)::DECIMAL(18,2) AS recovered
    FROM towns t LEFT JOIN cov USING (township) LEFT JOIN duty USING (township)
    LEFT JOIN deduct USING (township) LEFT JOIN cert USING (township) LEFT JOIN f USING (township)
)
SELECT rank() OVER (ORDER BY score DESC, township) AS rank, *
FROM (
    SELECT *, round(40 * coalesce(coverage_rate, 0) + 30 * coalesce(contribution_rate, 0)
                    + 30 * coalesce(cert_rate, 0), 2)::DECIMAL(18,2) AS score
    FROM scored
)
ORDER BY rank
