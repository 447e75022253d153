-- A person's death: the ONE definition that every audit check, pre-payment screening
-- and the ledger's expected payments use (docs/rules.md § Death: the pension stops
-- from the month after death). Needs the macro as_of_end(); writes `a_death`, one row
-- per person number known to be dead by then:
--   death_date      the earliest date any source gives;
--   death_evidence  that date and every source with its own date, e.g.
--                   "死亡 2024-03-05 (cancellation 注销登记 4117…: 死亡 2024-03-05)".
-- The sources:
--   * the public-security register (newest snapshot) with status dead: its status_date;
--   * each death_record source (民政火化, 医学死亡证明, 公安户籍注销; newest snapshot
--     per source): its death_date;
--   * a cancellation with reason death (注销登记: 死亡): its event_date is the date of
--     death, known from its apply_date on (a cancellation applied after the audit month
--     is not yet known).
-- Registry facts reach an enrollment through its valid ID number (newest enrollment
-- row); a death cancellation reaches its own enrollment by person number and, through
-- its valid ID number, any other enrollment of the same person.
CREATE OR REPLACE TABLE a_death AS
WITH enr AS (
    SELECT person_no, id_number FROM enrollment
    WHERE (enroll_date IS NULL OR enroll_date <= as_of_end())
    QUALIFY row_number() OVER (PARTITION BY person_no ORDER BY _file_seq DESC, _line DESC) = 1
        AND coalesce(_flags, '') NOT LIKE '%ID_INVALID%'
), reg AS (
    SELECT id_number, status, status_date FROM id_registry
    QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY _line DESC) = 1
), cancelled AS (
    SELECT person_no, id_number, coalesce(_flags, '') NOT LIKE '%ID_INVALID%' AS id_ok,
           event_date AS death_date,
           'cancellation 注销登记 ' || person_no || ': 死亡' AS source
    FROM cancellation
    WHERE reason = 'death' AND apply_date <= as_of_end() AND event_date IS NOT NULL
), by_id AS (
    SELECT id_number, death_date,
           CASE source WHEN 'cremation' THEN 'death_record 民政火化'
                       WHEN 'medical' THEN 'death_record 医学死亡证明'
                       WHEN 'police' THEN 'death_record 公安户籍注销'
                       ELSE 'death_record ' || source END AS source
    FROM death_record WHERE death_date IS NOT NULL
    UNION ALL
    SELECT id_number, status_date, 'id_registry 户籍状态=死亡' FROM reg
    WHERE status = 'dead' AND status_date IS NOT NULL
    UNION ALL
    SELECT id_number, death_date, source FROM cancelled WHERE id_ok
), src AS (
    SELECT e.person_no, b.death_date, b.source FROM enr e JOIN by_id b USING (id_number)
    UNION
    SELECT person_no, death_date, source FROM cancelled
)
SELECT person_no, min(death_date) AS death_date,
       '死亡 ' || strftime(min(death_date), '%Y-%m-%d') || ' (' ||
       array_to_string(list_sort(list_distinct(list(source || ' ' || strftime(death_date, '%Y-%m-%d')))), '; ') ||
       ')' AS death_evidence
FROM src WHERE death_date <= as_of_end()
GROUP BY person_no;
