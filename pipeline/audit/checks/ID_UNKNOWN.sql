-- ID number not in the public-security register (newest snapshot). A malformed ID
-- cannot be in it either. Amount at risk: what was paid to that identity.
-- Also (a variant the rules imply): pensions paid to a person number that was never
-- enrolled — a ghost payee added to the payout file.
WITH paid AS (SELECT person_no, n, total, m0, m1 FROM a_paid_person)
SELECT p.person_no AS subject, p.person_no,
       paid.m0 AS month_from, paid.m1 AS month_to, paid.total AS amount_at_risk,
       'ID ' || p.id_number ||
       CASE WHEN p.id_valid THEN ' not found in id_registry (公安人口信息)'
            ELSE ' is malformed and cannot match id_registry (' || coalesce(p.id_problem, '') || ')' END ||
       coalesce('; ' || paid.n || ' payment(s) ' || ym(paid.m0) || '..' || ym(paid.m1) ||
                ' totalling ' || paid.total::VARCHAR, '') AS evidence,
       'ID ' || p.id_number || CASE WHEN p.id_valid THEN ' unregistered' ELSE ' malformed' END AS evidence_key
FROM a_person p LEFT JOIN paid USING (person_no)
WHERE NOT p.registered
UNION ALL BY NAME
SELECT y.person_no AS subject, y.person_no, w.paid_id AS id_number, w.paid_name AS name,
       y.m0 AS month_from, y.m1 AS month_to, y.total AS amount_at_risk,
       'payout to person_no ' || y.person_no || ' (ID ' || coalesce(w.paid_id, '?') || ', ' ||
       coalesce(w.paid_name, '?') || ') which has no enrollment; ' || y.n || ' payment(s) ' ||
       ym(y.m0) || '..' || ym(y.m1) || ' totalling ' || y.total::VARCHAR AS evidence,
       'no enrollment ' || y.person_no AS evidence_key
FROM (SELECT * FROM a_paid_person g WHERE NOT EXISTS (SELECT 1 FROM a_person p WHERE p.person_no = g.person_no)) y
LEFT JOIN (
    SELECT s.person_no, min(s.id_number) AS paid_id, min(s.name) AS paid_name
    FROM a_payout_src s
    WHERE s.status = 'ok' AND s.month <= as_of_month()
      AND s.person_no IN (SELECT g.person_no FROM a_paid_person g
                          WHERE NOT EXISTS (SELECT 1 FROM a_person p WHERE p.person_no = g.person_no))
    GROUP BY s.person_no
) w USING (person_no)
