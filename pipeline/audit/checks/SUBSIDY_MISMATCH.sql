-- Government contribution subsidy per person and year ≠ the tier standard of that
-- year's normal (or prepaid) successful contribution, level by level; a subsidy on
-- a back-paid year or without a successful contribution is all excess; and a year
-- whose contribution received no subsidy at all, once it was due — by the end of the
-- month of the contribution (credited with it), for a prepayment by the end of the
-- carry month of the year it covers — is all shortfall (docs/rules.md § SUBSIDY_MISMATCH).
WITH got AS (
    SELECT person_no, year, min(credited_date) AS first_credit,
           sum(amount) FILTER (WHERE level = 'central') AS central,
           sum(amount) FILTER (WHERE level = 'province') AS province,
           sum(amount) FILTER (WHERE level = 'city') AS city,
           sum(amount) FILTER (WHERE level = 'county') AS county,
           sum(amount) AS total
    FROM government_subsidy
    WHERE kind = 'contribution' AND credited_date <= as_of_end()
    GROUP BY person_no, year
), basis AS (
    SELECT person_no, year, amount AS tier_amount, kind,
           CASE WHEN kind = 'prepay'
                THEN greatest(make_date(year, p_prepaid_carry_month(), 1), date_trunc('month', paid_date)::DATE)
                ELSE date_trunc('month', paid_date)::DATE END AS due_month
    FROM contribution
    WHERE status = 'ok' AND kind <> 'backpay' AND paid_date <= as_of_end()
    QUALIFY row_number() OVER (PARTITION BY person_no, year ORDER BY paid_date, _file_seq, _line) = 1
), backpaid AS (
    SELECT person_no, year, count(*) AS n FROM contribution
    WHERE status = 'ok' AND kind = 'backpay' GROUP BY person_no, year
), tiers AS (
    SELECT tier, arg_max(subsidy, _file_seq) AS subsidy, arg_max(central, _file_seq) AS central,
           arg_max(province, _file_seq) AS province, arg_max(city, _file_seq) AS city,
           arg_max(county, _file_seq) AS county
    FROM tier_subsidy GROUP BY tier
), cmp AS (
    -- every year that received a subsidy, and every contribution year whose subsidy is
    -- due: one full join (person_no and year are required fields, never NULL)
    SELECT coalesce(g.person_no, b.person_no) AS person_no, coalesce(g.year, b.year) AS year,
           g.first_credit, g.central, g.province, g.city, g.county,
           coalesce(g.total, 0) AS total, g.total IS NULL AS none_received,
           b.tier_amount, b.kind AS basis_kind, b.due_month,
           coalesce(t.subsidy, 0) AS want_total,
           t.central AS w_central, t.province AS w_province, t.city AS w_city, t.county AS w_county,
           coalesce(bp.n, 0) AS backpaid
    FROM got g
    FULL JOIN basis b ON b.person_no = g.person_no AND b.year = g.year
    LEFT JOIN backpaid bp ON bp.person_no = coalesce(g.person_no, b.person_no) AND bp.year = coalesce(g.year, b.year)
    LEFT JOIN tiers t ON b.tier_amount IS NOT NULL AND t.tier = b.tier_amount
    WHERE g.person_no IS NOT NULL OR b.due_month <= as_of_month()
), bad AS (
    SELECT *, total - want_total AS excess,
           coalesce(date_trunc('month', first_credit)::DATE, due_month) AS m
    FROM cmp
    WHERE CASE WHEN w_central IS NULL AND w_province IS NULL AND w_city IS NULL AND w_county IS NULL
               THEN total <> want_total
               ELSE coalesce(central, 0) <> coalesce(w_central, 0) OR coalesce(province, 0) <> coalesce(w_province, 0)
                 OR coalesce(city, 0) <> coalesce(w_city, 0) OR coalesce(county, 0) <> coalesce(w_county, 0) END
)
SELECT person_no AS subject, person_no,
       min(m) AS month_from, max(m) AS month_to,
       sum(excess) AS amount_at_risk,
       string_agg(year || ': ' ||
                  CASE WHEN none_received THEN 'no subsidy credited'
                       ELSE 'subsidy ' || total::VARCHAR || ' (' ||
                            concat_ws(' ', 'central ' || central::VARCHAR, 'province ' || province::VARCHAR,
                                      'city ' || city::VARCHAR, 'county ' || county::VARCHAR) || ')' END ||
                  ' but ' ||
                  CASE WHEN tier_amount IS NOT NULL
                       THEN 'tier ' || tier_amount::VARCHAR || ' gives ' || want_total::VARCHAR ||
                            CASE WHEN none_received
                                 THEN ' (' || CASE basis_kind WHEN 'prepay' THEN 'prepaid' ELSE 'contributed' END ||
                                      ', due by ' || ym(due_month) || ')'
                                 ELSE '' END
                       WHEN backpaid > 0 THEN 'the year was back-paid (补缴, no subsidy)'
                       ELSE 'no successful contribution for the year' END,
                  '; ' ORDER BY year) AS evidence
FROM bad
GROUP BY person_no
