-- Name, sex or birth date on the enrollment differ from the register, names compared
-- after folding traditional/simplified, spaces of both widths and middle dots (only
-- names that differ as typed are folded: folding every name would cost a lot).
SELECT person_no AS subject, person_no,
       NULL::DATE AS month_from, NULL::DATE AS month_to, NULL::DECIMAL(18,2) AS amount_at_risk,
       'enrollment differs from id_registry: ' || concat_ws('; ',
           CASE WHEN name IS DISTINCT FROM reg_name AND norm_name(name) IS DISTINCT FROM norm_name(reg_name)
                THEN 'name ' || name || ' ≠ ' || reg_name END,
           CASE WHEN sex IS DISTINCT FROM reg_sex THEN 'sex ' || coalesce(sex, '?') || ' ≠ ' || coalesce(reg_sex, '?') END,
           CASE WHEN birth_date IS DISTINCT FROM reg_birth
                THEN 'birth date ' || coalesce(birth_date::VARCHAR, '?') || ' ≠ ' || coalesce(reg_birth::VARCHAR, '?') END
       ) AS evidence
FROM a_person
WHERE registered
  AND ((name IS DISTINCT FROM reg_name AND norm_name(name) IS DISTINCT FROM norm_name(reg_name))
       OR sex IS DISTINCT FROM reg_sex
       OR birth_date IS DISTINCT FROM reg_birth)
