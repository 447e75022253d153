-- One bank account receives pensions for persons of different villages, or for more
-- than p_shared_max() persons (a couple of one village sharing a card is normal).
-- Villages are compared as norm_place() folds them (prelude.sql; docs/rules.md
-- § SHARED_ACCOUNT), so a village typed two ways is one village.
WITH acc AS (
    SELECT bank_account, person_no, total AS paid, m0, m1
    FROM a_paid_bank WHERE bank_account IS NOT NULL
), shared AS (
    -- only an account paid to two persons or more can be a finding: fold the places
    -- of those persons only
    SELECT bank_account FROM acc GROUP BY bank_account HAVING count(*) > 1
), g AS (
    SELECT acc.bank_account, count(*) AS n,
           list(acc.person_no || ' ' || coalesce(p.name, '?') || ' (' || coalesce(p.township, '?') || coalesce(p.village, '?') || ')'
                ORDER BY acc.person_no) AS who
    FROM acc JOIN shared USING (bank_account) LEFT JOIN a_person p USING (person_no)
    GROUP BY acc.bank_account
    HAVING count(*) > p_shared_max()
        -- one village however it was typed: 李集村 = 李集 = 李集村委会 = "李集 村"
        OR count(DISTINCT coalesce(nullif(norm_place(p.township), ''), '?') || '/' ||
                          coalesce(nullif(norm_place(p.village), ''), '?')) > 1
)
SELECT acc.person_no AS subject, acc.person_no,
       min(acc.m0) AS month_from, max(acc.m1) AS month_to, sum(acc.paid) AS amount_at_risk,
       string_agg('bank account ' || g.bank_account || ' receives pensions of ' || g.n || ' persons: ' ||
                  array_to_string(g.who, ', '), '; ' ORDER BY g.bank_account) AS evidence,
       string_agg(g.bank_account || ': ' || array_to_string(g.who, ', '), '; ' ORDER BY g.bank_account) AS evidence_key
FROM acc JOIN g USING (bank_account)
GROUP BY acc.person_no
