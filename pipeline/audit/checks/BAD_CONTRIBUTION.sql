-- A successful contribution paid before the 16th birthday or after death (death as
-- death.sql defines it: register, death records or a death cancellation), or a
-- normal or prepaid (not back-paid) contribution for a year after the year of the 60th
-- birthday: a prepayment (预缴) is the contribution of the year it covers
-- (docs/rules.md § BAD_CONTRIBUTION).
WITH c AS (
    SELECT c.person_no, c.paid_date, c.amount, c.kind, c.year, c.voucher_no, p.birth, p.death_evidence,
           c.paid_date < p.birth + INTERVAL (p_min_age()) YEAR AS before_min_age,
           p.death_date IS NOT NULL AND c.paid_date > p.death_date AS after_death,
           c.kind IN ('normal', 'prepay') AND c.year > year(p.birth) + p_pension_age() AS after_pension_age
    FROM contribution c JOIN a_person p USING (person_no)
    WHERE c.status = 'ok' AND c.paid_date <= as_of_end()
)
SELECT person_no AS subject, person_no,
       date_trunc('month', min(paid_date))::DATE AS month_from,
       date_trunc('month', max(paid_date))::DATE AS month_to,
       sum(amount) AS amount_at_risk,
       string_agg(voucher_no || ' paid ' || paid_date::VARCHAR || ' ' || amount::VARCHAR || ' for ' || year || ': ' ||
                  concat_ws(', ',
                      CASE WHEN before_min_age THEN 'before the ' || p_min_age() || 'th birthday (born ' || birth::VARCHAR || ')' END,
                      CASE WHEN after_death THEN 'after death' END,
                      CASE WHEN after_pension_age THEN CASE kind WHEN 'prepay' THEN 'prepaid' ELSE 'normal' END ||
                           ' contribution for a year after the year of the ' ||
                           p_pension_age() || 'th birthday (born ' || birth::VARCHAR || ')' END),
                  '; ' ORDER BY paid_date, voucher_no) ||
       CASE WHEN bool_or(after_death) THEN '; ' || any_value(death_evidence) ELSE '' END AS evidence
FROM c
WHERE before_min_age OR after_death OR after_pension_age
GROUP BY person_no
