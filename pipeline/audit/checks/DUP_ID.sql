-- The same ID number (a 15-digit number counts as its 18-digit form) enrolled under
-- more than one person number: one row per enrollment of the group. A malformed ID
-- identifies no one (it is ID_INVALID; two enrollments typed with one malformed
-- number are left to DUP_PERSON, which compares the persons).
WITH g AS (
    SELECT id_number, list(person_no ORDER BY person_no) AS members,
           bool_or(id_legacy15 IS NOT NULL) AS any_legacy
    FROM a_person WHERE id_valid GROUP BY id_number HAVING count(*) > 1
)
SELECT p.person_no AS subject, p.person_no,
       NULL::DATE AS month_from, NULL::DATE AS month_to, NULL::DECIMAL(18,2) AS amount_at_risk,
       'ID ' || p.id_number ||
       CASE WHEN p.id_legacy15 IS NOT NULL THEN ' (entered as 15-digit ' || p.id_legacy15 || ')' ELSE '' END ||
       ' enrolled ' || len(g.members) || ' times; enrolled ' || coalesce(p.enroll_date::VARCHAR, '?') ||
       '; also person_no ' || array_to_string(list_filter(g.members, lambda x: x <> p.person_no), ', ') AS evidence
FROM a_person p JOIN g USING (id_number)
WHERE p.id_valid
