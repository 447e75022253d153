-- ID number malformed (length, region, impossible birth date, check character) on
-- any business record of the person: ingestion kept the row and flagged it.
WITH flagged AS (
    SELECT 'enrollment' AS kind, person_no, id_number, _flags FROM enrollment WHERE _flags LIKE '%ID_INVALID%'
    UNION ALL SELECT 'payout', person_no, id_number, _flags FROM a_payout_src
        WHERE _flags LIKE '%ID_INVALID%' AND month <= as_of_month()
    UNION ALL SELECT 'contribution', person_no, id_number, _flags FROM contribution WHERE _flags LIKE '%ID_INVALID%'
    UNION ALL SELECT 'cancellation', person_no, id_number, _flags FROM cancellation WHERE _flags LIKE '%ID_INVALID%'
    UNION ALL SELECT 'benefit_approval', person_no, id_number, _flags FROM benefit_approval WHERE _flags LIKE '%ID_INVALID%'
    UNION ALL SELECT 'transfer', person_no, id_number, _flags FROM transfer WHERE _flags LIKE '%ID_INVALID%'
), per_kind AS (
    SELECT person_no, kind, count(*) AS n, min(id_number) AS id_number,
           min(regexp_extract(_flags, 'ID_INVALID: ([^|]*)', 1)) AS problem
    FROM flagged GROUP BY person_no, kind
)
SELECT person_no AS subject, person_no, min(id_number) AS id_number,
       NULL::DATE AS month_from, NULL::DATE AS month_to, NULL::DECIMAL(18,2) AS amount_at_risk,
       min(problem) || '; on ' || string_agg(kind || ' ×' || n, ', ' ORDER BY kind) AS evidence,
       min(id_number) || ' ' || min(problem) AS evidence_key
FROM per_kind
GROUP BY person_no
